'use strict';
// stdout for the CLI: JSON values one per line, written in chunks, with the
// stream's backpressure respected and a reader that goes away (EPIPE, as
// after `| head -3`) turned into a clean end instead of a stack trace.

const CHUNK = 64 * 1024; // characters gathered before a write

/**
 * JSON text of a value as nexaclient yields it, exactly where JSON can:
 * a BigInt (int64: 'auto') is written as its digits, never rounded; an
 * undefined value is null (the key stays visible); a Uint8Array is
 * {"$binary": base64}; a Date its ISO text; NaN and ±Infinity null, as
 * JSON.stringify writes them.
 * @param {*} value
 * @param {boolean} [pretty] indented by two spaces
 * @returns {string}
 */
function stringify(value, pretty = false) {
  return write(value, pretty ? '\n' : '');
}

function write(v, nl) {
  switch (typeof v) {
    case 'string': return JSON.stringify(v);
    case 'number': return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    case 'bigint': return v.toString();
    case 'boolean': return v ? 'true' : 'false';
    case 'object': return v === null ? 'null' : writeObject(v, nl);
    default: return 'null'; // undefined, functions, symbols
  }
}

function writeObject(v, nl) {
  const inner = nl && `${nl}  `;
  const sep = nl ? ': ' : ':';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    const parts = new Array(v.length);
    for (let i = 0; i < v.length; i++) parts[i] = write(v[i], inner);
    return `[${inner}${parts.join(`,${inner}`)}${nl}]`;
  }
  if (ArrayBuffer.isView(v)) return `{"$binary":"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}"}`;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'null' : JSON.stringify(v.toISOString());
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  const parts = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) parts[i] = JSON.stringify(keys[i]) + sep + write(v[keys[i]], inner);
  return `{${inner}${parts.join(`,${inner}`)}${nl}}`;
}

class Output {
  /**
   * @param {NodeJS.WritableStream} stream
   * @param {() => void} onClosed told once when the stream fails (the reader went away)
   */
  constructor(stream, onClosed) {
    this.stream = stream;
    /** True once writing failed: nothing more is written. */
    this.closed = false;
    this._pending = '';
    this._onClosed = onClosed;
    this._waiters = [];
    this._onError = () => this._close();
    stream.on('error', this._onError);
  }

  _close() {
    if (this.closed) return;
    this.closed = true;
    this._pending = '';
    for (const w of this._waiters.splice(0)) w();
    this._onClosed();
  }

  /** Adds one JSON value as a line; written once a chunk has gathered (or on drain()/flush()). */
  line(value, pretty = false) {
    if (this.closed) return;
    this._pending += `${stringify(value, pretty)}\n`;
    if (this._pending.length >= CHUNK) this._write();
  }

  /** Adds text as it is. */
  text(s) {
    if (this.closed) return;
    this._pending += s;
    if (this._pending.length >= CHUNK) this._write();
  }

  _write() {
    const s = this._pending;
    this._pending = '';
    if (s === '' || this.closed) return true;
    try {
      return this.stream.write(s);
    } catch {
      this._close(); // a destroyed stream may throw instead of emitting
      return true;
    }
  }

  /**
   * Writes what has gathered; resolves at once, or once the stream has room
   * again (its 'drain'): a producer that awaits this never outruns the reader.
   */
  drain() {
    if (this._write() || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.stream.removeListener('drain', done);
        const i = this._waiters.indexOf(done);
        if (i >= 0) this._waiters.splice(i, 1);
        resolve();
      };
      this._waiters.push(done);
      this.stream.once('drain', done);
    });
  }

  /** Writes what has gathered and resolves once the stream has taken it. */
  flush() {
    this._write();
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this._waiters.push(resolve);
      try {
        this.stream.write('', () => resolve());
      } catch {
        resolve();
      }
    });
  }
}

module.exports = { Output, stringify };
