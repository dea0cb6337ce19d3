'use strict';
// The one JS reader and writer of NexaDB frames (12-byte header, then the
// payload), for everything in JS that speaks the protocol itself: the dev
// server (it reads here; what it sends, encode.js writes, header included),
// the client's requests (encode.js; the C core sends them), the tests' raw
// clients and fault proxy, the bench's pure-JS consumers and source. (The
// client reads frames in the C core, src/core/frame.c.)
const { magic: MAGIC, version: VERSION, headerSize: HEADER } = require('./native').constants;

const TRUE_HEADER = Object.freeze({});

/**
 * A whole frame: the header, then `payload`.
 * @param {number} type message type
 * @param {Uint8Array} payload the payload's bytes
 * @param {{magic?: number, version?: number, flags?: number, length?: number}} [header]
 *   fields to write instead of the true ones, for tests that send malformed frames
 * @returns {Buffer}
 */
function frameBytes(type, payload, header = TRUE_HEADER) {
  const f = Buffer.allocUnsafe(HEADER + payload.length);
  writeHeader(f, type, payload.length, header);
  f.set(payload, HEADER);
  return f;
}

/**
 * Writes a frame's header at the start of `target`.
 * @param {Buffer} target
 * @param {number} type message type
 * @param {number} length the payload's bytes
 * @param {{magic?: number, version?: number, flags?: number, length?: number}} [header] as frameBytes's
 */
function writeHeader(target, type, length, header = TRUE_HEADER) {
  const { magic = MAGIC, version = VERSION, flags = 0 } = header;
  target.writeUInt32BE(magic, 0);
  target[4] = version;
  target[5] = type;
  target.writeUInt16BE(flags, 6);
  target.writeUInt32BE(header.length === undefined ? length : header.length, 8);
}

/** Whether `bytes` begins with a header of this protocol's magic and version. */
function startsWithHeader(bytes) {
  return bytes.length >= HEADER && bytes.readUInt32BE(0) === MAGIC && bytes[4] === VERSION;
}

/**
 * Feed it socket chunks with push(); call next() until it returns null.
 * Frames may be split across chunks or packed many to a chunk: a frame
 * whole in one chunk is a view of it (no copy); one split across chunks is
 * joined once, when all of it has arrived, so a large payload is never
 * copied piece by piece.
 */
class FrameReader {
  constructor() {
    this._chunks = [];
    this._off = 0; // where the unread bytes of _chunks[0] begin
    this._length = 0; // unread bytes in all
  }

  /** @param {Buffer} chunk */
  push(chunk) {
    if (chunk.length === 0) return;
    this._chunks.push(chunk);
    this._length += chunk.length;
  }

  /** Bytes held but not yet returned as a frame. */
  get buffered() {
    return this._length;
  }

  /**
   * The next whole frame, or null when more bytes are needed. A header with
   * a wrong magic or version yields `{fatal: message}` (the reference
   * server's text: the caller answers ERROR and closes).
   * @returns {null | {type: number, flags: number, payload: Buffer, raw: Buffer} | {fatal: string}}
   *   raw: the whole frame, header included
   */
  next() {
    if (this._length < HEADER) return null;
    if (this._chunks[0].length - this._off < HEADER) this._join(HEADER);
    let buf = this._chunks[0];
    let off = this._off;
    const magic = buf.readUInt32BE(off);
    // Python's hex(): lowercase, no zero padding (0x12345678 in the transcript).
    if (magic !== MAGIC) return { fatal: `Invalid protocol magic: 0x${magic.toString(16)}` };
    if (buf[off + 4] !== VERSION) return { fatal: `Unsupported protocol version: ${buf[off + 4]}` };
    const total = HEADER + buf.readUInt32BE(off + 8);
    if (this._length < total) return null;
    if (buf.length - off < total) {
      this._join(total);
      buf = this._chunks[0];
      off = 0;
    }
    const raw = buf.subarray(off, off + total);
    this._length -= total;
    if (off + total === buf.length) {
      this._chunks.shift();
      this._off = 0;
    } else {
      this._off = off + total;
    }
    return { type: raw[5], flags: raw.readUInt16BE(6), payload: raw.subarray(HEADER), raw };
  }

  /** Joins the first chunks until the first holds at least n unread bytes (n <= buffered). */
  _join(n) {
    const parts = [this._chunks[0].subarray(this._off)];
    let size = parts[0].length;
    let k = 1;
    while (size < n) {
      parts.push(this._chunks[k]);
      size += this._chunks[k++].length;
    }
    this._chunks.splice(0, k, Buffer.concat(parts, size));
    this._off = 0;
  }
}

module.exports = { FrameReader, frameBytes, writeHeader, startsWithHeader };
