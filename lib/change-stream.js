'use strict';
const { EventEmitter } = require('events');
const { Readable } = require('stream');
const { MSG } = require('./connection');
const { Channel } = require('./channel');
const { NexaOverflowError } = require('./errors');
const { onAbort, abortError } = require('./abort');
const { gapItem, catchUpItem, newestUpdate, catchUpFrom, nowSeconds } = require('./gaps');

const OPERATIONS = ['insert', 'update', 'delete', 'dropCollection'];
const DEFAULT_OPERATIONS = ['insert', 'update', 'delete'];
const DONE = Object.freeze({ value: undefined, done: true });

/**
 * A change stream: the events of one subscription, on a connection of its
 * own (the server keeps one subscription per connection).
 *
 * Consume it with `for await` (or `next()`), with `on('change', fn)`, or as a
 * Readable (`stream()`) — one of them per stream. Events are buffered from
 * the moment the server acknowledged the subscription (`ready`).
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
    this._hwm = opts.highWaterMark;
    this._policy = opts.overflow;
    this._window = opts.reorderWindowMs;
    this._buf = [];
    this._head = 0;
    this._waiters = [];
    this._error = null;
    this._flowing = false;
    this._onClosed = onClosed;
    this._closing = null;
    this._endedWith = null;
    // Backpressure: consumed events are acknowledged to the connection that
    // delivered them ('pause'), or arrivals at once (the other policies).
    this._segs = []; // [{conn, n}] delivered, not yet acknowledged, oldest first
    this._consumed = 0;
    this._ackEvery = Math.max(1, Math.floor(this._hwm / 4));
    this._ackSoon = false;
    this._turnPending = false;
    this._arrivals = 0;
    this._arrivalConn = null;
    this._dropReported = 0;
    // Reorder window: events sorted by timestamp, and their arrivals in order.
    this._ro = [];
    this._roArrivals = [];
    this._roHead = 0;
    this._roTimer = null;
    // Gaps: in-band items where changes were or may have been missed.
    this._gaps = gaps;
    this._catchUp = catchUp;
    this._newest = -Infinity; // the newest timestamp delivered
    this._mark = null; // catchUp: the newest _updated_at seen (the server's text)
    this._lostAt = null; // {since, mark} while a lost connection is not yet re-subscribed
    this._held = null; // catchUp: [{evs, conn} | {items}] kept back, in order, until a catch-up is read
    this._lastConn = null;
    this._dropGap = null; // dropOldest: the gap item at the buffer's head, grown while not consumed

    const context = { operation: 'watch', collection };
    this._channel = new Channel({ ...opts, stream: true }, {
      // Bounded like every request: a server that never answers must not hang `ready` or a reconnect.
      onOpen: (conn) => conn.request(MSG.SUBSCRIBE, { collection, operations }, context, { timeout: opts.requestTimeout }),
      onChanges: (evs, conn) => this._arrive(evs, conn),
      onUndecodable: (message) => this._undecodable(message),
      onDown: (error) => this._down(error),
      onReconnect: (info) => {
        this._resubscribed();
        this.emit('reconnect', info);
      },
      onFail: (err) => this._end(err),
    });
    this._requestTimeout = opts.requestTimeout;

    this._signal = signal || null;
    this._onAbort = null;
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
      this.ready = this._channel.start().catch((err) => {
        throw this._endedWith || err;
      });
      if (signal) this._onAbort = onAbort(signal, () => this._end(abortError(signal, context)));
    }
    // The failure also reaches the iterator; an unobserved `ready` must not
    // become an unhandled rejection.
    this.ready.catch((err) => this._end(err));
    this.on('newListener', (name) => {
      if (name === 'change' && !this._flowing) queueMicrotask(() => this._startFlowing());
    });
  }

  /** How many events wait in the buffer. */
  get buffered() {
    let held = 0;
    if (this._held !== null) for (const h of this._held) held += h.evs ? h.evs.length : 0;
    return this._buf.length - this._head + (this._ro.length - this._roHead) + held;
  }

  /** The `timestamp` of the newest event delivered (epoch seconds); undefined before the first. */
  get lastTimestamp() {
    return this._newest === -Infinity ? undefined : this._newest;
  }

  /** How many times the stream has reconnected. */
  get reconnects() {
    return this._channel.reconnects;
  }

  // --- arrival ------------------------------------------------------------------

  /** A run of events from one connection. */
  _arrive(evs, conn) {
    if (this.closed) return;
    if (conn !== this._lastConn) {
      this._lastConn = conn;
      // The first events of a new subscription come before its reconnect is
      // reported (they may share the answer's batch): the gap goes first.
      if (this._lostAt !== null) this._resubscribed();
    }
    if (this._held !== null) this._held.push({ evs, conn });
    else this._take(evs, conn);
  }

  /** Events join the buffer (or go straight to a waiting consumer). */
  _take(evs, conn) {
    const n = evs.length;
    if (this._policy === 'pause') {
      const last = this._segs[this._segs.length - 1];
      if (last !== undefined && last.conn === conn) last.n += n;
      else this._segs.push({ conn, n });
    } else {
      // Acknowledged once a turn, after the policy was applied (_turn): until
      // then the core holds at highWaterMark, so what one turn can bring is
      // bounded, and the policy bounds the buffer.
      this._arrivals += n;
      this._arrivalConn = conn;
      this._turnSoon();
    }
    if (this._catchUp !== null) this._mark = newestUpdate(this._mark, evs.map((e) => e.fullDocument));
    if (this._window > 0) {
      for (let i = 0; i < n; i++) this._reorder(evs[i]);
    } else if (!this._flowing && this._waiters.length === 0) {
      // The common case, consumer busy: append the run as it is (the run's
      // array is this stream's alone: adopted when nothing is buffered).
      const buf = this._buf;
      if (buf.length === 0) this._buf = evs;
      else for (let i = 0; i < n; i++) buf.push(evs[i]);
    } else {
      for (let i = 0; i < n; i++) this._enqueue(evs[i]);
    }
  }

  _enqueue(ev) {
    if (this._flowing) {
      this._delivered(ev);
      this.emit('change', ev);
      return;
    }
    if (this._waiters.length) {
      this._delivered(ev);
      this._waiters.shift().resolve({ value: ev, done: false });
      return;
    }
    this._buf.push(ev);
  }

  /** An item goes to the consumer. */
  _delivered(item) {
    const t = item.timestamp; // gap and catchUp items have none
    if (t > this._newest) this._newest = t;
    this._consumedOne();
  }

  /**
   * Under 'error' and 'dropOldest', once a turn: the bound is judged after
   * the consumer has had its turn (a burst it takes before the next one is
   * no overflow), then the arrivals are acknowledged and drops reported.
   */
  _turnSoon() {
    if (this._turnPending) return;
    this._turnPending = true;
    setImmediate(() => {
      this._turnPending = false;
      if (this._buf.length - this._head > this._hwm && !this.closed) this._overflowAll();
      if (this._head > 0 && this._head * 2 >= this._buf.length) {
        // Drops only advance the head: without this a consumer that never
        // reads would let the array grow without bound.
        this._buf = this._buf.slice(this._head);
        this._head = 0;
      }
      if (this._arrivals > 0) {
        this._arrivalConn.ack(this._arrivals);
        this._arrivals = 0;
      }
      if (this.dropped > this._dropReported) {
        const n = this.dropped - this._dropReported;
        this._dropReported = this.dropped;
        this.emit('overflow', { dropped: n, total: this.dropped });
      }
    });
  }

  /** The buffer holds more than highWaterMark after the consumer's turn. */
  _overflowAll() {
    if (this._policy === 'error') {
      this._end(new NexaOverflowError(`change stream on ${this.collection === null ? 'every collection' : `'${this.collection}'`} ` +
        `holds more than highWaterMark (${this._hwm}) events: the consumer is too slow`, { collection: this.collection, highWaterMark: this._hwm }));
      return;
    }
    // dropOldest: one gap item stands where the dropped events were; one not
    // yet consumed at the head grows instead of being dropped itself.
    const buf = this._buf;
    let gap = null;
    if (buf[this._head] === this._dropGap) {
      gap = this._dropGap;
      buf[this._head++] = undefined;
    }
    let count = 0;
    let since = Infinity;
    let until = -Infinity;
    while (buf.length - this._head > this._hwm) {
      const ev = buf[this._head];
      buf[this._head++] = undefined;
      count++;
      if (ev.timestamp < since) since = ev.timestamp;
      if (ev.timestamp > until) until = ev.timestamp;
    }
    if (count === 0) {
      buf[--this._head] = gap;
      return;
    }
    this.dropped += count;
    const now = nowSeconds();
    if (since === Infinity) since = until = now;
    this.emit('gap', gapItem(this.collection, 'dropOldest', since, until, { count }));
    if (!this._gaps) return;
    this._dropGap = gap === null ? gapItem(this.collection, 'dropOldest', since, until, { count })
      : gapItem(this.collection, 'dropOldest', Math.min(gap.since, since), Math.max(gap.until, until), { count: gap.count + count });
    buf[--this._head] = this._dropGap;
  }

  _consumedOne() {
    if (this._policy !== 'pause') return;
    // Acknowledged in steps of a quarter of the bound, and in any case once an
    // event-loop turn: the core may have paused at its byte bound before a
    // quarter of the events was reached, and must hear of every consumption.
    if (++this._consumed >= this._ackEvery) this._ack();
    else if (!this._ackSoon) {
      this._ackSoon = true;
      setImmediate(() => {
        this._ackSoon = false;
        if (this._consumed > 0) this._ack();
      });
    }
  }

  _ack() {
    let n = this._consumed;
    this._consumed = 0;
    while (n > 0 && this._segs.length) {
      const seg = this._segs[0];
      const k = Math.min(n, seg.n);
      if (seg.conn !== null) seg.conn.ack(k); // null: gap and catchUp items, which no connection holds
      seg.n -= k;
      n -= k;
      if (seg.n === 0) this._segs.shift();
    }
  }

  // --- gaps ---------------------------------------------------------------------

  /** The connection was lost: what arrives from now on was sent after a gap. */
  _down(error) {
    if (this._lostAt === null) this._lostAt = { since: this._newestSeen(), mark: this._mark };
    this.emit('disconnect', { error });
  }

  /** The newest timestamp delivered or waiting to be, else now. */
  _newestSeen() {
    let t = this._newest;
    const scan = (items, from) => {
      for (let i = from; i < items.length; i++) {
        const it = items[i];
        if (it !== undefined && it.ev !== undefined) {
          if (it.ev.timestamp > t) t = it.ev.timestamp;
        } else if (it !== undefined && it.timestamp > t) t = it.timestamp;
      }
    };
    scan(this._buf, this._head);
    scan(this._ro, this._roHead);
    if (this._held !== null) for (const h of this._held) if (h.evs) scan(h.evs, 0);
    return t === -Infinity ? nowSeconds() : t;
  }

  /** Subscribed again after a loss: the gap is reported (and caught up) before anything newer. */
  _resubscribed() {
    const lost = this._lostAt;
    if (lost === null) return;
    this._lostAt = null;
    const gap = gapItem(this.collection, 'reconnect', lost.since, nowSeconds());
    if (this._catchUp === null) {
      this.emit('gap', gap);
      if (this._gaps) this._pushNotices([gap]);
      return;
    }
    // Live events wait behind the slot until the documents are read.
    const slot = { items: null };
    if (this._held === null) this._held = [];
    this._held.push(slot);
    this._catchUp(this.collection, catchUpFrom(lost.mark)).then(({ found, complete }) => {
      gap.catchUp = { documents: found.length, complete };
      slot.items = [gap];
      for (const { collection, document } of found) slot.items.push(catchUpItem(collection, document));
      this._mark = newestUpdate(this._mark, found.map((f) => f.document));
    }, (err) => {
      gap.catchUp = { documents: 0, complete: false, error: err };
      slot.items = [gap];
    }).then(() => {
      if (this.closed) return;
      this.emit('gap', gap);
      this._releaseHeld(false);
    });
  }

  /** The server sent an event this client could not decode (the connection stays). */
  _undecodable(message) {
    if (this.closed) return;
    const now = nowSeconds();
    const gap = gapItem(this.collection, 'undecodable', this._newestSeen(), now, { message });
    this.emit('gap', gap);
    if (this._gaps) this._pushNotices([gap]);
  }

  /**
   * Gap and catchUp items join the buffer in order with the events (behind
   * held events, and after what the reorder window holds). No connection
   * holds them: consuming them acknowledges nothing.
   */
  _pushNotices(items) {
    if (this.closed) return;
    if (this._held !== null) {
      this._held.push({ items });
      return;
    }
    if (this._window > 0) this._releaseReordered(true);
    if (this._policy === 'pause') {
      const last = this._segs[this._segs.length - 1];
      if (last !== undefined && last.conn === null) last.n += items.length;
      else this._segs.push({ conn: null, n: items.length });
    }
    for (const item of items) this._enqueue(item);
  }

  /**
   * Hands on what was held, in order, up to a catch-up still being read
   * (all: everything that has arrived, as the stream ends).
   */
  _releaseHeld(all) {
    const held = this._held;
    if (held === null) return;
    this._held = null;
    let k = 0;
    for (; k < held.length; k++) {
      const h = held[k];
      if (h.evs) this._take(h.evs, h.conn);
      else if (h.items) this._pushNotices(h.items);
      else if (!all) break; // a catch-up still being read: the rest waits behind it
    }
    if (k < held.length) this._held = held.slice(k);
  }

  // --- reorder window -----------------------------------------------------------

  /**
   * Holds events up to reorderWindowMs and releases them in timestamp order:
   * once an event has waited the window, every held event with a timestamp
   * up to its own goes out, smallest first.
   */
  _reorder(ev) {
    const ts = typeof ev.timestamp === 'number' ? ev.timestamp : -Infinity;
    const ro = this._ro;
    let i = ro.length;
    while (i > this._roHead && ro[i - 1].ts > ts) i--;
    ro.splice(i, 0, { ts, ev });
    this._roArrivals.push({ ts, at: Date.now() });
    if (this._roTimer === null) this._armReorder();
  }

  _armReorder() {
    const first = this._roArrivals[0];
    if (first === undefined) return;
    const wait = Math.max(0, first.at + this._window - Date.now());
    this._roTimer = setTimeout(() => {
      this._roTimer = null;
      this._releaseReordered(false);
      this._armReorder();
    }, wait);
    this._roTimer.unref();
  }

  _releaseReordered(all) {
    const now = Date.now();
    let upTo = -Infinity;
    const arr = this._roArrivals;
    let k = 0;
    while (k < arr.length && (all || arr[k].at + this._window <= now)) {
      if (arr[k].ts > upTo) upTo = arr[k].ts;
      k++;
    }
    if (k > 0) arr.splice(0, k);
    const ro = this._ro;
    while (this._roHead < ro.length && (all || ro[this._roHead].ts <= upTo)) {
      const { ev } = ro[this._roHead];
      ro[this._roHead++] = undefined;
      if (this.closed) continue;
      this._enqueue(ev);
    }
    if (this._roHead === ro.length) {
      this._ro = [];
      this._roHead = 0;
    }
  }

  // --- consuming ----------------------------------------------------------------

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
    if (this._flowing || this.listenerCount('change') === 0) return;
    this._flowing = true;
    while (this._head < this._buf.length && this._flowing) {
      const ev = this._buf[this._head];
      this._buf[this._head++] = undefined;
      this._delivered(ev);
      this.emit('change', ev);
    }
    this._buf = [];
    this._head = 0;
    if (this.closed && this._error) this._emitError();
  }

  /**
   * A Readable in object mode over this stream; it pulls events only as fast
   * as it is read, so backpressure holds end to end. Destroying it closes the stream.
   * @param {{highWaterMark?: number}} [options]
   * @returns {Readable}
   */
  stream(options = {}) {
    return Readable.from(this, { objectMode: true, highWaterMark: options.highWaterMark || 16 });
  }

  // --- ending -------------------------------------------------------------------

  /** Ends the stream with an error (err) or because its connection closed. */
  _end(err) {
    if (this.closed) return;
    this._releaseHeld(true); // what arrived is not lost
    if (this._window > 0) this._releaseReordered(true);
    if (err) this._error = err;
    this._endedWith = err || null;
    this._finish();
    this._channel.close(false);
    if (err) this._emitError();
  }

  _emitError() {
    // Only to listeners: an unobserved error is the iterator's to report,
    // never an unhandled 'error' event that would take the process down.
    if (this._flowing && this._error && this.listenerCount('error') > 0) {
      const err = this._error;
      this._error = null;
      this.emit('error', err);
    }
  }

  _finish() {
    if (this.closed) return;
    this.closed = true;
    if (this._roTimer) {
      clearTimeout(this._roTimer);
      this._roTimer = null;
    }
    if (this._onAbort) this._onAbort();
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
    this._buf = [];
    this._head = 0;
    this._ro = [];
    this._roHead = 0;
    this._roArrivals = [];
    this._held = null;
    this._error = null; // closing on purpose: waiters end, they do not throw
    this._finish();
    this._closing = this._channel.close(true, (conn) => {
      conn.request(MSG.UNSUBSCRIBE, {}, { operation: 'unwatch', collection: this.collection }, { timeout: this._requestTimeout }).catch(() => {});
    });
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
    return `ChangeStream { ${what}, [${this.operations.join(', ')}], ${this.closed ? 'closed' : 'open'}, buffered: ${this.buffered} }`;
  }
}

if (typeof Symbol.asyncDispose === 'symbol') {
  /** `await using stream = client.watch(...)` closes it at the end of the block. */
  ChangeStream.prototype[Symbol.asyncDispose] = function asyncDispose() {
    return this.close();
  };
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
