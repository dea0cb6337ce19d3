'use strict';
// What the relays' records say about holes: whether a starting relay must
// record a gap (were changes missed while no relay was running?), and
// whether another relay covered a hole this one had (then its gap entry
// would be a false alarm).
//
// Every running relay keeps a record in the sink, refreshed every heartbeat:
//   { since, seen, covered, streams }  (epoch ms)
//   since    when its subscription was acknowledged
//   seen     its last heartbeat
//   covered  every change before this time is appended (or was a gap entry):
//            see OwnCoverage, which keeps it from running ahead of the sink
//   coverageSince  since when it has had no hole of its own (its start, or
//            the end of its last reconnect or stall gap)
//   coveredFrom  from when every change to `covered` is appended or inside
//            a gap entry (its start, or the start of the restart gap it
//            appended then): where a hole of a relay gone ends (holes.js)
//   staleMs  how long after `seen` its record is a dead relay's (2.5 heartbeats)
//   streams  the streams it appended to (where gaps for every collection go)
//   stopped  set by close(): nothing to wait for
// A starting relay, subscribed already (so nothing after t0 is missed),
// looks at the others' records before it writes its own:
//   - none at all: the first relay on this stream; nothing was missed;
//   - one heartbeats after t0: a relay is running, and it recorded any hole
//     before its own start when it started: no gap;
//   - none does within `staleMs`: a gap for each hole (holes.js) between
//     where the relays that are gone stopped covering and t0.
// A running relay then looks again every heartbeat: a relay it took for
// running may die without a last record (SIGKILL, a host lost), leaving
// what it had not appended, or a hole it was cut off in, to nobody. Once
// its record is stale, the running relay appends the holes it left.
// Relays that find the same hole give it the same key, (reason, since,
// until), so the stream gets one entry; two relays starting together find
// holes that end at their own starts, and append both. A gone relay's
// record is removed once the gaps of its holes are appended (until then it
// is the hole's only trace).

const { gapItem } = require('../stream/gaps');
const { isFresh, holesAfter } = require('./holes');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {object} sink records() -> Map<id, record>
 * @param {object} how
 * @param {string} how.relayId this relay (a record under its own id is a previous run)
 * @param {number} how.t0 when this relay's subscription was acknowledged (ms)
 * @param {number} how.staleMs a record not refreshed for this long is a dead relay's
 *   (a record that says its own staleMs, by that)
 * @param {number} how.pollMs
 * @param {() => boolean} [how.cancelled] the relay is closing: it decides
 *   nothing (cancelled: true), and a later relay finds the holes
 * @returns {Promise<{gaps: Array<{since: number, until: number}>, coveredFrom: number, streams: string[], dead: string[], cancelled?: true}>}
 *   gaps in seconds since the epoch; coveredFrom (ms): this relay's, once
 *   they are appended; dead: the records to remove then
 */
async function startGap(sink, { relayId, t0, staleMs, pollMs, cancelled = () => false }) {
  for (;;) {
    const records = await sink.records();
    // Relays of other changes neither run nor cover for this one; where they stopped covering, it follows.
    const others = [...records].filter(([id, r]) => id !== relayId && !r.otherChanges);
    const streams = new Set();
    for (const [, r] of records) for (const s of r.streams || []) streams.add(s);
    if (records.size === 0) return { gaps: [], coveredFrom: t0, streams: [], dead: [] };
    if (cancelled()) return { gaps: [], coveredFrom: t0, streams: [...streams], dead: [], cancelled: true };
    if (others.some(([, r]) => !r.stopped && r.seen > t0)) {
      // A relay runs: it recorded any hole before its own start. A run
      // before this one under the same id may have left one, and its record
      // is about to be overwritten.
      if (!records.has(relayId)) return { gaps: [], coveredFrom: t0, streams: [...streams], dead: [] };
      const running = (id, r) => id !== relayId && !r.stopped && isFresh(r, t0, staleMs);
      return { ...holesAfter(records, t0, [relayId], running), streams: [...streams], dead: [] };
    }
    const gone = (id, r) => id === relayId || r.stopped || !isFresh(r, t0, staleMs);
    const undecided = others.some(([id, r]) => !gone(id, r));
    const waitMs = Math.max(staleMs, ...others.map(([, r]) => r.staleMs || 0));
    if (!undecided || Date.now() >= t0 + waitMs) {
      const ended = [...records].filter(([id, r]) => !r.otherChanges || gone(id, r));
      const dead = ended.filter(([, r]) => !r.keepRecord).map(([id]) => id);
      return { ...holesAfter(records, t0, ended.map(([id]) => id), () => false), streams: [...streams], dead };
    }
    await sleep(pollMs);
  }
}

/**
 * What a running relay finds in the others' records once a heartbeat: the
 * relays that are gone (their record not refreshed for its stale time,
 * last record or not) and the holes they left that no relay covers. Finds
 * nothing while a stopped relay still appends what it had received (its
 * record still refreshed): its `covered` is not final yet.
 * @param {Map<string, object>} records
 * @param {object} self this relay, running: every change since coveredFrom
 *   (ms) it has appended, or will, or it appends the gap
 * @param {string} self.relayId
 * @param {number} self.coveredFrom
 * @param {number} self.now
 * @param {number} self.staleMs
 * @param {Set<string>} [self.handled] gone relays whose gaps are queued already
 * @returns {{gone: string[], remove: string[], gaps: Array<{since: number, until: number}>, coveredFrom: number, streams: string[]}}
 *   gone: followed; remove: the records to remove once the gaps (seconds
 *   since the epoch) are appended; coveredFrom (ms): this relay's then
 */
function goneRelays(records, { relayId, coveredFrom, now, staleMs, handled = new Set() }) {
  const others = new Map([...records].filter(([id]) => id !== relayId));
  const fresh = (id, r) => isFresh(r, now, staleMs);
  const gone = [...others].filter(([id, r]) => !fresh(id, r) && !handled.has(id));
  const draining = [...others].some(([id, r]) => !r.otherChanges && fresh(id, r) && r.stopped);
  if (gone.length === 0 || draining) return { gone: [], remove: [], gaps: [], coveredFrom, streams: [] };
  const streams = new Set();
  for (const [, r] of gone) for (const s of r.streams || []) streams.add(s);
  return {
    gone: gone.map(([id]) => id),
    remove: gone.filter(([, r]) => !r.keepRecord).map(([id]) => id),
    ...holesAfter(others, coveredFrom, gone.map(([id]) => id), fresh),
    streams: [...streams],
  };
}

/**
 * Whether another running relay appended every change of this relay's hole
 * [gap.since, gap.until]: subscribed without a hole of its own since before
 * it began (with a second of slack for clocks), and covered past its end.
 * Such a relay's record may need a few heartbeats to show the end covered:
 * waits up to `waitMs`, or three of its heartbeats when they are longer.
 * Unsure (no such relay, or Redis failing): false,
 * and the gap is appended.
 * @param {object} sink
 * @param {{since: number, until: number}} gap seconds since the epoch
 * @param {{relayId: string, staleMs: number, pollMs: number, waitMs: number}} how
 * @returns {Promise<boolean>}
 */
async function coveredByPeer(sink, gap, { relayId, staleMs, pollMs, waitMs }) {
  const start = Date.now();
  for (;;) {
    let records;
    try {
      records = await sink.records();
    } catch (_) {
      return false;
    }
    const now = Date.now();
    const candidates = [...records].filter(([id, r]) => id !== relayId && !r.otherChanges && !r.stopped && isFresh(r, now, staleMs) &&
      (r.coverageSince ?? r.since) <= gap.since * 1000 - 1000);
    if (candidates.length === 0) return false;
    if (candidates.some(([, r]) => r.covered >= gap.until * 1000)) return true;
    // A peer's record shows it within a few of its own heartbeats (staleMs is 2.5 of them).
    if (now >= start + Math.max(waitMs, ...candidates.map(([, r]) => 1.2 * (r.staleMs || 0) + 500))) return false;
    await sleep(pollMs);
  }
}

/** The time of the oldest thing in an entry not appended yet (ms): its change's or its hole's, or when it was pulled (a catch-up's document: when the stream re-subscribed). */
function entryTime(entry) {
  let t = entry.at;
  if (entry.ts !== null) t = Math.min(t, entry.ts * 1000);
  if (entry.gap) t = Math.min(t, entry.gap.since * 1000);
  return t;
}

/**
 * What this relay may say it covered: the time before which every change is
 * appended (or inside a gap entry appended). Other relays drop their own
 * gaps on its word, and a relay starting after it begins its restart gap
 * there, so it must never run ahead of the sink:
 *   - a lost connection holds it at the loss until the stream's gap for
 *     that loss is appended (it comes back only once re-subscribed, and
 *     with catchUp behind the catch-up); so does a gone relay's hole;
 *   - an entry not appended holds it at its change's time (not when it was
 *     pulled: it may have waited in the stream's buffer); a catch-up's
 *     document at the re-subscription (live changes wait behind it);
 *   - events the stream holds, not pulled yet, hold it at the newest pulled;
 *   - once the stream stopped receiving it stays there (or at the newest
 *     pulled, when the stream was behind: more may have waited unread in
 *     the socket).
 */
class OwnCoverage {
  /** @param {number} marginMs events in the socket, the core and the reorder window */
  constructor(marginMs) {
    this._margin = marginMs;
    this._losses = []; // {at: ms, since: s, reported} of each connection lost whose gap entry is not appended yet
    this._held = new Set(); // {at: ms} of each gone relay's hole whose gap entry is not appended yet
    this._stoppedAt = Infinity;
    this._stoppedBehind = false;
    this._pulledTs = null; // the newest server timestamp pulled (s)
    this._pulledAt = 0;
  }

  /** Subscribed at t0 (ms): nothing before it is this relay's to cover. */
  begin(t0) {
    this._pulledAt = t0;
  }

  /** The stream lost its connection. */
  lost() {
    const now = Date.now();
    this._losses.push({ at: now, since: Math.min(this._pulledTs ?? Infinity, now / 1000), reported: false });
  }

  /**
   * An entry coverage waited for is appended (or another relay covered it,
   * or it had no stream to go to): the oldest `settles` losses it was the
   * gap of are over, and its hold, if any, is released.
   * @param {{settles?: number, held?: object|null}} waits
   */
  appended({ settles = 0, held = null }) {
    this._losses.splice(0, settles);
    if (held) this.release(held);
  }

  /**
   * A hole a gone relay left, from `sinceMs`, is to be appended: coverage
   * stays there until its entry is appended (`appended({held: token})`).
   * @returns {{at: number, released: Promise<void>}} token; released
   *   resolves at release (never, if the relay ends first)
   */
  hold(sinceMs) {
    let resolve;
    const token = { at: sinceMs, released: new Promise((r) => { resolve = r; }), resolve };
    this._held.add(token);
    return token;
  }

  /** @private see appended() */
  release(token) {
    this._held.delete(token);
    token.resolve();
  }

  /** The stream receives no more; `behind`: it held events not pulled yet. */
  stopped(behind) {
    if (this._stoppedAt !== Infinity) return;
    this._stoppedAt = Date.now();
    this._stoppedBehind = behind;
  }

  /**
   * The gap item for the losses whose gap the stream never reported (it
   * ended before re-subscribing), from the oldest to now; null: none.
   * @param {string|null} collection
   */
  unreportedGap(collection) {
    const oldest = this._losses.find((loss) => !loss.reported);
    if (oldest === undefined) return null;
    return gapItem(collection, 'reconnect', oldest.since, Date.now() / 1000);
  }

  /** The relay took `item` off the stream (a reconnect gap: the oldest loss is reported, its entry queued). */
  pulled(item) {
    if (item.operationType === 'gap' && item.reason === 'reconnect') {
      const oldest = this._losses.find((loss) => !loss.reported);
      if (oldest !== undefined) oldest.reported = true;
    }
    this._pulledAt = Date.now();
    if (typeof item.timestamp === 'number' && (this._pulledTs === null || item.timestamp > this._pulledTs)) this._pulledTs = item.timestamp;
  }

  _newestPulled() {
    return this._pulledTs !== null ? Math.min(this._pulledTs * 1000, this._pulledAt) : this._pulledAt;
  }

  /**
   * @param {{head: object|undefined, buffered: number, discardingSince: number|null}} state
   *   the oldest entry not appended, the events the stream holds, and since
   *   when (s) the relay discards (null: it does not)
   * @returns {number} epoch ms
   */
  until({ head, buffered, discardingSince }) {
    let t = Math.min(Date.now(), this._stoppedAt);
    if (this._stoppedBehind) t = Math.min(t, this._newestPulled());
    if (this._losses.length > 0) t = Math.min(t, this._losses[0].at);
    for (const h of this._held) t = Math.min(t, h.at);
    if (discardingSince !== null) t = Math.min(t, discardingSince * 1000);
    if (head) t = Math.min(t, entryTime(head));
    else if (buffered > 0) t = Math.min(t, this._newestPulled());
    return t - this._margin;
  }
}

module.exports = { startGap, goneRelays, coveredByPeer, OwnCoverage };
