'use strict';
// This relay's record in the sink, and what it reads in the others' records
// (coverage.js says what they mean): the restart check at start; every
// heartbeat, the record refreshed and a look for relays gone without a
// word; whether a peer covered a hole of this relay's; the last record.
// Records of relays of other changes (another collection or other
// operations) cover nothing for this one. Where their changes and this
// relay's overlap, the holes they left are still this relay's to find: it
// follows from where they stopped covering (otherChanges), and removes
// their records only when it relays all they did.
const { startGap, goneRelays, coveredByPeer } = require('./coverage');
const { settlesBy } = require('./time-bound');

class Liveness {
  /**
   * @param {object} how
   * @param {object} how.sink
   * @param {string} how.relayId
   * @param {number} how.heartbeatMs
   * @param {number} how.reorderWindowMs
   * @param {{collection: string|null, operations: string[]}} how.relaying what this relay relays
   * @param {object} how.relay what the relay says and does: covered() (epoch ms),
   *   streams(), stopped() (it receives no more), and queueGaps(gaps,
   *   streams) for the holes found, resolving once their gap entries are
   *   queued with the OwnCoverage.hold token of each (its coverage waits for
   *   them to be appended), or null if it stopped first and queued nothing
   */
  constructor({ sink, relayId, heartbeatMs, reorderWindowMs, relaying, relay }) {
    this._sink = sink;
    this._relaying = { collection: relaying.collection, operations: [...new Set(relaying.operations)].sort() };
    // The sink as the coverage rules read it (see _relevant).
    this._same = { records: async () => this._relevant(await sink.records()) };
    this._id = relayId;
    this._heartbeatMs = heartbeatMs;
    this._reorderWindowMs = reorderWindowMs;
    this._relay = relay;
    this._since = 0; // when its subscription was acknowledged
    this._coverageSince = 0; // since when it has had no hole of its own
    this._coveredFrom = 0; // from when every change is in the stream or inside a gap entry
    this._timer = null;
    this._beating = null; // the record being written
    this._looking = null; // the look for relays gone without a word
    this._handled = new Set(); // gone relays whose gaps are queued: their records go once those are appended
  }

  /** A record not refreshed for this long is a dead relay's. */
  get staleMs() {
    return Math.round(this._heartbeatMs * 2.5);
  }

  get _pollMs() {
    return Math.max(50, this._heartbeatMs >> 2);
  }

  /**
   * Subscribed at t0 (ms): the holes no relay covered before it are queued
   * as restart gaps, the records of relays gone are removed, and the first
   * record is written. False, with no record of its own written, when the
   * relay stopped while it waited to learn whether a relay still ran: as if
   * it never started, the records left for the next relay to follow.
   * @returns {Promise<boolean>}
   */
  async begin(t0) {
    this._since = t0;
    this._coverageSince = t0;
    this._coveredFrom = t0;
    await this._keepPreviousRun();
    const found = await startGap(this._same, {
      relayId: this._id, t0, staleMs: this.staleMs, pollMs: this._pollMs, cancelled: () => this._relay.stopped(),
    });
    if (found.cancelled) return false;
    const dead = found.dead.filter((id) => id !== this._id);
    await this._queue(found, dead, dead);
    await this._beat();
    return true;
  }

  /**
   * A run before this one under the same id that relayed changes this one
   * does not: its record, about to be overwritten, is kept under an id of
   * its own, for a relay of those changes to follow (the holes it left in
   * them are not this relay's to record).
   */
  async _keepPreviousRun() {
    const previous = (await this._sink.records()).get(this._id);
    if (!previous || !wellFormed(previous.relaying) || contains(this._relaying, previous.relaying)) return;
    await this._sink.putRecord(`${this._id}@${previous.since}`, { ...previous, stopped: true });
  }

  /** Heartbeats from now on: the record refreshed, and a look for relays gone. */
  beat() {
    this._timer = setInterval(() => {
      this._beatOnce();
      this._lookForGone();
    }, this._heartbeatMs);
  }

  /**
   * No more heartbeats, whose fresh `seen` would tell a relay starting later
   * that this one still covers; then the last record (stopped), written by
   * `by` (epoch ms) or given up.
   */
  async end(by) {
    clearInterval(this._timer);
    await settlesBy(this._looking, by); // what it queued must hold the last record's covered
    await settlesBy(this._beating, by); // a record still on its way must not land after the last one
    await settlesBy(this._beat(), by);
  }

  /** A hole of this relay's own ended at untilMs (its gap follows): its coverage starts again there. */
  ownHoleEnded(untilMs) {
    this._coverageSince = Math.max(this._coverageSince, untilMs);
  }

  /** Whether another relay appended what this relay's hole `gap` missed (see coverage.js). */
  coveredByPeer(gap) {
    return coveredByPeer(this._same, gap, {
      relayId: this._id, staleMs: this.staleMs, pollMs: this._pollMs, waitMs: 3 * this._heartbeatMs + this._reorderWindowMs + 500,
    });
  }

  /** A heartbeat, unless the last one is still on its way (a slow Redis would pile them up). */
  _beatOnce() {
    if (this._beating) return;
    this._beating = this._beat().catch(() => {}).finally(() => { this._beating = null; });
  }

  _beat() {
    const record = {
      since: this._since, coverageSince: this._coverageSince, coveredFrom: this._coveredFrom, seen: Date.now(),
      covered: this._relay.covered(), streams: this._relay.streams().slice(0, 1000), relaying: this._relaying, staleMs: this.staleMs,
    };
    // Receiving no more (closing, or failed): not running, though draining: a relay starting now records a restart gap.
    if (this._relay.stopped()) record.stopped = true;
    return this._sink.putRecord(this._id, record);
  }

  /**
   * A relay gone without a last record (killed) may have left a hole nobody
   * covers: its gap is queued, and its record removed once that is appended.
   */
  _lookForGone() {
    if (this._looking || this._relay.stopped()) return;
    this._looking = (async () => {
      const records = await this._same.records();
      if (this._relay.stopped()) return; // its last record is written, or about to be: nothing more may be queued
      const found = goneRelays(records, {
        relayId: this._id, coveredFrom: this._coveredFrom, now: Date.now(), staleMs: this.staleMs, handled: this._handled,
      });
      if (found.gone.length > 0) await this._queue(found, found.gone, found.remove);
    })().catch(() => {}).finally(() => { this._looking = null; });
  }

  /**
   * The gaps of holes found, queued (each holds this relay's coverage until
   * appended); this relay's span then reaches back as far as they let it
   * (holes.js), and the records of the relays gone are removed once the
   * gaps are appended: until then they are the holes' only trace.
   */
  async _queue({ gaps, coveredFrom, streams }, followed, remove) {
    const tokens = await this._relay.queueGaps(gaps, streams);
    if (tokens === null) return;
    this._coveredFrom = Math.min(this._coveredFrom, coveredFrom);
    // Not followed again: those to remove until they are, those kept (of relays of other changes) ever.
    for (const id of followed) this._handled.add(id);
    const forget = () => { for (const id of remove) this._handled.delete(id); };
    const removing = Promise.all(tokens.map((t) => t.released)).then(() => this._sink.removeRecords(remove)).then(forget, forget);
    if (tokens.length === 0) await removing;
  }

  /**
   * The records that concern this relay: those of relays of the same changes
   * (one that does not say which, as an older relay's, taken as such), and
   * copies of those whose changes overlap with its own, marked otherChanges
   * (and keepRecord unless this relay relays all they did). The rest are
   * not its business.
   */
  _relevant(records) {
    const mine = this._relaying;
    const relevant = new Map();
    for (const [id, r] of records) {
      const theirs = r.relaying;
      if (!wellFormed(theirs) || sameChanges(theirs, mine)) relevant.set(id, r);
      else if (overlap(theirs, mine)) relevant.set(id, { ...r, otherChanges: true, keepRecord: !contains(mine, theirs) });
    }
    return relevant;
  }
}

/** A record's `relaying` as relays write it: a collection (or null) and a list of operations. */
const wellFormed = (x) => x !== null && typeof x === 'object' && (x.collection === null || typeof x.collection === 'string') &&
  Array.isArray(x.operations) && x.operations.every((op) => typeof op === 'string');

const sameChanges = (a, b) => a.collection === b.collection && String(a.operations) === String(b.operations);
const sameCollection = (a, b) => a.collection === null || b.collection === null || a.collection === b.collection;
const overlap = (a, b) => sameCollection(a, b) && a.operations.some((op) => b.operations.includes(op));
/** Whether `a` relays every change `b` does. */
const contains = (a, b) => (a.collection === null || a.collection === b.collection) && b.operations.every((op) => a.operations.includes(op));

module.exports = { Liveness };
