'use strict';
// JS values to MessagePack, for the payloads the client and the dev server
// send. It runs where the value lives, on the calling thread, in plain JS:
// reading a value through N-API cost a call per key, per value and per type
// test, several times what writing the bytes here costs. Containers wait on a
// stack of their own, so any depth the limit allows is fine on any thread.
// The document rule is the core's (src/core/codec.h, via the addon): what the
// client may send, it can read back.

const { isDate, isDataView } = require('util').types;
const { constants } = require('./native');

const { writeHeader } = require('./frame-reader');

const { maxDocDepth: MAX_DOC_DEPTH, docEnvelope: DOC_ENVELOPE, headerSize: HEADER } = constants;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;
/** A scratch buffer grown past this is let go once its write is done. */
const KEEP_BYTES = 1 << 20;

let buf = Buffer.allocUnsafe(8192);
let pos = 0;
let writing = false; // a getter of the value may send a request of its own

function encodeError(Kind, message) {
  const err = new Kind(message);
  err.code = 'NEXA_ENCODE';
  return err;
}

function room(n) {
  if (pos + n <= buf.length) return;
  let cap = buf.length * 2;
  while (cap < pos + n) cap *= 2;
  const bigger = Buffer.allocUnsafe(cap);
  buf.copy(bigger, 0, 0, pos);
  buf = bigger;
}

/** A str, bin, array or map header: the smallest of its family for n. */
function header(n, fix, fixMax, b8, b16) {
  room(5);
  if (n <= fixMax) {
    buf[pos++] = fix | n;
  } else if (b8 !== 0 && n < 0x100) {
    buf[pos++] = b8;
    buf[pos++] = n;
  } else if (n < 0x10000) {
    buf[pos++] = b16;
    buf.writeUInt16BE(n, pos);
    pos += 2;
  } else {
    buf[pos++] = b16 + 1;
    buf.writeUInt32BE(n, pos);
    pos += 4;
  }
}

function putString(s) {
  const n = s.length;
  room(5 + 3 * n); // UTF-8 takes at most 3 bytes per UTF-16 unit
  if (n < 32) {
    // Most keys and short values: ASCII, written where they go.
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[pos + 1 + i] = c;
    }
    if (i === n) {
      buf[pos] = 0xa0 | n;
      pos += 1 + n;
      return;
    }
  }
  // Written after the largest header, then moved up behind the right one.
  const len = buf.utf8Write(s, pos + 5); // a lone surrogate becomes U+FFFD, as V8's UTF-8 does
  const at = pos + 5;
  header(len, 0xa0, 31, 0xd9, 0xda);
  if (pos !== at) buf.copyWithin(pos, at, at + len);
  pos += len;
}

/** An integer as the smallest encoding that holds it, from a Number or a BigInt. */
function putInteger(d) {
  room(9);
  if (d >= 0) {
    if (d < 0x80) {
      buf[pos++] = Number(d);
    } else if (d < 0x100) {
      buf[pos++] = 0xcc;
      buf[pos++] = Number(d);
    } else if (d < 0x10000) {
      buf[pos++] = 0xcd;
      buf.writeUInt16BE(Number(d), pos);
      pos += 2;
    } else if (d < 0x100000000) {
      buf[pos++] = 0xce;
      buf.writeUInt32BE(Number(d), pos);
      pos += 4;
    } else {
      buf[pos++] = 0xcf;
      buf.writeBigUInt64BE(BigInt(d), pos);
      pos += 8;
    }
  } else if (d >= -32) {
    buf[pos++] = Number(d) & 0xff;
  } else if (d >= -0x80) {
    buf[pos++] = 0xd0;
    buf.writeInt8(Number(d), pos);
    pos += 1;
  } else if (d >= -0x8000) {
    buf[pos++] = 0xd1;
    buf.writeInt16BE(Number(d), pos);
    pos += 2;
  } else if (d >= -0x80000000) {
    buf[pos++] = 0xd2;
    buf.writeInt32BE(Number(d), pos);
    pos += 4;
  } else {
    buf[pos++] = 0xd3;
    buf.writeBigInt64BE(BigInt(d), pos);
    pos += 8;
  }
}

function putNumber(d) {
  // Integers in the exact range in their smallest encoding, as the server
  // sends them; everything else (fractions, -0, NaN, huge) as float64.
  if (Number.isInteger(d) && d <= MAX_SAFE && d >= -MAX_SAFE && !Object.is(d, -0)) {
    putInteger(d);
    return;
  }
  room(9);
  buf[pos++] = 0xcb;
  buf.writeDoubleBE(d, pos);
  pos += 8;
}

function putBigInt(b) {
  if (b < INT64_MIN || b > UINT64_MAX) throw encodeError(RangeError, 'a BigInt outside the 64-bit range cannot be sent');
  putInteger(b);
}

// A view's and a date's facts come from the built-in getters: a value's own
// properties (or a subclass's) may say anything.
const intrinsic = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
const viewGetters = (proto) => ({ buffer: intrinsic(proto, 'buffer'), offset: intrinsic(proto, 'byteOffset'), length: intrinsic(proto, 'byteLength') });
const TYPED_ARRAY = viewGetters(Object.getPrototypeOf(Uint8Array.prototype));
const DATA_VIEW = viewGetters(DataView.prototype);
const { getTime, getUTCFullYear, getUTCMonth, getUTCDate, getUTCHours, getUTCMinutes, getUTCSeconds, getUTCMilliseconds } = Date.prototype;

/** A binary value: the bytes the view sees; none when its buffer was detached (or shrunk under it). */
function putBinary(view) {
  const get = isDataView(view) ? DATA_VIEW : TYPED_ARRAY;
  let length;
  try {
    length = get.length.call(view); // 0 for a typed array whose buffer is detached; a DataView's throws
  } catch (_) {
    length = 0;
  }
  header(length, 0, -1, 0xc4, 0xc5);
  if (length === 0) return;
  room(length);
  buf.set(new Uint8Array(get.buffer.call(view), get.offset.call(view), length), pos);
  pos += length;
}

const pad = (n, width) => String(n).padStart(width, '0');

/** Date.prototype.toISOString's text, but years as four digits or more, never signed six. */
function putDate(date) {
  const ms = getTime.call(date);
  if (!Number.isFinite(ms)) throw encodeError(TypeError, 'an invalid Date cannot be sent');
  const y = getUTCFullYear.call(date);
  const year = y < 0 ? `-${pad(-y, 3)}` : pad(y, 4);
  putString(`${year}-${pad(getUTCMonth.call(date) + 1, 2)}-${pad(getUTCDate.call(date), 2)}T${pad(getUTCHours.call(date), 2)}:` +
    `${pad(getUTCMinutes.call(date), 2)}:${pad(getUTCSeconds.call(date), 2)}.${pad(getUTCMilliseconds.call(date), 3)}Z`);
}

function tooDeep(docRule, limit) {
  return encodeError(TypeError, docRule
    ? `a document nested more than ${MAX_DOC_DEPTH} levels deep (NexaClient.MAX_DEPTH) cannot be sent; a cycle?`
    : `a value nested more than ${limit} levels deep cannot be sent; a cycle?`);
}

/**
 * Writes the MessagePack of `value` at pos. maxLevels 0: the document rule
 * (documents at most MAX_DOC_DEPTH levels under the root key's envelope);
 * otherwise the whole value nests at most maxLevels levels. Throws a
 * TypeError (RangeError for a BigInt past 64 bits), code NEXA_ENCODE.
 */
function putValue(value, maxLevels) {
  maxLevels = typeof maxLevels === 'number' ? maxLevels >>> 0 : 0; // a uint32, as the addon took it
  const docRule = maxLevels === 0;
  // The open containers, four slots each: the container, its keys (null
  // for an array), the index of its next element, the count its header gave
  // (a getter may change the container while it is read).
  const open = [];
  let v = value;
  let level = 1; // where a container here would be; the root is 1
  let limit = docRule ? MAX_DOC_DEPTH + 1 : maxLevels;
  for (;;) {
    switch (typeof v) {
      case 'string': putString(v); break;
      case 'number': putNumber(v); break;
      case 'boolean': room(1); buf[pos++] = v ? 0xc3 : 0xc2; break;
      case 'undefined': room(1); buf[pos++] = 0xc0; break;
      case 'bigint': putBigInt(v); break;
      case 'object':
        if (v === null) {
          room(1);
          buf[pos++] = 0xc0;
        } else if (ArrayBuffer.isView(v)) {
          putBinary(v);
        } else if (isDate(v)) {
          putDate(v);
        } else if (level > limit) {
          throw tooDeep(docRule, limit);
        } else if (Array.isArray(v)) {
          const n = v.length;
          header(n, 0x90, 15, 0, 0xdc);
          if (n > 0) open.push(v, null, 0, n);
        } else {
          const keys = Object.keys(v);
          header(keys.length, 0x80, 15, 0, 0xde);
          if (keys.length > 0) open.push(v, keys, 0, keys.length);
        }
        break;
      default:
        throw encodeError(TypeError, 'functions and symbols cannot be sent');
    }
    // The next element of the innermost open container, closing those done.
    for (;;) {
      const top = open.length;
      if (top === 0) return;
      const i = open[top - 2];
      if (i === open[top - 1]) {
        open.length = top - 4;
        continue;
      }
      open[top - 2] = i + 1;
      const c = open[top - 4];
      const keys = open[top - 3];
      const depth = top / 4; // the container's level
      level = depth + 1;
      if (keys === null) {
        v = c[i];
      } else {
        const k = keys[i];
        v = c[k];
        if (docRule && depth === 1) limit = MAX_DOC_DEPTH + (Object.hasOwn(DOC_ENVELOPE, k) ? DOC_ENVELOPE[k] : 1);
        putString(k);
      }
      break;
    }
  }
}

/**
 * Runs a write from `start`; the bytes written, in the scratch buffer (valid
 * until the next write). A write begun inside another (from a getter) has a
 * buffer of its own.
 */
function written(start, write) {
  const outer = writing ? { buf, pos } : null;
  if (outer !== null) buf = Buffer.allocUnsafe(8192);
  writing = true;
  pos = start;
  try {
    write();
    return buf.subarray(0, pos);
  } finally {
    if (outer !== null) {
      ({ buf, pos } = outer);
    } else {
      writing = false;
      // Not kept past a large payload; what was written stays valid (a view keeps its memory).
      if (buf.length > KEEP_BYTES) buf = Buffer.allocUnsafe(8192);
    }
  }
}

/**
 * The MessagePack of `value`, a Buffer of its own.
 * @param {*} value
 * @param {number} [maxLevels] levels the value may nest; 0 or absent: a
 *   request's documents at most MAX_DEPTH, as the client sends them
 * @returns {Buffer}
 */
function encode(value, maxLevels = 0) {
  return Buffer.from(written(0, () => putValue(value, maxLevels)));
}

/**
 * A whole frame: the header (frame-reader.js writes it), then the
 * MessagePack of `value`.
 * @param {number} type message type
 * @param {*} value
 * @param {number} [maxLevels] as encode's
 * @param {boolean} [own] a Buffer of its own; else a view of the scratch
 *   buffer, valid until the next encode (the addon copies it at once)
 * @returns {Buffer}
 */
function frame(type, value, maxLevels = 0, own = true) {
  const bytes = written(HEADER, () => {
    putValue(value, maxLevels);
    if (pos - HEADER > 0xffffffff) throw encodeError(RangeError, 'a payload past 4 GiB cannot be sent');
    writeHeader(buf, type, pos - HEADER);
  });
  return own ? Buffer.from(bytes) : bytes;
}

module.exports = { encode, frame };
