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
//   covered  every change before this time is appended (or was a gap entry)
//   coverageSince  since when it has had no hole of its own (its start, or
//            the end of its last reconnect or stall gap)
//   streams  the streams it appended to (where gaps for every collection go)
//   stopped  set by close(): nothing to wait for
// A starting relay, subscribed already (so nothing after t0 is missed),
// looks at the others' records before it writes its own:
//   - none at all: the first relay on this stream; nothing was missed;
//   - one heartbeats after t0: a relay is running, and it recorded any hole
//     before its own start when it started: no gap;
//   - none does within `staleMs`: the gap runs from the newest `covered` of
//     them all to t0.
// Two relays starting together both record the gap; its key is (reason,
// since), the same for both, so the stream gets one entry.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {object} sink records() -> Map<id, record>
 * @param {object} how
 * @param {string} how.relayId this relay (a record under its own id is a previous run)
 * @param {number} how.t0 when this relay's subscription was acknowledged (ms)
 * @param {number} how.staleMs a record not refreshed for this long is a dead relay's
 * @param {number} how.pollMs
 * @param {() => boolean} [how.cancelled]
 * @returns {Promise<{gap: {since: number, until: number}|null, streams: string[], dead: string[]}>}
 *   since/until in seconds since the epoch
 */
async function startGap(sink, { relayId, t0, staleMs, pollMs, cancelled = () => false }) {
  for (;;) {
    const records = await sink.records();
    const others = [...records].filter(([id]) => id !== relayId);
    const streams = new Set();
    for (const [, r] of records) for (const s of r.streams || []) streams.add(s);
    const gone = (id, r) => id === relayId || r.stopped || r.seen < t0 - staleMs;
    const dead = [...records].filter(([id, r]) => gone(id, r)).map(([id]) => id);
    if (records.size === 0) return { gap: null, streams: [], dead };
    if (others.some(([, r]) => !r.stopped && r.seen > t0)) return { gap: null, streams: [...streams], dead: [] };
    const undecided = others.some(([id, r]) => !gone(id, r));
    if (!undecided || Date.now() >= t0 + staleMs || cancelled()) {
      let since = 0;
      for (const [, r] of records) since = Math.max(since, r.covered || 0);
      since = Math.min(since, t0);
      return { gap: { since: since / 1000, until: t0 / 1000 }, streams: [...streams], dead: [...records.keys()] };
    }
    await sleep(pollMs);
  }
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

module.exports = { startGap, coveredByPeer };
