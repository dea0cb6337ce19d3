'use strict';
// The client's request connection: one Channel (re-dialled when lost), the
// requests waiting for it in call order, each request's per-call options
// (database, timeout, signal), its trace, and the request counters of
// client.stats(). Streams have connections of their own (lib/change-stream.js).
const { Channel } = require('./channel');
const { rejectUnknown, callTimeout, checkSignal } = require('./options');
const { abortError } = require('./abort');
const { RequestQueue } = require('./request-queue');
const { traceRequest, nextRequestId, debug } = require('./diagnostics');
const { RequestCounters } = require('./stats');

/** What every request's options object may hold; some calls take a few more (their `extra`). */
const CALL_OPTIONS = Object.freeze(['database', 'signal', 'timeout']);

class RequestConnection {
  #opts; // holds the credentials: private, so no inspect, log or JSON.stringify shows them

  /**
   * @param {object} opts the client's options (lib/options.js)
   * @param {import('events').EventEmitter} events where 'connect', 'disconnect', 'reconnect' and 'error' are emitted
   */
  constructor(opts, events) {
    this.#opts = opts;
    this._events = events;
    /** @type {Channel|null} */
    this.channel = null;
    this._connecting = null;
    /** @type {RequestQueue|null} the channel's requests, in call order */
    this._queue = null;
    this._counters = new RequestCounters();
    this._reconnects = 0; // over every connect()
    this._down = false; // 'disconnect' was emitted and no 'reconnect' yet
  }

  /** @returns {'connecting'|'open'|'reconnecting'|'closed'} see NexaClient#status */
  get status() {
    const ch = this.channel;
    if (ch === null) return 'closed';
    switch (ch.state) {
      case 'open': return 'open';
      case 'idle':
      case 'connecting':
      case 'backoff': return ch.everOpened ? 'reconnecting' : 'connecting';
      default: return 'closed';
    }
  }

  /** The request part of client.stats(). */
  stats() {
    return { status: this.status, requests: this._counters.snapshot(), reconnects: this._reconnects };
  }

  /** An event to the listeners; a listener that throws does not break the client (the error is uncaught, as in node's own emitters). */
  _notify(name, arg) {
    try {
      this._events.emit(name, arg);
    } catch (err) {
      process.nextTick(() => { throw err; });
    }
  }

  /** See NexaClient#connect. */
  connect() {
    const ch = this.channel;
    if (ch && ch.state !== 'failed' && ch.state !== 'closed') {
      // Open: done. The first dial: one shared attempt. Reconnecting after a loss: when it opens.
      if (ch.state === 'open') return Promise.resolve();
      return ch.everOpened ? ch.whenOpen().then(() => {}) : this._connecting;
    }
    const channel = new Channel(this.#opts, {
      onDown: (error) => {
        this._down = true;
        this._notify('disconnect', { error });
      },
      onReconnect: (info) => {
        this._down = false;
        this._reconnects++;
        this._notify('reconnect', info);
      },
      onFail: (error) => {
        // Lost for good: without autoReconnect it was not reported as lost yet.
        if (!this._down) this._notify('disconnect', { error });
        this._down = false;
        if (this._events.listenerCount('error') > 0) this._notify('error', error);
      },
    });
    this.channel = channel;
    this._queue = new RequestQueue(channel);
    this._down = false;
    this._connecting = channel.start().then(() => {
      debug('client %s:%d: request connection open', this.#opts.host, this.#opts.port);
      this._notify('connect');
    }, (err) => {
      if (this.channel === channel) {
        this.channel = null;
        this._connecting = null;
      }
      throw err;
    });
    return this._connecting;
  }

  /**
   * Closes the channel, also mid-reconnect (requests in flight are answered
   * first), and emits 'disconnect' once it and `alongside` have finished,
   * if it was open.
   * @param {Promise<void>[]} alongside closings to wait for too (the client's streams)
   * @returns {Promise<void>}
   */
  async close(alongside) {
    const waits = alongside.slice();
    const ch = this.channel;
    const wasOpen = ch !== null && ch.state === 'open';
    this.channel = null;
    this._connecting = null;
    if (ch) waits.push(ch.close(true));
    await Promise.all(waits);
    if (wasOpen) this._notify('disconnect', { error: null });
    this._down = false;
  }

  /**
   * Sends one request. Requests go out in the order they were made: at once
   * when the connection is open, else queued until it is (connecting, or
   * reconnecting), each bounded by its timeout.
   * @param {number} type
   * @param {object} payload
   * @param {object|undefined} call the caller's CallOptions
   * @param {object} context what the errors say: operation, collection, key
   * @param {boolean} [withDatabase=true] add the database field
   * @param {readonly string[]} [extra] options the call takes beyond CALL_OPTIONS
   * @returns {Promise<*>}
   */
  call(type, payload, call, context, withDatabase = true, extra = undefined) {
    const op = context.operation;
    const c = call === undefined ? {} : call;
    if (c === null || typeof c !== 'object') throw new TypeError(`${op}: options must be an object`);
    rejectUnknown(c, extra ? [...CALL_OPTIONS, ...extra] : CALL_OPTIONS, `${op} option`);
    const timeout = c.timeout !== undefined ? callTimeout(c.timeout, op) : this.#opts.requestTimeout;
    const signal = checkSignal(c.signal, op);
    if (withDatabase) {
      const database = c.database !== undefined ? c.database : this.#opts.database;
      if (database !== undefined) {
        if (typeof database !== 'string' || database === '') throw new TypeError(`${op}: database must be a non-empty string`);
        payload.database = database;
        context.database = database;
      }
    }
    const counters = this._counters;
    counters.sent++;
    return traceRequest(() => this._send(type, payload, context, timeout, signal),
      () => ({ ...context, address: `${this.#opts.host}:${this.#opts.port}`, requestId: nextRequestId() }))
      .then(counters.answer, counters.failure);
  }

  /** call()'s request, its arguments checked: sent now, or queued until the connection is open. */
  _send(type, payload, context, timeout, signal) {
    // Settled before any connection work, as fetch() does.
    if (signal && signal.aborted) return Promise.reject(abortError(signal, context));
    if (!this.channel || this.channel.state === 'failed' || this.channel.state === 'closed') this.connect().catch(() => {});
    return this._queue.send(type, payload, context, timeout, signal);
  }
}

module.exports = { RequestConnection };
