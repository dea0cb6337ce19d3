'use strict';
// The MessagePack writer for requests (lib/encode.js), without a server:
// what it writes reads back, a frame's header, writes begun from a getter,
// and views of its scratch buffer. (Value types, the nesting limit and their
// errors through the client: client-value-types.test.js, deep.test.js.)
const assert = require('assert');

const { encode, frame } = require('../lib/encode');
const { decode, constants } = require('../lib/native');

const { headerSize: HEADER, magic: MAGIC, version: VERSION, msg: MSG } = constants;

describe('lib/encode.js', () => {
  it('writes what the core reads back: every kind of value, strings of every length class', () => {
    const value = {
      s: ['', 'a', 'é', '😀', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(256), 'z'.repeat(70000)],
      n: [0, 127, 128, -32, -33, 65536, 2 ** 32, 2 ** 53 - 1, -(2 ** 31) - 1, 0.5, -0.25],
      b: [true, false, null],
      nested: { a: [{ b: [[1]] }] },
      bin: Buffer.from([1, 2, 3]),
    };
    const back = decode(encode(value), { int64: 'number' });
    assert.deepStrictEqual({ ...back, bin: [...back.bin] }, { ...value, bin: [1, 2, 3] });
  });

  it('a frame: the header (magic, version, type, no flags, payload length), then the payload', () => {
    const f = frame(MSG.CREATE, { collection: 'c', data: { k: 1 } });
    const payload = encode({ collection: 'c', data: { k: 1 } });
    assert.strictEqual(f.readUInt32BE(0), MAGIC);
    assert.strictEqual(f[4], VERSION);
    assert.strictEqual(f[5], MSG.CREATE);
    assert.strictEqual(f.readUInt16BE(6), 0);
    assert.strictEqual(f.readUInt32BE(8), payload.length);
    assert.ok(f.subarray(HEADER).equals(payload));
  });

  it('a getter that writes a request of its own while the value is written: both come out whole', () => {
    let inner;
    const value = {
      before: 'b'.repeat(40),
      get during() {
        inner = frame(MSG.PING, { nested: ['x'.repeat(50), 2] }, 0, false);
        return 'd';
      },
      after: [1, 2, 3],
    };
    const outer = encode(value);
    assert.deepStrictEqual(decode(outer), { before: 'b'.repeat(40), during: 'd', after: [1, 2, 3] });
    assert.deepStrictEqual(decode(inner.subarray(HEADER)), { nested: ['x'.repeat(50), 2] });
  });

  it('a view of the scratch buffer stays whole after a large write lets the buffer go, until the next write', () => {
    const big = frame(MSG.CREATE, { collection: 'c', data: { text: 't'.repeat(3 << 20) } }, 0, false);
    const copy = Buffer.from(big);
    const small = frame(MSG.PING, {}, 0, false);
    assert.ok(big.equals(copy), 'the large frame was not written over');
    assert.deepStrictEqual(decode(small.subarray(HEADER)), {});
  });

  it('the document rule: a root key with a deeper envelope (documents, results, filters, updateDescription) allows that many levels more', () => {
    const nest = (levels) => {
      let v = { leaf: 1 };
      for (let i = 1; i < levels; i++) v = { next: v };
      return v;
    };
    const max = constants.maxDocDepth;
    assert.doesNotThrow(() => encode({ data: nest(max) }));
    assert.throws(() => encode({ data: nest(max + 1) }), (e) => e instanceof TypeError && e.code === 'NEXA_ENCODE');
    for (const [key, levels] of Object.entries(constants.docEnvelope)) {
      assert.doesNotThrow(() => encode({ [key]: nest(max + levels - 1) }), key);
      assert.throws(() => encode({ [key]: nest(max + levels) }), TypeError, key);
    }
    assert.throws(() => encode({ constructor: nest(max + 1) }), TypeError, 'a key of Object.prototype is no envelope');
  });
});
