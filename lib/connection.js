'use strict';
// One NexaDB connection owned by the native core. Requests are answered
// first-in first-out; the core matches them, this side keeps the promises.
const { addon, INT64_MODES } = require('./native');
const { TapeDecoder } = require('./tape');
const {
  NexaServerError, NexaNotFoundError, NexaClosedError, NexaTimeoutError, NexaProtocolError, fromCore, serverText,
} = require('./errors');
const { bound, abortError } = require('./abort');
const { channels, publish, debug } = require('./diagnostics');

const EV_OPEN = 1;
const EV_OPEN_FAILED = 2;
const EV_REPLY = 3;
const EV_CHANGE = 4;
const EV_CLOSED = 5;
const EV_UNDECODABLE = 6; // a change event that could not be decoded: value says why
const EV_REPLY_FAILED = 7; // an answer that could not be decoded: value says why

const MSG = {
  CREATE: 0x02, READ: 0x03, UPDATE: 0x04, DELETE: 0x05, QUERY: 0x06, VECTOR_SEARCH: 0x07,
  BATCH_WRITE: 0x08, PING: 0x09, QUERY_TOON: 0x0b, EXPORT_TOON: 0x0c, IMPORT_TOON: 0x0d,
  CREATE_USER: 0x0e, DELETE_USER: 0x0f, LIST_USERS: 0x10, CHANGE_PASSWORD: 0x11,
  LIST_COLLECTIONS: 0x20, DROP_COLLECTION: 0x21, GET_VECTORS: 0x23,
  SUBSCRIBE: 0x30, UNSUBSCRIBE: 0x31, LIST_DATABASES: 0x40, DROP_DATABASE: 0x42, BUILD_HNSW_INDEX: 0x45,
  SUCCESS: 0x81, ERROR: 0x82, NOT_FOUND: 0x83, PONG: 0x88,
};

const live = new Map(); // id -> Connection: every connection without its terminal item
let nextId = 1;
let handlerSet = false;

const tape = new TapeDecoder();

/** The typed arrays the addon hands batches over in (reused from batch to batch). */
let head = null;

/**
 * The one handler of every batch the core delivers (src/binding/addon.cc,
 * CallJs): n entries, entry i being head[5i .. 5i+4] = kind, connId, reqId,
 * msgType, count; values[i] is the value of an entry that is not a change
 * run; a change run's events are next on the batch's tape.
 */
function onBatch(n, values, str, arrays) {
  if (arrays !== undefined) {
    head = arrays[0];
    tape.arrays(arrays[1], arrays[2], arrays[3]);
  }
  try {
    dispatch(n, values, str);
  } finally {
    tape.end(); // the batch's text is the events' now, not the decoder's
    if (arrays !== undefined && arrays[4]) {
      // Made for this batch alone (too large to reuse): not kept past it.
      head = null;
      tape.arrays(null, null, null);
    }
  }
}

function dispatch(n, values, str) {
  if (str !== undefined) tape.begin(str);
  for (let i = 0; i < n; i++) {
    const h = 5 * i;
    const kind = head[h];
    const conn = live.get(head[h + 1]);
    if (kind === EV_CHANGE) {
      // Read even when nobody wants them: the tape announces table entries.
      const count = head[h + 4];
      const mode = conn === undefined ? 0 : conn.int64Mode;
      const evs = new Array(count);
      for (let k = 0; k < count; k++) evs[k] = tape.event(mode);
      if (conn === undefined) continue;
      try {
        conn.onChanges(evs, head[h + 2]); // [h + 2]: the run's payload bytes
      } catch (err) {
        process.nextTick(() => { throw err; });
      }
      continue;
    }
    if (conn === undefined) continue;
    const value = values[i];
    try {
      switch (kind) {
        case EV_REPLY: conn._reply(head[h + 2], head[h + 3], value); break;
        case EV_UNDECODABLE: conn.onUndecodable(value); break;
        case EV_REPLY_FAILED: conn._replyFailed(head[h + 2], value); break;
        case EV_OPEN: conn._opened(value); break;
        case EV_OPEN_FAILED:
        case EV_CLOSED:
          live.delete(conn.id);
          conn._terminal(value);
          break;
      }
    } catch (err) {
      // A bug in a callback must not lose the rest of the batch.
      process.nextTick(() => { throw err; });
    }
  }
}

class Connection {
  #opts; // holds the credentials: private, so no inspect or log shows them

  /**
   * @param {object} o host, port, username, password, connectTimeout, maxFrameBytes, int64
   */
  constructor(o) {
    this.id = 0;
    this.address = `${o.host}:${o.port}`;
    this.state = 'new';
    this.hello = null;
    /** @type {(events: object[], bytes: number) => void} a run of events and its payload bytes */
    this.onChanges = noop;
    /**
     * A change event arrived that could not be decoded (e.g. a document
     * nested deeper than MAX_DEPTH); the connection reads on. It is not
     * counted for backpressure: do not ack() it.
     * @type {(message: string) => void}
     */
    this.onUndecodable = noop;
    /** @type {(err: Error|null) => void} called once when the connection ends */
    this.onEnd = noop;
    this.#opts = o;
    this.int64Mode = INT64_MODES[o.int64];
    /** A change stream's connection (else the request connection). */
    this.stream = o.stream === true;
    this._wasOpen = false; // the handshake succeeded (closing it is then a close, not a failed dial)
    this._pending = new Map();
    this._nextReq = 1;
    this._openWaiters = null;
    this._closeWaiters = [];
    this.error = null;
  }

  /** Dials and authenticates. Resolves with the server's CONNECT answer. */
  open() {
    if (!handlerSet) {
      addon.setHandler(onBatch);
      handlerSet = true;
    }
    const o = this.#opts;
    this.id = nextId++;
    if (nextId > 0xfffffff0) nextId = 1;
    this.state = 'opening';
    live.set(this.id, this);
    debug('connection #%d: connecting to %s as %s (%s)', this.id, this.address, o.username, this.stream ? 'stream' : 'requests');
    return new Promise((resolve, reject) => {
      this._openWaiters = { resolve, reject };
      try {
        // A stream's connection stops reading at its high-water mark; the
        // request connection carries no events and has no bound.
        const bounded = o.stream === true;
        addon.open(this.id, o.host, o.port, o.username, o.password, o.connectTimeout,
          o.maxFrameBytes, INT64_MODES[o.int64], o.keepAliveMs, o.keepAliveTimeoutMs,
          bounded ? o.highWaterMark : 0, bounded ? o.highWaterMarkBytes : 0);
      } catch (err) {
        live.delete(this.id);
        this.state = 'closed';
        this._openWaiters = null;
        reject(err);
      }
    });
  }

  /**
   * Sends a request; resolves with the answer's payload. ERROR rejects with
   * NexaServerError, NOT_FOUND with NexaNotFoundError.
   * @param {number} type
   * @param {object} payload
   * @param {object} [context] fields added to errors (operation, collection, key)
   * @param {{timeout?: number, signal?: AbortSignal}} [opts] timeout in ms (0: none)
   */
  request(type, payload, context, opts) {
    if (this.state !== 'open' && this.state !== 'opening') {
      return Promise.reject(new NexaClosedError(`connection to ${this.address} is closed`, { address: this.address, ...context }));
    }
    const signal = opts && opts.signal;
    if (signal && signal.aborted) return Promise.reject(abortError(signal, context));
    const reqId = this._nextReq++;
    if (this._nextReq > 0xfffffff0) this._nextReq = 1;
    return new Promise((resolve, reject) => {
      try {
        addon.request(this.id, reqId, type, payload);
      } catch (err) {
        reject(err);
        return;
      }
      const p = { resolve, reject, context, unbound: null };
      const timeout = (opts && opts.timeout) || 0;
      // A late answer is still matched (first-in, first-out) and dropped.
      p.unbound = bound(timeout, signal, () => this._fail(reqId, new NexaTimeoutError(
        `${(context && context.operation) || 'request'} timed out after ${opts.configuredTimeout || timeout} ms (${this.address})`,
        { address: this.address, ...context })), () => this._fail(reqId, abortError(signal, context)));
      this._pending.set(reqId, p);
    });
  }

  /** Settles one pending request with an error, leaving its answer to be dropped. */
  _fail(reqId, err) {
    const p = this._take(reqId);
    if (p) p.reject(err);
  }

  _take(reqId) {
    const p = this._pending.get(reqId);
    if (p === undefined) return undefined;
    this._pending.delete(reqId);
    p.unbound();
    return p;
  }

  /** The owner consumed `n` change events: the core may read on. */
  ack(n) {
    if (this.state === 'open' && n > 0) addon.ack(this.id, n);
  }

  /** Ends the connection (graceful: DISCONNECT after what is in flight). Resolves when closed. */
  close(graceful = true) {
    if (this.state === 'closed') return Promise.resolve();
    const p = new Promise((resolve) => this._closeWaiters.push(resolve));
    if (this.state !== 'closing') {
      this.state = 'closing';
      addon.close(this.id, graceful);
    }
    return p;
  }

  _opened(hello) {
    this.state = this.state === 'closing' ? 'closing' : 'open';
    this.hello = hello;
    this._wasOpen = true;
    debug('connection #%d: open to %s', this.id, this.address);
    publish(channels.connectionOpen, () => ({ connectionId: this.id, address: this.address, stream: this.stream }));
    const w = this._openWaiters;
    this._openWaiters = null;
    if (w) w.resolve(hello);
  }

  _reply(reqId, type, payload) {
    const p = this._take(reqId);
    if (p === undefined) return;
    if (type === MSG.SUCCESS || type === MSG.PONG) {
      p.resolve(payload);
    } else if (type === MSG.NOT_FOUND) {
      const c = p.context || {};
      const text = serverText(payload, 'Not found');
      const what = c.key !== undefined ? `key ${JSON.stringify(c.key)} in collection '${c.collection}'` : `collection '${c.collection}'`;
      p.reject(new NexaNotFoundError(`${text}: ${what} (${this.address})`, { address: this.address, serverMessage: text, ...c }));
    } else {
      p.reject(new NexaServerError(serverText(payload, `server answered type 0x${type.toString(16)}`),
        { address: this.address, ...p.context }));
    }
  }

  /** The answer to reqId could not be decoded: only that request fails. */
  _replyFailed(reqId, message) {
    const p = this._take(reqId);
    if (p === undefined) return;
    p.reject(new NexaProtocolError(`${message} (${this.address})`, { address: this.address, ...p.context }));
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `Connection { #${this.id} ${this.address}, ${this.state}, pending: ${this._pending.size} }`;
  }

  _terminal([code, message, payload]) {
    const wasClosing = this.state === 'closing';
    this.state = 'closed';
    const address = this.address;
    // Each waiting request gets an error of its own, saying which request it was.
    const make = (context) => Object.assign(code === null
      ? new NexaClosedError(`connection to ${address} closed before the answer`, { address })
      : fromCore(code, message, address, payload), context);
    const err = code === null ? null : make();
    this.error = err;
    if (debug.enabled) {
      const how = wasClosing ? 'closed' : code === 'NEXA_PROTOCOL' ? 'protocol error' : !this._wasOpen ? 'dial failed' : 'lost';
      debug('connection #%d: %s%s', this.id, how, err ? `: ${err.message}` : ` (${address})`);
    }
    // Published for connections that opened (a failed dial is its caller's error, and in the debug log).
    if (this._wasOpen) publish(channels.connectionClose, () => ({ connectionId: this.id, address, stream: this.stream, error: wasClosing ? null : err }));
    const openW = this._openWaiters;
    this._openWaiters = null;
    if (openW) openW.reject(err || new NexaClosedError(`connection to ${address} closed before it opened`, { address }));
    for (const [reqId, p] of Array.from(this._pending)) this._fail(reqId, make(p.context));
    for (const w of this._closeWaiters) w();
    this._closeWaiters = [];
    this.onEnd(wasClosing ? null : err);
  }
}

function noop() {}

module.exports = { Connection, MSG };
