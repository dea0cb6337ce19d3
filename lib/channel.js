'use strict';
// A logical connection that outlives its TCP connections: once it has
// opened, a lost connection is re-dialled with exponential backoff and
// jitter, re-authenticated (the core does that on every open) and handed to
// `onOpen` again (a stream re-subscribes there). The first dial fails fast:
// connect() must report a refused connection, not hide it behind retries.
const { Connection } = require('./connection');
const { NexaClosedError, NexaTimeoutError } = require('./errors');
const { debug } = require('./diagnostics');

class Channel {
  #opts; // holds the credentials: private, so no inspect, log or JSON.stringify shows them

  /**
   * @param {object} opts connection options (see lib/options.js) plus `stream`
   * @param {object} hooks
   * @param {(conn: Connection) => Promise<*>|*} [hooks.onOpen] after each successful dial; a rejection counts as a failed dial
   * @param {(events: object[], conn: Connection, bytes: number) => void} [hooks.onChanges] a run of events of one connection, and its payload bytes
   * @param {(message: string) => void} [hooks.onUndecodable] an event the client could not decode
   * @param {(paused: boolean) => void} [hooks.onBackpressure] the core stopped reading at the bound, or reads on
   * @param {(err: Error) => void} [hooks.onDown] a connection was lost; reconnecting
   * @param {(info: {attempts: number, downtimeMs: number}) => void} [hooks.onReconnect]
   * @param {(err: Error) => void} [hooks.onFail] lost for good (attempts exhausted, or not retryable)
   * @param {(opts: object) => Connection} [makeConnection] how a dial gets its connection (a test passes a fake)
   */
  constructor(opts, hooks = {}, makeConnection = (o) => new Connection(o)) {
    this.#opts = opts;
    this._makeConnection = makeConnection;
    this.hooks = hooks;
    /** @type {'idle'|'connecting'|'open'|'backoff'|'failed'|'closed'} */
    this.state = 'idle';
    /** @type {Connection|null} */
    this.conn = null;
    this.lastError = null;
    this.reconnects = 0;
    this._attempt = 0;
    this._downSince = 0;
    this._timer = null;
    this._waiters = [];
    this.everOpened = false;
    this._dialOpened = false; // the dial in progress got past onOpen: its connection was in use
  }

  /** First dial. Resolves with what onOpen resolved with; rejects on any failure. */
  start() {
    this.state = 'connecting';
    return this._dial().then((r) => {
      this._settle();
      return r;
    }, (err) => {
      this.state = 'failed';
      this.lastError = err;
      this._settle();
      throw err;
    });
  }

  async _dial() {
    this._dialOpened = false;
    const conn = this._makeConnection(this.#opts);
    if (this.hooks.onChanges) conn.onChanges = this.hooks.onChanges; // straight to the stream: no hop through here
    if (this.hooks.onUndecodable) conn.onUndecodable = this.hooks.onUndecodable;
    if (this.hooks.onBackpressure) conn.onBackpressure = this.hooks.onBackpressure;
    conn.onEnd = (err) => this._ended(conn, err);
    this.conn = conn;
    await conn.open();
    if (this.state === 'closed') throw new NexaClosedError('closed while connecting', { address: conn.address });
    let r;
    try {
      r = this.hooks.onOpen ? await this.hooks.onOpen(conn) : undefined;
    } catch (err) {
      if (conn.state !== 'closed') conn.close(false);
      throw err;
    }
    if (this.state === 'closed') throw new NexaClosedError('closed while connecting', { address: conn.address });
    this._dialOpened = true;
    if (conn.state !== 'open') throw conn.error || new NexaClosedError(`connection to ${conn.address} closed`, { address: conn.address });
    this.state = 'open';
    this.everOpened = true;
    return r;
  }

  /** A connection ended: asked for, or lost. */
  _ended(conn, err) {
    if (conn !== this.conn || this.state === 'closed' || this.state === 'failed') return;
    if (this.state !== 'open') return; // a dial in progress reports through its own promise
    this.conn = null;
    this.lastError = err || new NexaClosedError(`connection to ${conn.address} closed by the server`, { address: conn.address });
    if (!this.#opts.autoReconnect || !retryable(this.lastError)) {
      this._fail(this.lastError);
      return;
    }
    this.state = 'backoff';
    this._attempt = 0;
    this._downSince = Date.now();
    if (this.hooks.onDown) this.hooks.onDown(this.lastError);
    this._scheduleRetry();
  }

  _scheduleRetry() {
    if (this._attempt >= this.#opts.reconnectAttempts) {
      this._fail(this.lastError);
      return;
    }
    this._attempt++;
    const delay = backoffDelay(this._attempt, this.#opts.reconnectDelayMs, this.#opts.reconnectMaxDelayMs, Math.random());
    this.state = 'backoff';
    debug('%s: reconnect attempt %d of %s in %d ms (%s)', this._label(), this._attempt, String(this.#opts.reconnectAttempts), delay,
      this.lastError ? this.lastError.code : 'lost');
    // Ref'd on purpose: a stream waiting to reconnect keeps the process alive, as its socket did.
    this._timer = setTimeout(() => {
      this._timer = null;
      this._retry();
    }, delay);
  }

  _retry() {
    if (this.state !== 'backoff') return;
    this.state = 'connecting';
    this._dial().then(() => {
      this.reconnects++;
      debug('%s: reconnected after %d attempts', this._label(), this._attempt);
      this._settle();
      if (this.hooks.onReconnect) this.hooks.onReconnect({ attempts: this._attempt, downtimeMs: Date.now() - this._downSince });
    }, (err) => {
      if (this.state === 'closed') return;
      this.lastError = err;
      // Lost right after onOpen (a stream subscribed, its first events may be
      // in): a loss of its own, reported like any other, not only a failed attempt.
      if (this._dialOpened && this.hooks.onDown) this.hooks.onDown(err);
      if (!retryable(err)) this._fail(err);
      else this._scheduleRetry();
    });
  }

  /** Who speaks in the debug log: "stream to host:port" or "requests to host:port". */
  _label() {
    return `${this.#opts.stream ? 'stream' : 'requests'} to ${this.#opts.host}:${this.#opts.port}`;
  }

  _fail(err) {
    this.state = 'failed';
    this.lastError = err;
    if (this.everOpened) debug('%s: giving up: %s', this._label(), err && err.message);
    this._settle();
    if (this.hooks.onFail) this.hooks.onFail(err);
  }

  /**
   * The open connection: at once, or when a (re)connect succeeds. Rejects
   * when the channel fails or closes. (A request's deadline is its own:
   * lib/abort.js `bound`.)
   * @returns {Promise<Connection>}
   */
  whenOpen() {
    if (this.state === 'open') return Promise.resolve(this.conn);
    if (this.state === 'failed' || this.state === 'closed') return Promise.reject(this._why());
    return new Promise((resolve, reject) => this._waiters.push({ resolve, reject }));
  }

  /** The error of a request that waited `timeout` ms for the connection. */
  waitTimeoutError(timeout, context) {
    const address = `${this.#opts.host}:${this.#opts.port}`;
    const why = this.lastError ? `reconnecting after ${this.lastError.code}` : 'connecting';
    return new NexaTimeoutError(`${(context && context.operation) || 'request'} timed out after ${timeout} ms waiting for the connection to ${address} (${why})`,
      { address, cause: this.lastError || undefined, ...context });
  }

  _why() {
    if (this.state === 'closed') return new NexaClosedError('the client was disconnected');
    return this.lastError;
  }

  _settle() {
    if (this.state === 'connecting' || this.state === 'backoff') return;
    const waiters = this._waiters;
    this._waiters = [];
    for (const w of waiters) {
      if (this.state === 'open') w.resolve(this.conn);
      else w.reject(this._why());
    }
  }

  /**
   * Closes for good: cancels any backoff, closes the connection (graceful:
   * DISCONNECT after what is in flight). Resolves once closed.
   * @param {(conn: Connection) => void} [beforeClose] e.g. a last UNSUBSCRIBE
   */
  close(graceful = true, beforeClose = undefined) {
    const prev = this.state;
    this.state = 'closed';
    if (this._timer) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    this._settle();
    const conn = this.conn;
    if (!conn || conn.state === 'closed') return Promise.resolve();
    if (prev === 'open' && beforeClose) beforeClose(conn);
    return conn.close(graceful && conn.state === 'open');
  }
}

/**
 * The wait before dial `attempt` (1, 2, ...): the delay doubles each attempt
 * up to the cap, and half of it is random ("equal jitter"), so clients cut
 * off together do not all come back at once.
 * @param {number} attempt
 * @param {number} first reconnectDelayMs
 * @param {number} cap reconnectMaxDelayMs
 * @param {number} random in [0, 1)
 */
function backoffDelay(attempt, first, cap, random) {
  const base = Math.min(cap, first * 2 ** Math.min(attempt - 1, 30));
  return Math.round(base / 2 + random * (base / 2));
}

/** Wrong credentials stay wrong; everything else may heal. */
function retryable(err) {
  return !err || err.code !== 'NEXA_AUTH';
}

module.exports = { Channel, backoffDelay };
