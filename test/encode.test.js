'use strict';
// The MessagePack writer for requests (lib/encode.js), without a server:
// what it writes reads back, a frame's header, writes begun from a getter,
// and views of its scratch buffer. (Value types, the nesting limit and their
// errors through the client: client-value-types.test.js, deep.test.js.)
const assert = require('assert');

const { encode, frame } = require('../lib/encode');
const { addon, decode, constants } = require('../lib/native');

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

  it("values read through the built-in getters: a view's bytes whatever its own properties say, a detached one as empty, a Date whatever its prototype", () => {
    const own = new Uint8Array([1, 2, 3]);
    Object.defineProperty(own, 'byteLength', { value: 1 });
    Object.defineProperty(own, 'buffer', { value: new Uint8Array([9, 9, 9]).buffer });
    const detached = new Uint8Array(new ArrayBuffer(4));
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    const view = new DataView(new ArrayBuffer(4));
    structuredClone(view.buffer, { transfer: [view.buffer] });
    const date = new Date(Date.UTC(2026, 11, 2, 19, 30));
    Object.setPrototypeOf(date, null);
    const back = decode(encode({ own, detached, view, date }));
    assert.deepStrictEqual([[...back.own], [...back.detached], [...back.view], back.date], [[1, 2, 3], [], [], '2026-12-02T19:30:00.000Z']);
  });

  it('a Proxy of an array goes as an array (as reactive arrays of UI frameworks are)', () => {
    assert.deepStrictEqual(decode(encode({ list: new Proxy([1, 2, 3], {}) })), { list: [1, 2, 3] });
  });

  it("the addon's request() takes a frame's bytes only: anything else is a TypeError, nothing sent", () => {
    for (const bad of ['frame', { type: 1 }, new Uint16Array(4), undefined]) {
      assert.throws(() => addon.request(1, 1, bad), (e) => e instanceof TypeError && /frame must be a Uint8Array/.test(e.message));
    }
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
