'use strict';
// The tape decoder alone, fed tapes written by hand as the worker writes
// them (src/core/tape.h), with the ops' numbers from the addon: no server,
// no socket, no C.
const assert = require('assert');
const { TapeDecoder } = require('../lib/tape');
const { tape: T, int64: MODE } = require('../lib/native').constants;

/** A batch: ops, numbers, bin bytes and text segments, decoded into `events` events. */
function feed(decoder, { ops, nums = [], bins = [], segs }, events, mode = MODE.number) {
  decoder.arrays(Uint32Array.from(ops), Float64Array.from(nums), Uint8Array.from(bins));
  decoder.begin(segs);
  const out = decoder.events(events, mode);
  decoder.end();
  return out;
}

describe('tape decoder (synthetic tapes)', () => {
  it('announced keys, a shape and an interned value build objects of that shape; the tables last across batches', () => {
    const d = new TapeDecoder();
    // text: "opinsertn" — key 0 "op" (0,2), value 0 "insert" (2,6), key 1 "n" (8,1)
    const first = feed(d, {
      segs: ['opinsertn'],
      ops: [T.NEWKEY, 0, 0, 2, T.NEWVAL, 0, 2, 6, T.NEWKEY, 1, 8, 1, T.NEWSHAPE, 0, 2, 0, 1,
        T.MAP, 0, T.VAL, 0, T.NUM,
        T.MAP, 0, T.VAL, 0, T.NUM],
      nums: [1, 2.5],
    }, 2);
    assert.deepStrictEqual(first, [{ op: 'insert', n: 1 }, { op: 'insert', n: 2.5 }]);
    const second = feed(d, { segs: ['x'], ops: [T.MAP, 0, T.STR, 0, 1, T.TRUE] }, 1);
    assert.deepStrictEqual(second, [{ op: 'x', n: true }], 'the next batch uses the tables without announcing them again');
  });

  it('arrays, maps without a shape (a __proto__ key stays an own property), null, false, bin bytes copied out of the batch', () => {
    const d = new TapeDecoder();
    const bins = [1, 2, 3];
    const [ev] = feed(d, {
      segs: ['__proto__ab'],
      ops: [T.MAPK, 3, T.STR, 0, 9, T.ARR, 3, T.NULL, T.FALSE, T.NUM, T.STR, 9, 1, T.BIN, 0, 3, T.STR, 10, 1, T.MAPK, 0],
      nums: [7],
      bins,
    }, 1);
    assert.deepStrictEqual(Object.keys(ev), ['__proto__', 'a', 'b']);
    assert.strictEqual(Object.getPrototypeOf(ev), Object.prototype);
    assert.deepStrictEqual(ev.__proto__, [null, false, 7]); // eslint-disable-line no-proto
    assert.deepStrictEqual([...ev.a], [1, 2, 3]);
    assert.ok(Buffer.isBuffer(ev.a));
    bins[0] = 9;
    assert.strictEqual(ev.a[0], 1, 'a copy, not a view of the batch');
    assert.deepStrictEqual(ev.b, {});
  });

  it('strings continue in the next segment after SEG; offsets restart there', () => {
    const d = new TapeDecoder();
    const evs = feed(d, { segs: ['hello', 'world'], ops: [T.STR, 0, 5, T.SEG, T.STR, 0, 5] }, 2);
    assert.deepStrictEqual(evs, ['hello', 'world']);
  });

  it('inside an answer a segment may begin before any string, in a nested map or a key; what follows reads the new one', () => {
    const d = new TapeDecoder();
    // key 0 "a", key 1 "b" (segment 0); shape 0 {a, b}; shape 1 {a}
    const ops = [T.NEWKEY, 0, 0, 1, T.NEWKEY, 1, 1, 1, T.NEWSHAPE, 0, 2, 0, 1, T.NEWSHAPE, 1, 1, 0,
      T.MAP, 0, // {a: {a: <seg 1> 'xx'}, b: 'yyy'}: b's string is in segment 1 too
      T.MAP, 1, T.SEG, T.STR, 0, 2,
      T.STR, 2, 3,
      T.MAPK, 1, T.SEG, T.STR, 0, 1, T.STR, 1, 2]; // {k: 'zz'}, its key the first string of segment 2
    d.arrays(Uint32Array.from(ops), new Float64Array(0), new Uint8Array(0));
    d.begin(['ab', 'xxyyy', 'kzz']);
    const first = d.payload(MODE.number);
    const second = d.payload(MODE.number);
    d.end();
    assert.deepStrictEqual(first, { a: { a: 'xx' }, b: 'yyy' });
    assert.deepStrictEqual(second, { k: 'zz' });
  });

  it('integers beyond 32 bits in each int64 mode', () => {
    const big = [T.U64, 0xffffffff, 0xffffffff]; // 2^64 - 1
    const neg = [T.I64, 0, 0x80000000]; // -2^63
    const safe = [T.U64, 1, 1]; // 2^32 + 1
    const d = new TapeDecoder();
    const run = (mode) => feed(d, { segs: [''], ops: [...big, ...neg, ...safe] }, 3, mode);
    assert.deepStrictEqual(run(MODE.number), [2 ** 64, -(2 ** 63), 2 ** 32 + 1]);
    assert.deepStrictEqual(run(MODE.bigint), [2n ** 64n - 1n, -(2n ** 63n), 2n ** 32n + 1n]);
    assert.deepStrictEqual(run(MODE.auto), [2n ** 64n - 1n, -(2n ** 63n), 2 ** 32 + 1]);
    assert.deepStrictEqual(run(MODE.string), ['18446744073709551615', '-9223372036854775808', 2 ** 32 + 1]);
  });

  it('an unknown op is a clear error naming it and where', () => {
    const d = new TapeDecoder();
    assert.throws(() => feed(d, { segs: [''], ops: [T.NUM, 99] }, 2, MODE.number), /corrupt event tape \(op 99 at 1\)/);
  });
});
