'use strict';
const { EventEmitter } = require('events');
const { onAbort, abortError } = require('./abort');
const { EventBuffer } = require('./stream/event-buffer');
const { ReorderWindow } = require('./stream/reorder-window');
const { acksFor } = require('./stream/acks');
const { Holdback } = require('./stream/holdback');
const { GapTracker } = require('./stream/gap-tracker');
const { Overflow } = require('./stream/overflow');
const { Reports } = require('./stream/reports');
const { Subscription } = require('./stream/subscription');
const { claimWay, readableOver } = require('./stream/consumption');
const { nowSeconds } = require('./stream/gaps');
const { streamName } = require('./diagnostics');

const DONE = Object.freeze({ value: undefined, done: true });

/**
 * A change stream: the events of one subscription, on a connection of its
 * own (the server keeps one subscription per connection).
 *
 * Consume it one way: `for await` (or `next()`), `on('change', fn)`, or the
 * one Readable `stream()` returns. The first use fixes the way; another
 * throws a TypeError naming both (`next()` rejects with it), and so does a
 * second `stream()`. `close()` and `return()` work whichever way. Events are
 * buffered from the moment the server acknowledged the subscription (`ready`).
 *
 * Emits 'disconnect' ({error}) when its connection is lost and 'reconnect'
 * ({attempts, downtimeMs}) once it is re-subscribed; events of the gap are
 * not replayed (the server has no resume token). 'gap' (the gap item) for
 * every gap, whether or not `gaps` puts it in-band; 'overflow' ({dropped,
 * total}) under the 'dropOldest' policy, 'error' (only when listened to),
 * 'close' once it has ended.
 *
 * With `gaps`, items `{operationType: 'gap', reason, since, until}` are
 * yielded in order with the events where changes were or may have been
 * missed; with `catchUp`, a reconnect gap is followed by the documents the
 * server says changed since (`{operationType: 'catchUp'}`), then the new
 * live events.
 *
 * The pieces: EventBuffer (what waits for the consumer), ReorderWindow,
 * acks (what was consumed, reported to the core, which alone decides when
 * to read on), Overflow (what `overflow` does at highWaterMark), Holdback
 * (live events kept behind a catch-up), GapTracker (gaps and catch-up),
 * consumption (the one way it is consumed, and stream()'s Readable),
 * Reports (what listeners, tracers and the log are told); this class
 * routes between them and owns the public face.
 */
class ChangeStream extends EventEmitter {
  /**
   * @param {object} opts connection and stream options (lib/options.js)
   * @param {string|null} collection null: every collection
   * @param {string[]} operations
   * @param {object} how
   * @param {AbortSignal} [how.signal]
   * @param {boolean} [how.gaps] yield gap items in-band
   * @param {((coll: string|null, since: string|null) => Promise<{found: Array<{collection: string, document: object}>, complete: boolean}>)|null} [how.catchUp]
   *   reads the documents changed since a mark (the server's `_updated_at` text; null: all)
   * @param {(s: ChangeStream) => void} how.onClosed told once when the stream ends
   */
  constructor(opts, collection, operations, { signal, gaps = false, catchUp = null, onClosed }) {
    super();
    /** @type {string|null} */
    this.collection = collection;
    /** @type {string[]} */
    this.operations = operations;
    /** True once the stream has ended. */
    this.closed = false;
    /** Events dropped under the 'dropOldest' policy. */
    this.dropped = 0;
    this._policy = opts.overflow;
    this._onClosed = onClosed;

    this._buf = new EventBuffer();
    this._acks = acksFor(opts.overflow);
    this._window = opts.reorderWindowMs > 0 ? new ReorderWindow(opts.reorderWindowMs, (ev) => this._enqueue(ev)) : null;
    this._holdback = new Holdback((evs, conn) => this._take(evs, conn), (items) => this._takeItems(items));
    /** @type {import('./stream/consumption').Way|null} the one way it is consumed (consumption.js) */
    this._mode = null;
    this._waiters = [];
    this._newest = -Infinity; // the newest timestamp delivered
    this._lastConn = null;
    this._reports = new Reports(this, opts);
    this._gapTracker = new GapTracker(collection, {
      inBand: gaps, catchUp, holdback: this._holdback, newestSeen: () => this._newestSeen(),
      takeItems: (items) => this._takeItems(items), announce: (gap) => this._reports.gap(gap), closed: () => this.closed,
    });
    this._overflow = new Overflow(opts.overflow, opts.highWaterMark, {
      collection, buf: this._buf, acks: this._acks, gapTracker: this._gapTracker, closed: () => this.closed, end: (err) => this._end(err),
      dropped: (n) => { this.dropped += n; }, reportDrops: (n) => this.emit('overflow', { dropped: n, total: this.dropped }),
    });

    this._error = null; // for the consumer, once
    this._endedWith = null;
    this._closing = null;

    // stats(): counted per run of events, and one add per item handed over.
    this._received = 0;
    this._bytes = 0;
    this._handed = 0;

    this._subscription = new Subscription(opts, this, collection, operations, {
      onChanges: this._arrive.bind(this), // the connection calls it straight: no hop between
      onUndecodable: (message) => this._gapTracker.undecodable(message),
      onBackpressure: (paused) => this._overflow.backpressure(paused),
      onDown: (error) => {
        // One 'disconnect' for each gap: a re-dial lost before any event is the same loss.
        if (this._gapTracker.connectionLost()) this._reports.disconnected(error);
      },
      onReconnect: (info) => {
        this._gapTracker.resubscribed();
        this._reports.reconnected(info);
      },
      onFail: (err) => this._end(err),
    });

    const context = { operation: 'watch', collection };
    this._unabort = null;
    /**
     * Resolves with the server's answer once it has acknowledged the
     * subscription; rejects if it could not connect or refused.
     * @type {Promise<object>}
     */
    if (signal && signal.aborted) {
      this.ready = Promise.reject(abortError(signal, context));
      this._end(abortError(signal, context));
    } else {
      // Ended on purpose first (aborted, say): that is what `ready` reports, not the dial it cut short.
      this.ready = this._subscription.start().catch((err) => {
        throw this._endedWith || err;
      });
      if (signal) this._unabort = onAbort(signal, () => this._end(abortError(signal, context)));
    }
    // The failure also reaches the consumer; an unobserved `ready` must not
    // become an unhandled rejection.
    this.ready.catch((err) => this._end(err));
    this.on('newListener', (name) => {
      if (name !== 'change' || this._mode === 'emitter') return;
      this._mode = claimWay(this._mode, 'emitter'); // throws out of on() if the stream is consumed another way
      queueMicrotask(() => this._startFlowing());
    });
  }

  /** How many events wait to be consumed. */
  get buffered() {
    return this._buf.length + (this._window ? this._window.size : 0) + this._holdback.events;
  }

  /** The `timestamp` of the newest event delivered (epoch seconds); undefined before the first. */
  get lastTimestamp() {
    return this._newest === -Infinity ? undefined : this._newest;
  }

  /** How many times the stream has reconnected. */
  get reconnects() {
    return this._subscription.reconnects;
  }

  /**
   * Counters since the stream began: events `received` from the server,
   * items `delivered` to the consumer (events, and gap/catchUp items),
   * `dropped` ('dropOldest'), `buffered` now, payload `bytes` received,
   * `reconnects`, `gaps`, `pauses` (under 'pause', times the socket stopped
   * being read because the stream held its bound unconsumed: highWaterMark
   * events or highWaterMarkBytes), and `lag`: now minus
   * the newest delivered event's `timestamp`, in whole ms (null before the
   * first; it grows while no events come).
   */
  stats() {
    return {
      received: this._received,
      delivered: this._handed,
      dropped: this.dropped,
      buffered: this.buffered,
      bytes: this._bytes,
      reconnects: this.reconnects,
      gaps: this._gapTracker.count,
      pauses: this._overflow.pauses,
      lag: this._newest === -Infinity ? null : Math.max(0, Math.round(Date.now() - this._newest * 1000)),
    };
  }

  // --- arrival ------------------------------------------------------------------

  /** A run of events from one connection. */
  _arrive(evs, conn, bytes = 0) {
    if (this.closed) return;
    this._received += evs.length;
    this._bytes += bytes;
    if (conn !== this._lastConn) {
      this._lastConn = conn;
      // The first events of a new subscription come before its reconnect is
      // reported (they may share the answer's batch): the gap goes first.
      if (this._gapTracker.lost) this._gapTracker.resubscribed();
    }
    if (this._holdback.active) this._holdback.run(evs, conn);
    else this._take(evs, conn);
  }

  /** Events join the buffer (or go straight to a waiting consumer). */
  _take(evs, conn) {
    this._acks.arrived(conn, evs.length);
    if (this._policy !== 'pause') this._overflow.turnSoon();
    if (this._gapTracker.watchesEvents) this._gapTracker.sawEvents(evs);
    if (this._window !== null) {
      for (let i = 0; i < evs.length; i++) this._window.add(evs[i]);
    } else if (this._mode !== 'emitter' && this._waiters.length === 0) {
      this._buf.pushRun(evs); // the common case, consumer busy: the run's array is this stream's alone
    } else {
      for (let i = 0; i < evs.length; i++) this._enqueue(evs[i]);
    }
  }

  /**
   * Gap and catchUp items join in order with the events: after what the
   * reorder window holds. No connection holds them: consuming them
   * acknowledges nothing.
   */
  _takeItems(items) {
    if (this.closed) return;
    if (this._window !== null) this._window.flush();
    this._acks.notices(items.length);
    for (const item of items) this._enqueue(item);
  }

  /** One item to the consumer now if it waits, else to the buffer. */
  _enqueue(item) {
    if (this.closed) return;
    if (this._mode === 'emitter' && this._buf.length === 0) {
      this._delivered(item);
      this.emit('change', item);
    } else if (this._waiters.length) {
      this._delivered(item);
      this._waiters.shift().resolve({ value: item, done: false });
    } else {
      this._buf.push(item);
    }
  }

  /** An item goes to the consumer. */
  _delivered(item) {
    this._handed++;
    const t = item.timestamp; // gap and catchUp items have none
    if (t > this._newest) this._newest = t;
    this._acks.consumedOne();
  }

  /** The newest timestamp delivered or waiting to be, else now (where a gap starts). */
  _newestSeen() {
    let t = this._buf.newestTimestamp(this._newest);
    if (this._window !== null) t = this._window.newestTimestamp(t);
    t = this._holdback.newestTimestamp(t);
    return t === -Infinity ? nowSeconds() : t;
  }

  // --- consuming ----------------------------------------------------------------

  /**
   * The next item; `{done: true}` once the stream has ended. Rejects with a
   * TypeError if the stream is consumed another way.
   * @returns {Promise<IteratorResult<object>>}
   */
  next() {
    if (this._mode !== 'iterator') {
      try {
        this._mode = claimWay(this._mode, 'iterator');
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this._pull();
  }

  /** What next() hands out, whoever asks: the iterator or stream()'s Readable. */
  _pull() {
    if (this._buf.length > 0) {
      const value = this._buf.shift();
      this._delivered(value);
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

  _startFlowing() {
    if (this.listenerCount('change') === 0) return;
    while (this._buf.length > 0) {
      const ev = this._buf.shift();
      this._delivered(ev);
      this.emit('change', ev);
    }
    if (this.closed && this._error) this._emitError();
  }

  /**
   * A Readable in object mode over this stream; it pulls events only as fast
   * as it is read, so backpressure holds end to end. Destroying it closes the
   * stream. One per stream: throws a TypeError if the stream is consumed
   * another way (iterated, or 'change' listeners once added), or if stream()
   * was called before.
   * @param {{highWaterMark?: number}} [options]
   * @returns {import('stream').Readable}
   */
  stream(options = {}) {
    this._mode = claimWay(this._mode, 'readable');
    return readableOver(() => this._pull(), () => this.close(), options.highWaterMark || 16);
  }

  // --- ending -------------------------------------------------------------------

  /** Ends the stream with an error (err) or because its connection closed. */
  _end(err) {
    if (this.closed) return;
    this._holdback.release(true); // what arrived is not lost
    if (this._window !== null) this._window.flush();
    if (err) this._error = err;
    this._endedWith = err || null;
    this._finish();
    this._subscription.abandon();
    if (err) this._emitError();
  }

  _emitError() {
    // Only to listeners: an unobserved error is the iterator's to report,
    // never an unhandled 'error' event that would take the process down.
    if (this._mode === 'emitter' && this._error && this.listenerCount('error') > 0) {
      const err = this._error;
      this._error = null;
      this.emit('error', err);
    }
  }

  _finish() {
    if (this.closed) return;
    this.closed = true;
    this._reports.closed(this._error);
    if (this._window !== null) this._window.clear();
    if (this._unabort) this._unabort();
    // Waiters exist only while the buffer is empty.
    const ws = this._waiters;
    this._waiters = [];
    const err = ws.length ? this._error : null;
    if (err) this._error = null;
    for (const w of ws) {
      if (err) w.reject(err);
      else w.resolve(DONE);
    }
    const cb = this._onClosed;
    this._onClosed = null;
    if (cb) cb(this);
    queueMicrotask(() => this.emit('close'));
  }

  /**
   * Ends the stream: UNSUBSCRIBE, then its connection is closed (also
   * mid-reconnect or mid-backoff). Pending `next()` calls resolve
   * `{done: true}`; events not yet consumed are dropped. Resolves once the
   * connection is closed.
   * @returns {Promise<void>}
   */
  close() {
    if (this._closing) return this._closing;
    this._buf.clear();
    if (this._window !== null) this._window.clear();
    this._holdback.clear();
    this._error = null; // closing on purpose: waiters end, they do not throw
    this._finish();
    this._closing = this._subscription.close();
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
    return `ChangeStream { ${streamName(this.collection)}, [${this.operations.join(', ')}], ${this.closed ? 'closed' : 'open'}, buffered: ${this.buffered} }`;
  }
}

if (typeof Symbol.asyncDispose === 'symbol') {
  /** `await using stream = client.watch(...)` closes it at the end of the block. */
  ChangeStream.prototype[Symbol.asyncDispose] = function asyncDispose() {
    return this.close();
  };
}

module.exports = { ChangeStream };
