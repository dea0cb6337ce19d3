'use strict';

/**
 * Framing for the NexaDB binary protocol, as used by the dev server:
 * constants, an incremental frame reader and a frame writer.
 * @module nexaclient/dev-server/protocol
 * @private
 */

const { encode } = require('../native');

/**
 * How deep a request may nest. The reference server stores documents of
 * any depth its MessagePack and JSON libraries take, far past the client's
 * MAX_DEPTH: so must the dev server, for the client's handling of them to
 * be testable. The bound is the stack's: decoding and encoding recurse once
 * a level.
 */
const MAX_LEVELS = 4096;
/**
 * How deep what it sends may nest: a request holds a document one level
 * down (`{data: doc}`), an answer up to three (`{results: [{document: doc}]}`),
 * so whatever it stored, it can send.
 */
const SEND_LEVELS = MAX_LEVELS + 2;

const MAGIC = 0x4e455841;
const VERSION = 1;
const HEADER_SIZE = 12;

/** Message types, both directions. */
const MSG = Object.freeze({
  CONNECT: 0x01,
  CREATE: 0x02,
  READ: 0x03,
  UPDATE: 0x04,
  DELETE: 0x05,
  QUERY: 0x06,
  VECTOR_SEARCH: 0x07,
  BATCH_WRITE: 0x08,
  PING: 0x09,
  DISCONNECT: 0x0a,
  QUERY_TOON: 0x0b,
  EXPORT_TOON: 0x0c,
  IMPORT_TOON: 0x0d,
  CREATE_USER: 0x0e,
  DELETE_USER: 0x0f,
  LIST_USERS: 0x10,
  CHANGE_PASSWORD: 0x11,
  LIST_COLLECTIONS: 0x20,
  DROP_COLLECTION: 0x21,
  GET_VECTORS: 0x23,
  SUBSCRIBE_CHANGES: 0x30,
  UNSUBSCRIBE_CHANGES: 0x31,
  LIST_DATABASES: 0x40,
  DROP_DATABASE: 0x42,
  BUILD_HNSW_INDEX: 0x45,

  SUCCESS: 0x81,
  ERROR: 0x82,
  NOT_FOUND: 0x83,
  DUPLICATE: 0x84,
  PONG: 0x88,
  CHANGE_EVENT: 0x90,
});

/**
 * Builds one frame: 12-byte header then the MessagePack payload.
 * @param {number} type message type
 * @param {*} payload any value the codec encodes (a map in practice)
 * @returns {Buffer}
 */
function encodeFrame(type, payload) {
  const body = encode(payload, SEND_LEVELS);
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  header.writeUInt32BE(MAGIC, 0);
  header.writeUInt8(VERSION, 4);
  header.writeUInt8(type, 5);
  header.writeUInt16BE(0, 6);
  header.writeUInt32BE(body.length, 8);
  return Buffer.concat([header, body], HEADER_SIZE + body.length);
}

/**
 * Incremental frame reader. Feed it socket chunks with push(); call next()
 * until it returns null. Frames may be split across chunks or packed many to
 * a chunk; a large payload is joined once, when all of it has arrived.
 */
class FrameReader {
  constructor() {
    this._chunks = [];
    this._length = 0;
    this._header = null;
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
   * The next complete frame, or null when more bytes are needed.
   * A header with a wrong magic or version yields `{ fatal: message }`:
   * the caller answers ERROR and closes, as the reference server does.
   * @returns {null | {type: number, flags: number, payload: Buffer} | {fatal: string}}
   */
  next() {
    if (this._header === null) {
      if (this._length < HEADER_SIZE) return null;
      const h = this._take(HEADER_SIZE);
      const magic = h.readUInt32BE(0);
      if (magic !== MAGIC) {
        // Python's hex(): lowercase, no zero padding (0x12345678 in the transcript).
        return { fatal: `Invalid protocol magic: 0x${magic.toString(16)}` };
      }
      const version = h.readUInt8(4);
      if (version !== VERSION) {
        return { fatal: `Unsupported protocol version: ${version}` };
      }
      this._header = { type: h.readUInt8(5), flags: h.readUInt16BE(6), length: h.readUInt32BE(8) };
    }
    if (this._length < this._header.length) return null;
    const { type, flags, length } = this._header;
    this._header = null;
    return { type, flags, payload: this._take(length) };
  }

  /** Removes and returns the first n bytes (n <= this._length). */
  _take(n) {
    if (n === 0) return Buffer.alloc(0);
    const first = this._chunks[0];
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this._chunks.shift();
      else this._chunks[0] = first.subarray(n);
      this._length -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this._chunks[0];
      const want = n - filled;
      if (c.length <= want) {
        c.copy(out, filled);
        filled += c.length;
        this._chunks.shift();
      } else {
        c.copy(out, filled, 0, want);
        filled += want;
        this._chunks[0] = c.subarray(want);
      }
    }
    this._length -= n;
    return out;
  }
}

module.exports = { MAGIC, VERSION, HEADER_SIZE, MAX_LEVELS, SEND_LEVELS, MSG, encodeFrame, FrameReader };
