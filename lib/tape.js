'use strict';
// Reads the change events and answers of a batch from the tape the worker
// thread built (src/core/tape.h): ops, numbers, the strings in segments of a
// few KiB, bin bytes. Keys, shapes and events' short values are interned on
// the worker's side; this decoder mirrors its tables, reading the
// announcements in order.
// Objects of a known shape come from a generated function whose body is an
// object literal, so V8 gives every event of a shape the same hidden class.

// The ops and modes as the core numbers them (src/core/tape.h, src/binding/convert.h),
// copied into constants once so that the switch below and the generated
// builders compare with plain numbers.
const { tape: T, int64: MODE } = require('./native').constants;
const { setOwn } = require('./own-property');

const T_STR = T.STR;
const T_NUM = T.NUM;
const T_U64 = T.U64;
const T_I64 = T.I64;
const T_TRUE = T.TRUE;
const T_FALSE = T.FALSE;
const T_NULL = T.NULL;
const T_BIN = T.BIN;
const T_ARR = T.ARR;
const T_MAP = T.MAP;
const T_MAPK = T.MAPK;
const T_KEY = T.KEY;
const T_VAL = T.VAL;
const T_NEWKEY = T.NEWKEY;
const T_NEWSHAPE = T.NEWSHAPE;
const T_NEWVAL = T.NEWVAL;
const T_SEG = T.SEG;

const TWO32 = 4294967296;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const MODE_NUMBER = MODE.number;
const MODE_BIGINT = MODE.bigint;
const MODE_STRING = MODE.string;

/**
 * A shape's builder: `{"k0": <value>, "k1": <value>, ...}`, values read in
 * key order. The common values (an interned string, a string, a number, a
 * map of a known shape, true / false / null) are read inline, with the tape position in a local;
 * anything else (a nested map or array, a table announcement, a new string
 * segment, int64, bin) goes through d.value(), after which the segment is
 * read again (an answer's strings may begin a new one). `__proto__` is
 * written as a computed key, which defines an own property instead of
 * setting the prototype (what own-property.js `setOwn` does where keys are
 * set one by one).
 */
function shapeBuilder(keys) {
  const value = `((op = o[p++]) === ${T_VAL} ? vals[o[p++]]` +
    ` : op === ${T_STR} ? (a = o[p], p += 2, s.slice(a, a + o[p - 1]))` +
    ` : op === ${T_NUM} ? d.nums[d.np++]` +
    ` : op === ${T_MAP} ? (d.p = p + 1, x = d.shapes[o[p]](d), p = d.p, s = d.str, x)` +
    ` : op === ${T_TRUE} ? true : op === ${T_FALSE} ? false : op === ${T_NULL} ? null` +
    ' : (d.p = p - 1, x = d.value(), p = d.p, s = d.str, x))';
  const parts = keys.map((k) => `${k === '__proto__' ? '["__proto__"]' : JSON.stringify(k)}: ${value}`);
  // eslint-disable-next-line no-new-func
  return new Function('d', 'const o = d.ops, vals = d.vals; let s = d.str, p = d.p, op = 0, a = 0, x;\n' +
    `const r = {${parts.join(',\n')}};\nd.p = p;\nreturn r;`);
}

/**
 * A copy of a key that is not a slice of the batch's text: V8 keeps a
 * slice's whole parent string alive, and the key table lives as long as the
 * process. Slices start at 13 characters; a property name is interned, as a
 * string of its own.
 */
function ownString(k) {
  return k.length < 13 ? k : Object.keys({ [k]: 0 })[0];
}

class TapeDecoder {
  constructor() {
    this.keys = [];
    this.shapes = [];
    this.vals = [];
    this.str = '';
    this.segs = null;
    this.seg = 0;
    this.ops = null;
    this.nums = null;
    this.bins = null;
    this.p = 0;
    this.np = 0;
    this.mode = MODE_NUMBER;
  }

  /**
   * The arrays batches come in (Uint32Array ops, Float64Array nums,
   * Uint8Array bins): the addon reuses them from batch to batch and says
   * when they change.
   */
  arrays(ops, nums, bins) {
    this.ops = ops;
    this.nums = nums;
    this.bins = bins;
  }

  /**
   * Starts a batch's tape: its strings, in segments (T_SEG moves to the
   * next); the arrays hold the rest.
   */
  begin(segs) {
    this.segs = segs;
    this.seg = 0;
    this.str = segs[0];
    this.p = 0;
    this.np = 0;
  }

  /** Ends a batch: keeps no reference to its text. */
  end() {
    this.segs = null;
    this.str = '';
  }

  /** The next `count` events, with their connection's int64 mode. */
  events(count, mode) {
    this.mode = mode;
    const ops = this.ops;
    const evs = new Array(count);
    for (let k = 0; k < count; k++) {
      if (ops[this.p] === T_MAP) { // a known shape, most events: straight to its builder
        const shape = ops[this.p + 1];
        this.p += 2;
        evs[k] = this.shapes[shape](this);
      } else {
        evs[k] = this.value();
      }
    }
    return evs;
  }

  /** The next payload (an answer), with its connection's int64 mode. */
  payload(mode) {
    this.mode = mode;
    return this.value();
  }

  /** The next value. */
  value() {
    const ops = this.ops;
    for (;;) {
      const op = ops[this.p++];
      switch (op) {
        case T_VAL: return this.vals[ops[this.p++]];
        case T_NUM: return this.nums[this.np++];
        case T_STR: {
          const off = ops[this.p];
          const len = ops[this.p + 1];
          this.p += 2;
          return this.str.slice(off, off + len);
        }
        case T_MAP: return this.shapes[ops[this.p++]](this);
        case T_ARR: {
          const n = ops[this.p++];
          const a = new Array(n);
          for (let i = 0; i < n; i++) a[i] = this.value();
          return a;
        }
        case T_TRUE: return true;
        case T_FALSE: return false;
        case T_NULL: return null;
        case T_MAPK: return this.mapk();
        case T_U64: case T_I64: return this.int64(op);
        case T_BIN: {
          const off = ops[this.p];
          const len = ops[this.p + 1];
          this.p += 2;
          return Buffer.from(this.bins.subarray(off, off + len)); // a copy: the batch goes away
        }
        case T_NEWKEY: {
          const id = ops[this.p];
          const off = ops[this.p + 1];
          this.keys[id] = ownString(this.str.slice(off, off + ops[this.p + 2]));
          this.p += 3;
          break;
        }
        case T_NEWVAL: {
          const id = ops[this.p];
          const off = ops[this.p + 1];
          this.vals[id] = this.str.slice(off, off + ops[this.p + 2]);
          this.p += 3;
          break;
        }
        case T_SEG:
          this.str = this.segs[++this.seg];
          break;
        case T_NEWSHAPE: {
          const id = ops[this.p];
          const n = ops[this.p + 1];
          const keys = [];
          for (let i = 0; i < n; i++) keys.push(this.keys[ops[this.p + 2 + i]]);
          this.shapes[id] = shapeBuilder(keys);
          this.p += 2 + n;
          break;
        }
        default:
          throw new Error(`nexaclient: corrupt event tape (op ${op} at ${this.p - 1})`);
      }
    }
  }

  /** A map whose shape is not interned: key, value pairs. */
  mapk() {
    const ops = this.ops;
    const n = ops[this.p++];
    const o = {};
    for (let i = 0; i < n; i++) {
      let k;
      if (ops[this.p] === T_KEY) {
        k = this.keys[ops[this.p + 1]];
        this.p += 2;
      } else {
        k = this.value();
      }
      const val = this.value();
      // Checked here too: the common case stays a plain store, on the event path.
      if (k === '__proto__') setOwn(o, k, val);
      else o[k] = val;
    }
    return o;
  }

  /** An integer beyond 32 bits, as the connection's int64 mode says. */
  int64(op) {
    const lo = this.ops[this.p];
    const hi = this.ops[this.p + 1];
    this.p += 2;
    const mode = this.mode;
    let num;
    if (op === T_U64) {
      num = hi * TWO32 + lo;
    } else {
      num = (hi | 0) * TWO32 + lo; // negative: hi is the signed upper word
    }
    const unsafe = num > MAX_SAFE || num < -MAX_SAFE;
    if (mode === MODE_NUMBER || (!unsafe && mode !== MODE_BIGINT)) return num;
    let big = (BigInt(hi) << 32n) | BigInt(lo);
    if (op === T_I64) big = BigInt.asIntN(64, big);
    return mode === MODE_STRING ? big.toString() : big;
  }
}

module.exports = { TapeDecoder };
