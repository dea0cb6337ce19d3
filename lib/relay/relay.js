'use strict';
// The relay: one NexaDB change stream in, entries out to a sink (Redis
// Streams by default), in order, each change once.
//
// Two loops share one queue of entries. The reader takes items from the
// change stream and queues them; the writer appends the queue's head to the
// sink a batch at a time, retrying with backoff while the sink fails. When
// the queue is full the reader waits, so the change stream fills and the
// client stops reading the server (no loss: the server's stall). After
// `maxStallMs` of waiting the reader stops waiting and discards what it
// reads instead, into one gap entry appended once the sink takes entries
// again.
const { EventEmitter } = require('events');
const { relayOptions, nexadbClient } = require('./options');
const { parseOperations } = require('../arguments');
const { RedisSink } = require('./redis-sink');
const { toEntry } = require('./entry');
const { gapItem } = require('../stream/gaps');
const { Discard } = require('./discard');
const { StreamNames } = require('./stream-names');
const { OwnCoverage } = require('./coverage');
const { Liveness } = require('./liveness');
const { settlesBy, TIMED_OUT, Deadline } = require('./time-bound');

/** Past closeTimeoutMs: what the last record, and then the goodbyes to Redis and NexaDB, may each take. */
const FAREWELL_MS = 1000;

class Relay extends EventEmitter {
  /** @param {object} options see relay() */
  constructor(options) {
    super();
    const o = relayOptions(options);
    this._o = o;
    /** This relay's id: in its gap entries and its record in Redis. */
    this.id = o.relayId;
    /** The stream it appends to (a name template when it holds '{collection}'). */
    this.stream = o.stream;
    this._names = new StreamNames(o.stream);
    this._sink = o.sink || new RedisSink({
      redis: o.redis, dedupWindowMs: o.dedupWindowMs, maxLen: o.maxLen, retention: o.retention,
      stateKey: `${o.stream}:relays`, onError: (err) => this._sinkError(err),
    });
    this._client = null;
    this._ownsClient = false;
    this._stream = null;
    // Aborting a ChangeStream ends it but keeps what it received, for the reader (close() drops it).
    this._stopReceiving = new AbortController();
    this._queue = [];
    this._queuedBytes = 0; // what the queue's entries take: bounded as their number is (maxQueueBytes)
    this._writerWake = null;
    this._spaceWake = null;
    this._discard = null; // a Discard while the reader discards
    this._resubscribedAt = 0; // when the stream's last reconnect gap ended (ms)
    this._ending = false;
    // Once ending: when the writer stops, in the middle of an append too (a
    // Redis that stopped answering never settles one).
    this._giveUp = new Deadline();
    this._closing = null;
    this._tornDown = false; // by a close() that did not wait for the start to end
    // Events in the socket, the core and the reorder window: what `covered` stays behind now.
    this._inFlightMs = o.reorderWindowMs + 250;
    this._own = new OwnCoverage(this._inFlightMs);
    this._liveness = new Liveness({
      sink: this._sink, relayId: this.id, heartbeatMs: o.heartbeatMs, reorderWindowMs: o.reorderWindowMs,
      relaying: { collection: o.collection, operations: o.operations || parseOperations() },
      relay: {
        covered: () => this._own.until({
          head: this._queue[0], buffered: this._stream ? this._stream.buffered : 0, discardingSince: this._discard ? this._discard.since : null,
        }),
        streams: () => this._names.all(),
        stopped: () => this._ending,
        queueGaps: (gaps, streams) => this._queueRestartGaps(gaps, streams),
      },
    });
    this._stats = { appended: 0, duplicates: 0, gaps: 0, gapsCovered: 0, discarded: 0, redisErrors: 0, newestTimestamp: null };
    /** Resolves once subscribed, connected to the sink and past the restart check. */
    this.ready = this._start();
    this.ready.catch(() => {});
    /**
     * Resolves once both loops have ended and the relay's last record is
     * written (close(), or the change stream failed for good).
     */
    this.done = this.ready.then(() => this._wound).then(() => {}, () => {});
  }

  async _start() {
    const o = this._o;
    ({ client: this._client, owned: this._ownsClient } = nexadbClient(o.nexadb));
    try {
      await this._sink.open();
      const watchOptions = { gaps: true, reorderWindowMs: o.reorderWindowMs, signal: this._stopReceiving.signal };
      if (o.catchUp) watchOptions.catchUp = true;
      if (o.operations) watchOptions.operations = o.operations;
      // Gap items (reconnect, dropOldest, undecodable) come in band, in order with the changes.
      this._stream = this._client.watch(o.collection, watchOptions);
      this._stream.on('disconnect', () => this._own.lost());
      this._stream.once('close', () => this._own.stopped(this._stream.buffered > 0));
      await this._stream.ready;
      const t0 = Date.now();
      this._own.begin(t0);
      const begun = await this._liveness.begin(t0);
      if (!begun || this._tornDown) throw new Error('relay closed while starting');
    } catch (err) {
      await this._teardown();
      throw err;
    }
    this._liveness.beat();
    this._reading = this._read();
    this._writing = this._write();
    this._wound = this._windDown();
  }

  /**
   * Once the change stream has ended (close(), or it failed for good) and
   * the writer is done: the last record, stopped, that says what it did cover.
   */
  async _windDown() {
    await Promise.all([this._reading, this._writing]);
    this._giveUp.clear();
    await this._liveness.end(Math.max(this._giveUp.at, Date.now()) + FAREWELL_MS);
  }

  // --- reader -------------------------------------------------------------------

  async _read() {
    try {
      for await (const item of this._stream) {
        this._own.pulled(item);
        if (item.operationType === 'gap' && !(item.ns && item.ns.coll)) await this._learnStreams();
        this._take(item);
        // Once ending, what the stream still holds is taken in whole: it is all there is to append.
        if (!this._discard && !this._ending && this._queueFull()) await this._waitForSpace();
      }
    } catch (err) {
      if (!this._ending) this._fail(err); // not the abort of close()
    } finally {
      // Ended while reconnecting: the stream's gap for that will never come.
      const unreported = this._own.unreportedGap(this._o.collection);
      if (unreported) this._take(unreported);
      if (this._discard) this._endDiscard(); // what it discarded gets its gap, appended with the rest
      this._ending = true;
      this._giveUp.by(Date.now() + this._o.closeTimeoutMs);
      this._wakeWriter();
    }
  }

  _take(item) {
    const reconnected = item.operationType === 'gap' && item.reason === 'reconnect';
    if (reconnected) this._resubscribedAt = item.until * 1000; // discarded or not: a catch-up may follow
    if (this._discard) {
      if (this._discard.take(item)) this._stats.discarded++;
      return;
    }
    if (reconnected) this._liveness.ownHoleEnded(item.until * 1000); // its own coverage starts again after a hole in it
    // A catch-up's document stands for changes made before the re-subscription,
    // and the live changes queued behind it were made after: it counts as of then (OwnCoverage).
    const at = item.operationType === 'catchUp' ? this._resubscribedAt : undefined;
    this._enqueue(item, { settles: reconnected ? 1 : 0, at });
  }

  _queueFull() {
    return this._queue.length >= this._o.maxQueue || this._queuedBytes >= this._o.maxQueueBytes;
  }

  /** The queue is full: wait until the writer makes room, at most maxStallMs, then discard. */
  _waitForSpace() {
    return new Promise((resolve) => {
      const timer = this._o.maxStallMs === Infinity ? null : setTimeout(() => {
        this._spaceWake = null;
        const last = this._queue[this._queue.length - 1];
        this._discard = new Discard((last && last.ts) || Date.now() / 1000);
        this.emit('stall', { queued: this._queue.length, stalledMs: this._o.maxStallMs });
        resolve();
      }, this._o.maxStallMs);
      this._spaceWake = () => {
        if (timer) clearTimeout(timer);
        this._spaceWake = null;
        resolve();
      };
    });
  }

  /** The queue moved on: a discard ends (its gap queued), a reader waiting for space reads on. */
  _progressed() {
    if (this._discard) this._endDiscard();
    if (this._spaceWake && !this._queueFull()) this._spaceWake();
  }

  /**
   * The sink takes entries again (or the relay stops receiving): what was
   * discarded becomes one gap entry, in its place; with nothing discarded,
   * the stream's holes met meanwhile go in as they came.
   */
  _endDiscard() {
    const d = this._discard;
    this._discard = null;
    if (d.count === 0) {
      for (const gap of d.holes) this._take(gap);
      return;
    }
    this._liveness.ownHoleEnded(Date.now());
    this._names.meet(d.collections);
    this._enqueue(d.gapItem(this._o.collection), { settles: d.reconnects });
  }

  /**
   * A gap of every collection goes to every collection's stream: those this
   * relay knows, and those of the collections the server has now (one first
   * written in the hole has no stream yet, and its readers must see the gap).
   */
  async _learnStreams() {
    if (!this._names.template || typeof this._client.listCollections !== 'function') return;
    try {
      const colls = await this._giveUp.race(this._client.listCollections()); // close() does not wait past its time
      if (colls !== TIMED_OUT) this._names.meet(colls);
    } catch (_) { /* NexaDB away again: the streams known get it */ }
  }

  /**
   * @param {object} item
   * @param {object} [how]
   * @param {number} [how.settles] connection losses whose gap this is: once
   *   its entry is appended, this relay's coverage may pass them (OwnCoverage)
   * @param {object} [how.held] the same for a gone relay's hole (OwnCoverage.hold)
   * @param {number} [how.at] the time (ms) it counts as of, when not its pulling's
   */
  _enqueue(item, { settles = 0, held = null, at } = {}) {
    const coll = item.ns && item.ns.coll;
    // A gap of every collection goes to every stream this relay knows.
    const streams = coll || !this._names.template ? [this._names.of(coll)] : this._names.all();
    const entries = streams.map((stream) => toEntry(item, stream, this.id));
    if (at !== undefined) for (const e of entries) e.at = Math.min(e.at, at);
    if (settles > 0 || held) {
      // Coverage waits for its last entry; with no stream to put it in, nothing of it can be appended.
      if (entries.length > 0) entries[entries.length - 1].waits = { settles, held };
      else this._own.appended({ settles, held });
    }
    for (const e of entries) this._queuedBytes += e.bytes;
    this._queue.push(...entries);
    this._wakeWriter();
  }

  // --- writer -------------------------------------------------------------------

  _wakeWriter() {
    if (this._writerWake) this._writerWake();
  }

  async _write() {
    let delay = 100;
    for (;;) {
      if (this._queue.length === 0) {
        if (this._ending) break;
        await new Promise((r) => { this._writerWake = r; });
        this._writerWake = null;
        continue;
      }
      // A hole of this relay's that another relay covered is no gap in the stream.
      const head = this._queue[0];
      if (head.gap && !head.peerChecked && (head.gap.reason === 'reconnect' || head.gap.reason === 'relayStall')) {
        head.peerChecked = true;
        const covered = await this._giveUp.race(this._liveness.coveredByPeer(head.gap));
        if (covered === TIMED_OUT) break;
        if (covered) {
          this._queue.shift();
          this._queuedBytes -= head.bytes;
          this._stats.gapsCovered++;
          if (head.waits) this._own.appended(head.waits);
          this._progressed();
          continue;
        }
      }
      const end = this._queue.findIndex((e, i) => i > 0 && e.gap);
      const batch = this._queue.slice(0, Math.min(this._o.batchSize, end === -1 ? Infinity : end));
      try {
        const result = await this._giveUp.race(this._sink.append(batch));
        if (result === TIMED_OUT) break; // appended or not: the last record assumes not
        this._queue.splice(0, batch.length);
        this._account(batch, result.appended, result.duplicates);
        delay = 100;
        this._progressed();
      } catch (err) {
        this._sinkError(err);
        if (await this._giveUp.sleep(delay / 2 + Math.random() * delay / 2) === TIMED_OUT) break;
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  _account(batch, appended, duplicates) {
    this._stats.appended += appended;
    this._stats.duplicates += duplicates;
    for (const e of batch) {
      this._queuedBytes -= e.bytes;
      if (e.waits) this._own.appended(e.waits);
      if (e.fields[1] === 'gap') this._stats.gaps++;
      if (e.ts !== null && (this._stats.newestTimestamp === null || e.ts > this._stats.newestTimestamp)) this._stats.newestTimestamp = e.ts;
    }
  }

  _sinkError(err) {
    this._stats.redisErrors++;
    if (this.listenerCount('sinkError') > 0) this.emit('sinkError', err);
  }

  _fail(err) {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /**
   * Holes no relay covered (Liveness): their restart gaps queued, each
   * holding this relay's coverage until appended. Resolves with the hold
   * tokens; null once the relay receives no more (its writer may be done).
   */
  async _queueRestartGaps(gaps, streams) {
    this._names.adopt(streams);
    if (gaps.length > 0 && this._o.collection === null) await this._learnStreams();
    if (this._ending) return null;
    return gaps.map((gap) => {
      const held = this._own.hold(gap.since * 1000);
      this._enqueue(gapItem(this._o.collection, 'restart', gap.since, gap.until), { held });
      return held;
    });
  }

  // --- the public side ----------------------------------------------------------

  /**
   * @returns {{appended: number, duplicates: number, gaps: number, gapsCovered: number, discarded: number,
   *   redisErrors: number, queued: number, lagMs: number|null, newestTimestamp: number|null}}
   */
  stats() {
    const s = this._stats;
    return {
      appended: s.appended,
      duplicates: s.duplicates,
      gaps: s.gaps,
      gapsCovered: s.gapsCovered,
      discarded: s.discarded,
      redisErrors: s.redisErrors,
      queued: this._queue.length,
      newestTimestamp: s.newestTimestamp,
      lagMs: s.newestTimestamp === null ? null : Math.max(0, Date.now() - s.newestTimestamp * 1000),
    };
  }

  /**
   * Stops receiving from NexaDB (after reorderWindowMs + 250 ms, for what
   * was on its way), appends what it had received (queued, or
   * still in the change stream) for at most closeTimeoutMs, however Redis
   * fails, is slow or hangs, writes this relay's last record (stopped;
   * covered: up to what was appended) and ends. Settles within
   * closeTimeoutMs plus 2 × FAREWELL_MS. Idempotent.
   * @returns {Promise<void>}
   */
  close() {
    if (this._closing) return this._closing;
    this._closing = (async () => {
      const deadline = Date.now() + this._o.closeTimeoutMs;
      // Changes on their way when close() was called still arrive: then a
      // relay started before close() covers all this one did not (holes.js).
      if (this._wound && !this._ending) await new Promise((r) => setTimeout(r, Math.min(this._inFlightMs, this._o.closeTimeoutMs)));
      this._ending = true;
      if (this._stream) this._own.stopped(this._stream.buffered > 0);
      this._stopReceiving.abort();
      // Not started yet (Redis may hang the restart check): it is given up, and torn down.
      if (await settlesBy(this.ready.then(() => true), deadline) !== true) {
        this._tornDown = true;
        await this._teardown();
        return;
      }
      this._giveUp.by(deadline);
      if (this._spaceWake) this._spaceWake();
      this._wakeWriter();
      await this._wound;
      await this._teardown();
    })();
    return this._closing;
  }

  /** Closes the stream, the sink and a client of the relay's own, waiting FAREWELL_MS for them at most. */
  async _teardown() {
    await settlesBy(Promise.all([
      this._stream && this._stream.close(),
      this._sink.close(),
      this._ownsClient && this._client.disconnect(),
    ].map((p) => Promise.resolve(p).catch(() => {}))), Date.now() + FAREWELL_MS);
  }
}

/**
 * Starts a relay: watches NexaDB and appends every change to a stream.
 * @param {object} options see the README, "Beyond one process"
 * @returns {Relay}
 */
function relay(options) {
  return new Relay(options);
}

module.exports = { relay, Relay };
