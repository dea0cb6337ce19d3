'use strict';
// The consumer side: a consumer group's share of a relayed stream, as an
// async iterator over the same change objects the NexaDB iterator yields.
// At-least-once: a message is acknowledged (XACK) when the loop asks for the
// next one, so one that was being handled when its consumer died stays
// pending, and another consumer of the group claims it after claimIdleMs.
// A pending message trimmed away (maxLen, retention) before it was handled
// comes as a 'trimmed' gap item in its place: Redis hands it out with no
// fields (own pending) or lists it as deleted (XAUTOCLAIM). Gap items are
// handed out once, not acknowledged.
const os = require('os');
const { redisClient, closeClient, fieldPairs } = require('./redis-client');
const { fromFields } = require('./entry');
const { NexaAbortError } = require('../errors');
const { gapItem } = require('../stream/gaps');
const { Deadline } = require('./time-bound');

const DONE = Object.freeze({ value: undefined, done: true });

/** Seconds since the epoch of a stream id (its time part is epoch ms). */
function idSeconds(id) {
  return Number(String(id).split('-')[0]) / 1000;
}

/** Whether stream id a comes after b (null: before everything). */
function idAfter(a, b) {
  if (b === null) return true;
  const [am, as] = String(a).split('-').map(Number);
  const [bm, bs] = String(b).split('-').map(Number);
  return am > bm || (am === bm && as > bs);
}

/** The gap item for `count` pending messages trimmed away, between two times (seconds). */
function trimmedGap(count, since, until) {
  return gapItem(null, 'trimmed', since, until, { count });
}

function startId(from) {
  if (from instanceof Date) {
    if (Number.isNaN(from.getTime())) throw new TypeError('from: an invalid Date');
    return `${from.getTime()}-0`;
  }
  if (from === '$' || (typeof from === 'string' && /^\d+(-\d+)?$/.test(from))) return from;
  throw new TypeError("from must be a stream id ('1700000000000-0'), a Date, '$' (new entries only) or '0' (every retained entry)");
}

/** [[id, [field, value, ...] | null], ...] from XREADGROUP/XAUTOCLAIM answers (RESP2 arrays or RESP3 maps). */
function entriesOf(reply) {
  if (reply === null || reply === undefined) return [];
  const streams = Array.isArray(reply) ? reply : Object.entries(reply);
  const out = [];
  for (const s of streams) for (const e of s[1] || []) out.push(e);
  return out;
}

class Consumer {
  /** @param {object} options see consume() */
  constructor(options) {
    const o = { from: '$', claimIdleMs: 30000, count: 100, blockMs: 2000, ...options };
    if (typeof o.stream !== 'string' || o.stream === '') throw new TypeError('stream must be a non-empty string');
    if (typeof o.group !== 'string' || o.group === '') throw new TypeError('group must be a non-empty string');
    if (o.consumer === undefined) o.consumer = `${os.hostname()}-${process.pid}`;
    if (typeof o.consumer !== 'string' || o.consumer === '') throw new TypeError('consumer must be a non-empty string');
    for (const k of ['claimIdleMs', 'count', 'blockMs']) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new TypeError(`${k} must be a positive integer`);
    }
    if (o.redis === undefined) throw new TypeError('redis is required: a redis:// URL, createClient() options or a node-redis client');
    this._o = o;
    this._from = startId(o.from);
    this.stream = o.stream;
    this.group = o.group;
    this.name = o.consumer;
    /** The stream id of the message last yielded. */
    this.lastId = null;
    this._unacked = null; // the id to acknowledge when the loop asks for the next message
    this._buf = []; // [id, fields] read from the group, or [null, gap item] in its place
    this._bufReadAt = 0;
    this._heldGaps = []; // gap items read ahead, while their messages are read again: [{after: id, entry}]
    this._cmd = null; // XACK, XAUTOCLAIM, XGROUP, XINFO
    this._blocking = null; // XREADGROUP BLOCK only
    this._opening = null;
    this._readOwnPending = true; // first, what this consumer name left pending (a restart)
    this._claimCursor = '0-0';
    this._nextClaimAt = 0;
    this._acks = new Set();
    this._closed = false;
    this._closing = null;
    this._closedBy = new Deadline(); // passes at close(): a retry backoff ends there
    this._error = null;
    this._stats = { delivered: 0, acknowledged: 0, claimed: 0, skipped: 0, trimmed: 0, redisErrors: 0 };
    this._signal = o.signal || null;
    if (this._signal) {
      this._onAbort = () => {
        this._error = new NexaAbortError('consume was aborted', { cause: this._signal.reason, operation: 'consume' });
        this.close();
      };
      if (this._signal.aborted) this._onAbort();
      else this._signal.addEventListener('abort', this._onAbort, { once: true });
    }
  }

  /** A connection of the consumer's own (a blocking read holds one); its errors are counted. */
  async _connect() {
    return (await redisClient(this._o.redis, { ownConnection: true, onError: () => { this._stats.redisErrors++; } })).client;
  }

  _open() {
    if (!this._opening) {
      this._opening = (async () => {
        this._cmd = await this._connect();
        try {
          this._blocking = await this._connect();
        } catch (err) {
          await closeClient(this._cmd, { now: true });
          this._cmd = null;
          throw err;
        }
        if (this._closed) await this._closeClients();
        else await this._createGroup(this._from);
      })();
      this._opening.catch(() => { this._opening = null; });
    }
    return this._opening;
  }

  async _createGroup(id) {
    try {
      await this._cmd.sendCommand(['XGROUP', 'CREATE', this.stream, this.group, id, 'MKSTREAM']);
    } catch (err) {
      if (!/BUSYGROUP/.test(String(err && err.message))) throw err;
    }
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** @returns {Promise<IteratorResult<object>>} */
  async next() {
    // Closed (or aborted): nothing more is handed out, not even what was read
    // ahead; it stays pending, for this consumer's next start or another's claim.
    if (this._closed) return this._finish();
    if (this._unacked !== null) this.ack();
    if (this._buf.length > 0 && Date.now() - this._bufReadAt >= this._o.claimIdleMs / 2) {
      // Read ahead a while ago: idle in the group since, so another consumer
      // may claim them soon (or has). Read again what is still this
      // consumer's own: that keeps it from being claimed, and drops what was.
      // A gap item goes back after the messages that were before it.
      let after = this.lastId;
      for (const entry of this._buf) {
        if (entry[0] === null) this._holdGap(after, entry);
        else after = entry[0];
      }
      this._buf = [];
      this._readOwnPending = true;
    }
    let delay = 100;
    while (this._buf.length === 0) {
      if (this._closed) return this._finish();
      try {
        await this._open();
        await this._fill();
        delay = 100;
      } catch (err) {
        if (this._closed) return this._finish();
        this._stats.redisErrors++;
        if (/NOGROUP/.test(String(err && err.message))) {
          // The stream was deleted (or trimmed away) under the group: start it again from the beginning.
          await this._createGroup('0').catch(() => {});
          continue;
        }
        await this._closedBy.sleep(delay / 2 + Math.random() * delay / 2);
        delay = Math.min(delay * 2, 5000);
      }
    }
    const [id, flat] = this._buf.shift();
    if (id === null) {
      this._stats.delivered++;
      return { value: flat, done: false }; // a gap item: nothing to acknowledge
    }
    let item;
    try {
      item = fromFields(flat);
    } catch (_) {
      // Not an entry a relay wrote: acknowledged and counted, or it would come back for ever.
      this._stats.skipped++;
      this._ackId(id);
      return this.next();
    }
    this.lastId = id;
    this._unacked = id;
    this._stats.delivered++;
    return { value: item, done: false };
  }

  /** One read: own pending first, then idle messages of others (XAUTOCLAIM), then new ones. */
  async _fill() {
    const { stream, group, name } = this;
    const count = String(this._o.count);
    let entries;
    if (this._readOwnPending) {
      entries = entriesOf(await this._cmd.sendCommand(['XREADGROUP', 'GROUP', group, name, 'COUNT', count, 'STREAMS', stream, '0']));
      if (entries.length === 0) {
        this._readOwnPending = false;
        this._placeHeldGaps(null);
      }
    } else if (Date.now() >= this._nextClaimAt) {
      const [cursor, claimed, deleted] = await this._cmd.sendCommand(['XAUTOCLAIM', stream, group, name, String(this._o.claimIdleMs), this._claimCursor, 'COUNT', count]);
      this._claimCursor = String(cursor);
      if (this._claimCursor === '0-0') this._nextClaimAt = Date.now() + Math.max(100, this._o.claimIdleMs >> 1);
      entries = claimed || [];
      // Trimmed away while pending: Redis took them off the list (7.0). They
      // were delivered before what is claimed with them.
      if (deleted && deleted.length > 0) this._gap(deleted.length, idSeconds(deleted[0]), idSeconds(deleted[deleted.length - 1]));
      this._stats.claimed += entries.filter((e) => e && e[1]).length;
    } else {
      const block = Math.min(this._o.blockMs, Math.max(1, this._nextClaimAt - Date.now()));
      entries = entriesOf(await this._blockingRead(['XREADGROUP', 'GROUP', group, name, 'COUNT', count, 'BLOCK', String(block), 'STREAMS', stream, '>'], block));
    }
    this._bufReadAt = Date.now();
    let gone = []; // a run of entries trimmed away while pending: acknowledged, and told as one gap in their place
    const endRun = () => {
      if (gone.length > 0) this._gap(gone.length, gone[0], gone[gone.length - 1]);
      gone = [];
    };
    for (const e of entries) {
      if (!e) continue;
      if (this._heldGapDue(e[0])) {
        endRun(); // what came before the held gap items due here
        this._placeHeldGaps(e[0]);
      }
      if (e[1]) {
        endRun();
        this._buf.push(e);
      } else {
        this._ackId(e[0]);
        gone.push(idSeconds(e[0]));
      }
    }
    endRun();
  }

  /** A gap item read ahead, kept in stream order while the messages are read again: after the message `after` (null: before all). */
  _holdGap(after, entry) {
    let i = this._heldGaps.length;
    while (i > 0 && this._heldGaps[i - 1].after !== null && idAfter(this._heldGaps[i - 1].after, after)) i--;
    this._heldGaps.splice(i, 0, { after, entry });
  }

  /** Whether the first held gap item was before the message `id` (null: after every message). */
  _heldGapDue(id) {
    return this._heldGaps.length > 0 && (id === null || idAfter(id, this._heldGaps[0].after));
  }

  /** The held gap items that were before the message `id` (null: all of them) go in their place. */
  _placeHeldGaps(id) {
    while (this._heldGapDue(id)) this._buf.push(this._heldGaps.shift().entry);
  }

  _gap(count, since, until) {
    this._stats.trimmed += count;
    this._buf.push([null, trimmedGap(count, since, until)]);
  }

  /**
   * A blocking read on the connection kept for them. A read Redis does not
   * answer well after its block time (seen from node-redis 5 when Redis was
   * killed mid-read) fails, and the connection is replaced.
   */
  async _blockingRead(args, blockMs) {
    if (!this._blocking) {
      const client = await this._connect();
      if (this._closed) {
        await closeClient(client, { now: true });
        return null;
      }
      this._blocking = client;
    }
    const read = this._blocking.sendCommand(args);
    read.catch(() => {}); // when abandoned below, its rejection comes later
    const LATE = {};
    let timer;
    const late = new Promise((resolve) => { timer = setTimeout(resolve, blockMs + 5000, LATE); });
    try {
      const answer = await Promise.race([read, late]);
      if (answer !== LATE) return answer;
      const stuck = this._blocking;
      this._blocking = null;
      await closeClient(stuck, { now: true });
      throw new Error('a blocking read got no answer');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Acknowledges the message last yielded, now (otherwise: when the loop asks for the next). */
  ack() {
    if (this._unacked === null) return;
    const id = this._unacked;
    this._unacked = null;
    this._ackId(id);
  }

  _ackId(id) {
    if (!this._cmd) return;
    const p = this._cmd.sendCommand(['XACK', this.stream, this.group, id]).then(
      () => { this._stats.acknowledged++; },
      () => { this._stats.redisErrors++; }, // stays pending: delivered again (at-least-once)
    );
    this._acks.add(p);
    p.then(() => this._acks.delete(p));
  }

  _finish() {
    if (this._error) {
      const err = this._error;
      this._error = null;
      throw err;
    }
    return DONE;
  }

  /** `break` in a `for await` loop: the message being handled is acknowledged, then close(). */
  async return() {
    if (this._unacked !== null) this.ack();
    await this.close();
    return DONE;
  }

  /**
   * @returns {Promise<{delivered: number, acknowledged: number, claimed: number, skipped: number, trimmed: number,
   *   redisErrors: number, pending: number|null, lag: number|null}>} pending: the group's
   *   messages delivered and not acknowledged; lag: entries not yet delivered to the group
   */
  async stats() {
    const out = { ...this._stats, pending: null, lag: null };
    if (!this._cmd || this._closed) return out;
    try {
      const groups = await this._cmd.sendCommand(['XINFO', 'GROUPS', this.stream]);
      for (const g of groups) {
        const info = Object.fromEntries(fieldPairs(g));
        if (String(info.name) === this.group) {
          out.pending = Number(info.pending);
          out.lag = info.lag === null || info.lag === undefined ? null : Number(info.lag);
        }
      }
    } catch (_) { /* the stream is gone or Redis is down: unknown */ }
    return out;
  }

  /**
   * Ends the iterator: a blocking read in progress is cut, acknowledgements
   * sent are awaited, the connections are closed. A message yielded and not
   * acknowledged stays pending. Idempotent.
   * @returns {Promise<void>}
   */
  close() {
    if (this._closing) return this._closing;
    this._closed = true;
    this._closedBy.by(Date.now());
    if (this._signal) this._signal.removeEventListener('abort', this._onAbort);
    this._closing = (async () => {
      if (this._blocking) await closeClient(this._blocking, { now: true });
      await this._opening?.catch(() => {});
      await Promise.all([...this._acks]);
      await this._closeClients();
    })();
    return this._closing;
  }

  async _closeClients() {
    if (this._blocking) await closeClient(this._blocking, { now: true });
    if (this._cmd) await closeClient(this._cmd);
  }
}

/**
 * Reads a relayed stream as a member of a consumer group.
 * @param {object} options see the README, "Beyond one process"
 * @returns {Consumer}
 */
function consume(options) {
  return new Consumer(options);
}

module.exports = { consume, Consumer };
