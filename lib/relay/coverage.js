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
//            appended then): where a hole of a relay gone ends (holes())
//   streams  the streams it appended to (where gaps for every collection go)
//   stopped  set by close(): nothing to wait for
// A starting relay, subscribed already (so nothing after t0 is missed),
// looks at the others' records before it writes its own:
//   - none at all: the first relay on this stream; nothing was missed;
//   - one heartbeats after t0: a relay is running, and it recorded any hole
//     before its own start when it started: no gap;
//   - none does within `staleMs`: a gap for each hole (see holes()) between
//     where the relays that are gone stopped covering and t0.
// A running relay then looks again every heartbeat: a relay it took for
// running may die without a last record (SIGKILL, a host lost), leaving
// what it had not appended, or a hole it was cut off in, to nobody. Once
// its record is stale, the running relay appends the holes it left.
// Relays that find the same hole give it the same key, (reason, since), so
// the stream gets one entry.

const { gapItem } = require('../stream/gaps');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {object} sink records() -> Map<id, record>
 * @param {object} how
 * @param {string} how.relayId this relay (a record under its own id is a previous run)
 * @param {number} how.t0 when this relay's subscription was acknowledged (ms)
 * @param {number} how.staleMs a record not refreshed for this long is a dead relay's
 * @param {number} how.pollMs
 * @param {number} how.marginMs how far a relay's covered stays behind (see holes())
 * @param {() => boolean} [how.cancelled]
 * @returns {Promise<{gaps: Array<{since: number, until: number}>, streams: string[], dead: string[]}>}
 *   since/until in seconds since the epoch
 */
async function startGap(sink, { relayId, t0, staleMs, pollMs, marginMs, cancelled = () => false }) {
  for (;;) {
    const records = await sink.records();
    const others = [...records].filter(([id]) => id !== relayId);
    const streams = new Set();
    for (const [, r] of records) for (const s of r.streams || []) streams.add(s);
    const gone = (id, r) => id === relayId || r.stopped || r.seen < t0 - staleMs;
    const dead = [...records].filter(([id, r]) => gone(id, r)).map(([id]) => id);
    if (records.size === 0) return { gaps: [], streams: [], dead };
    if (others.some(([, r]) => !r.stopped && r.seen > t0)) return { gaps: [], streams: [...streams], dead: [] };
    const undecided = others.some(([id, r]) => !gone(id, r));
    if (!undecided || Date.now() >= t0 + staleMs || cancelled()) {
      const spans = [{ from: t0, to: Infinity }, ...[...records.values()].map(spanOf)];
      const gaps = holes(spans, [...records.values()].map(endOf), marginMs).map(inSeconds);
      return { gaps, streams: [...streams], dead: [...records.keys()] };
    }
    await sleep(pollMs);
  }
}

/**
 * What a running relay finds in the others' records once a heartbeat: the
 * relays that are gone (their record not refreshed for staleMs, last record
 * or not) and the holes they left that no relay covers. Finds nothing while
 * a stopped relay still appends what it had received (its record still
 * refreshed): its `covered` is not final yet.
 * @param {Map<string, object>} records
 * @param {{relayId: string, coveredFrom: number, now: number, staleMs: number, marginMs: number}} self
 *   this relay, running: every change since coveredFrom (ms) it has
 *   appended, or will, or it appends the gap
 * @returns {{gone: string[], gaps: Array<{since: number, until: number}>, streams: string[]}}
 *   since/until in seconds since the epoch
 */
function goneRelays(records, { relayId, coveredFrom, now, staleMs, marginMs }) {
  const others = [...records].filter(([id]) => id !== relayId).map(([id, r]) => ({ id, r, fresh: r.seen >= now - staleMs }));
  const gone = others.filter((o) => !o.fresh);
  if (gone.length === 0 || others.some((o) => o.fresh && o.r.stopped)) return { gone: [], gaps: [], streams: [] };
  const spans = [{ from: coveredFrom, to: Infinity }, ...others.map((o) => (o.fresh ? { from: startOf(o.r), to: Infinity } : spanOf(o.r)))];
  const gaps = holes(spans, gone.map((o) => endOf(o.r)), marginMs).map(inSeconds);
  const streams = new Set();
  for (const o of gone) for (const s of o.r.streams || []) streams.add(s);
  return { gone: gone.map((o) => o.id), gaps, streams: [...streams] };
}

/** The span a gone relay's record says it covered, changes or gap entries (ms). */
const startOf = (r) => r.coveredFrom ?? r.since;
const spanOf = (r) => ({ from: startOf(r), to: endOf(r) });
const endOf = (r) => r.covered ?? startOf(r);
const inSeconds = (h) => ({ since: h.since / 1000, until: h.until / 1000 });

/**
 * The holes in the relays' spans after each of `ends` (where a gone relay
 * stopped covering), as [since, until] in ms. From an end, the spans are
 * followed while one began by then and reaches further; where none did, a
 * hole runs to where the next span begins. A span that began within
 * `marginMs` after an end overlapped it: `covered` stays that far behind
 * for events still on their way, so a relay started by then received
 * what the gone one might not have.
 * @param {Array<{from: number, to: number}>} spans one a running relay's, to: Infinity
 * @param {number[]} ends
 * @param {number} marginMs
 * @returns {Array<{since: number, until: number}>} oldest first, no two alike
 */
function holes(spans, ends, marginMs) {
  const found = new Map(); // since -> until
  for (let x of ends) {
    for (;;) {
      let reach = x;
      for (const s of spans) if (s.from <= x + marginMs && s.to > reach) reach = s.to;
      if (reach === Infinity) break;
      if (reach > x) {
        x = reach;
        continue;
      }
      const next = Math.min(...spans.filter((s) => s.to > x).map((s) => s.from));
      if (next === Infinity) break; // no running relay (not for a caller that runs)
      found.set(x, next);
      x = next;
    }
  }
  return [...found].sort((a, b) => a[0] - b[0]).map(([since, until]) => ({ since, until }));
}

/**
 * Whether another running relay appended every change of this relay's hole
 * [gap.since, gap.until]: subscribed without a hole of its own since before
 * it began (with a second of slack for clocks), and covered past its end.
 * Such a relay's record may need a few heartbeats to show the end covered:
 * waits up to `waitMs`. Unsure (no such relay, or Redis failing): false,
 * and the gap is appended.
 * @param {object} sink
 * @param {{since: number, until: number}} gap seconds since the epoch
 * @param {{relayId: string, staleMs: number, pollMs: number, waitMs: number}} how
 * @returns {Promise<boolean>}
 */
async function coveredByPeer(sink, gap, { relayId, staleMs, pollMs, waitMs }) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    let records;
    try {
      records = await sink.records();
    } catch (_) {
      return false;
    }
    const now = Date.now();
    const candidates = [...records].filter(([id, r]) => id !== relayId && !r.stopped && r.seen >= now - staleMs &&
      (r.coverageSince ?? r.since) <= gap.since * 1000 - 1000);
    if (candidates.length === 0) return false;
    if (candidates.some(([, r]) => r.covered >= gap.until * 1000)) return true;
    if (now >= deadline) return false;
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

  /** The gap entries of the oldest `n` losses are appended (or another relay covered them). */
  settled(n) {
    this._losses.splice(0, n);
  }

  /**
   * A hole a gone relay left, from `sinceMs`, is to be appended: coverage
   * stays there until `release(token)`.
   * @returns {object} token
   */
  hold(sinceMs) {
    const token = { at: sinceMs };
    this._held.add(token);
    return token;
  }

  release(token) {
    this._held.delete(token);
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

module.exports = { startGap, goneRelays, holes, coveredByPeer, OwnCoverage };
