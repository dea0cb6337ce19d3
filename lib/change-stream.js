'use strict';
const { Connection, MSG } = require('./connection');

const OPERATIONS = ['insert', 'update', 'delete', 'dropCollection'];
const DEFAULT_OPERATIONS = ['insert', 'update', 'delete'];
const DONE = Object.freeze({ value: undefined, done: true });

/**
 * A change stream: the events of one subscription, on a connection of its
 * own (the server keeps one subscription per connection). Async-iterable.
 * Events are buffered from the moment the server acknowledged the
 * subscription (`ready`), whether or not `next()` has been called.
 */
class ChangeStream {
  /**
   * @param {object} connOpts connection options (host, port, credentials, ...)
   * @param {string|null} collection null: every collection
   * @param {string[]} operations
   * @param {(s: ChangeStream) => void} onClosed told once when the stream ends
   */
  constructor(connOpts, collection, operations, onClosed) {
    /** @type {string|null} */
    this.collection = collection;
    /** @type {string[]} */
    this.operations = operations;
    this.closed = false;
    this._buf = [];
    this._head = 0;
    this._waiters = [];
    this._error = null;
    this._onClosed = onClosed;
    this._closing = null;
    this._conn = new Connection(connOpts);
    this._conn.onChange = (ev) => this._push(ev);
    this._conn.onEnd = (err) => this._end(err);
    /**
     * Resolves with the server's answer once it has acknowledged the
     * subscription; rejects if it could not connect or refused.
     * @type {Promise<object>}
     */
    this.ready = this._conn.open().then(() => this._conn.request(MSG.SUBSCRIBE, { collection, operations }, { collection }));
    // The failure also reaches the iterator; an unobserved `ready` must not
    // become an unhandled rejection.
    this.ready.catch((err) => {
      if (!this._error && !this.closed) this._end(err);
      if (this._conn.state !== 'closed') this._conn.close(false);
    });
  }

  _push(ev) {
    if (this.closed) return;
    if (this._waiters.length) this._waiters.shift().resolve({ value: ev, done: false });
    else this._buf.push(ev);
  }

  /** The connection ended (err null: as asked) or the subscription failed. */
  _end(err) {
    if (this.closed && !err) return;
    if (err && !this._error && !this._closing) this._error = err;
    this._finish();
  }

  _finish() {
    if (this.closed) {
      this._settleWaiters();
      return;
    }
    this.closed = true;
    this._settleWaiters();
    const cb = this._onClosed;
    this._onClosed = null;
    if (cb) cb(this);
  }

  _settleWaiters() {
    // Waiters exist only while the buffer is empty.
    const ws = this._waiters;
    this._waiters = [];
    if (ws.length === 0) return;
    const err = this._error;
    if (err) this._error = null; // reported once; then the stream is simply done
    for (const w of ws) {
      if (err) w.reject(err);
      else w.resolve(DONE);
    }
  }

  /** @returns {Promise<IteratorResult<object>>} */
  next() {
    if (this._head < this._buf.length) {
      const value = this._buf[this._head];
      this._buf[this._head++] = undefined;
      if (this._head === this._buf.length) {
        this._buf = [];
        this._head = 0;
      } else if (this._head >= 1024 && this._head * 2 >= this._buf.length) {
        this._buf = this._buf.slice(this._head);
        this._head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this._error) {
      const err = this._error;
      this._error = null; // reported once; then the stream is simply done
      return Promise.reject(err);
    }
    if (this.closed) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => this._waiters.push({ resolve, reject }));
  }

  /**
   * Ends the stream: UNSUBSCRIBE, then the connection is closed. Pending
   * `next()` calls resolve `{done: true}`; events not yet consumed are
   * dropped. Resolves once the connection is closed.
   * @returns {Promise<void>}
   */
  close() {
    if (this._closing) return this._closing;
    this._buf = [];
    this._head = 0;
    this._error = null; // closing on purpose: waiters end, they do not throw
    this._finish();
    const conn = this._conn;
    if (conn.state === 'open') {
      conn.request(MSG.UNSUBSCRIBE, {}).catch(() => {});
      this._closing = conn.close(true);
    } else {
      this._closing = conn.close(false);
    }
    return this._closing;
  }

  /** `break` in a `for await` lands here. */
  return() {
    return this.close().then(() => DONE);
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** What util.inspect shows: never the connection's credentials. */
  [Symbol.for('nodejs.util.inspect.custom')]() {
    const what = this.collection === null ? 'every collection' : `'${this.collection}'`;
    return `ChangeStream { ${what}, [${this.operations.join(', ')}], ${this.closed ? 'closed' : 'open'}, buffered: ${this._buf.length - this._head} }`;
  }
}

/**
 * Normalises watch()'s operations argument: an array (the official client's
 * form), or options.operations.
 */
function parseOperations(ops) {
  if (ops === undefined || ops === null) return DEFAULT_OPERATIONS.slice();
  if (!Array.isArray(ops) || ops.length === 0) throw new TypeError('operations must be a non-empty array');
  for (const op of ops) {
    if (!OPERATIONS.includes(op)) {
      throw new TypeError(`unknown operation ${JSON.stringify(op)}: expected one of ${OPERATIONS.join(', ')}`);
    }
  }
  return ops.slice();
}

module.exports = { ChangeStream, parseOperations, OPERATIONS };
