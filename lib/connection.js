'use strict';
// One NexaDB connection owned by the native core. Requests are answered
// first-in first-out; the core matches them, this side keeps the promises.
const { addon, constants } = require('./native');
const { frame } = require('./encode');
const { batches } = require('./batches');
const {
  NexaServerError, NexaNotFoundError, NexaClosedError, NexaTimeoutError, NexaProtocolError, fromCore, serverText,
} = require('./errors');
const { bound, abortError } = require('./abort');
const { channels, publish, debug } = require('./diagnostics');

const MSG = constants.msg;
const { maxRequestId } = constants;

class Connection {
  #opts; // holds the credentials: private, so no inspect or log shows them

  /**
   * @param {object} o host, port, username, password, connectTimeout, maxFrameBytes, int64
   */
  constructor(o) {
    this.id = 0;
    this.address = `${o.host}:${o.port}`;
    this.state = 'new';
    /** @type {(events: object[], conn: Connection, bytes: number) => void} a run of events of this connection, and their payload bytes */
    this.onChanges = noop;
    /**
     * A change event arrived that could not be decoded (e.g. a document
     * nested deeper than MAX_DEPTH); the connection reads on. It is not
     * counted for backpressure: do not ack() it.
     * @type {(message: string) => void}
     */
    this.onUndecodable = noop;
    /**
     * The core stopped reading this connection's socket at its bound (true),
     * or reads on (false). The core alone decides; the owner only acks.
     * @type {(paused: boolean) => void}
     */
    this.onBackpressure = noop;
    /** @type {(err: Error|null) => void} called once when the connection ends */
    this.onEnd = noop;
    this.#opts = o;
    this.int64Mode = constants.int64[o.int64];
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
    const o = this.#opts;
    this.id = batches.add(this);
    this.state = 'opening';
    debug('connection #%d: connecting to %s as %s (%s)', this.id, this.address, o.username, this.stream ? 'stream' : 'requests');
    return new Promise((resolve, reject) => {
      this._openWaiters = { resolve, reject };
      try {
        // A stream's connection stops reading at its high-water mark; the
        // request connection carries no events and has no bound.
        const bounded = o.stream === true;
        addon.open(this.id, {
          host: o.host, port: o.port, username: o.username, password: o.password, connectTimeout: o.connectTimeout,
          maxFrameBytes: o.maxFrameBytes, keepAliveMs: o.keepAliveMs,
          keepAliveTimeoutMs: o.keepAliveTimeoutMs, highWaterMark: bounded ? o.highWaterMark : 0,
          highWaterMarkBytes: bounded ? o.highWaterMarkBytes : 0,
        });
      } catch (err) {
        batches.remove(this.id);
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
    if (this._nextReq > maxRequestId) this._nextReq = 1; // the ids above are the core's own
    return new Promise((resolve, reject) => {
      try {
        addon.request(this.id, reqId, frame(type, payload, 0, false)); // the addon copies it at once
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

  /**
   * The owner is done with `n` more change events of this connection (under
   * 'pause' consumed, else arrived). The core alone decides when to read on.
   * @returns {boolean} false when the core could not take the report now
   *   (out of memory): report it again later, or the stream may stay paused.
   *   A connection that is not open has nothing to report to: true.
   */
  ack(n) {
    if (this.state !== 'open' || n <= 0) return true;
    return addon.ack(this.id, n);
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

  // --- what the core reports (lib/batches.js) ---------------------------------

  /** The handshake succeeded. */
  opened(connectAnswer) {
    this.state = this.state === 'closing' ? 'closing' : 'open';
    this._wasOpen = true;
    debug('connection #%d: open to %s', this.id, this.address);
    publish(channels.connectionOpen, () => ({ connectionId: this.id, address: this.address, stream: this.stream }));
    const w = this._openWaiters;
    this._openWaiters = null;
    if (w) w.resolve(connectAnswer);
  }

  /** The answer to request reqId: message type and payload. */
  answered(reqId, type, payload) {
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
  answerFailed(reqId, message) {
    const p = this._take(reqId);
    if (p === undefined) return;
    p.reject(new NexaProtocolError(`${message} (${this.address})`, { address: this.address, ...p.context }));
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `Connection { #${this.id} ${this.address}, ${this.state}, pending: ${this._pending.size} }`;
  }

  /** The connection's last report: [code, message, payload]; code null when it was closed as asked. */
  ended([code, message, payload]) {
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
