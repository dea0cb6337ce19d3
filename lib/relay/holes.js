'use strict';
// The holes relays leave: times (ms) when no relay received the changes and
// no gap entry says so. Each relay's record claims a span: every change from
// `coveredFrom` to `covered` is in the stream or inside a gap entry; a
// running relay's span goes on (it appends its own gaps). From where a gone
// relay stopped covering, the spans are followed; where none goes on, there
// is a hole. Pure: coverage.js and liveness.js read the records and act.

/** Whether a record was refreshed within its relay's own stale time (or, an older relay's, ours). */
const isFresh = (r, now, staleMs) => r.seen >= now - (r.staleMs ?? staleMs);

/** The span a record claims (ms); covered only grows, so a live record's claim holds too. */
const startOf = (r) => r.coveredFrom ?? r.since;
const endOf = (r) => r.covered ?? startOf(r);
const spanOf = (r) => ({ from: startOf(r), to: endOf(r) });

/**
 * The holes after each of `ends`, as [since, until] (ms). From an end, the
 * spans are followed while one began by then and reaches further; where
 * none did, a hole runs to where the next span begins. No slack: `covered`
 * already stays behind for events on their way, and a relay that began
 * after it did not receive them.
 * @param {Array<{from: number, to: number}>} spans one of them a running relay's (to: Infinity)
 * @param {number[]} ends
 * @returns {Array<{since: number, until: number}>} oldest first, no two alike
 */
function holes(spans, ends) {
  const found = new Map(); // since -> until
  for (let x of ends) {
    for (;;) {
      let reach = x;
      for (const s of spans) if (s.from <= x && s.to > reach) reach = s.to;
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
 * How far back from `from` the finished pieces (gone relays' spans, holes
 * about to be gap entries) cover without a break. Not through a running
 * relay's span: it may yet die with a hole of its own.
 * @param {number} from
 * @param {Array<{from: number, to: number}>} pieces
 * @returns {number}
 */
function reachBack(from, pieces) {
  let x = from;
  for (;;) {
    let back = x;
    for (const p of pieces) if (p.from < back && p.to >= x) back = p.from;
    if (back === x) return x;
    x = back;
  }
}

/**
 * The holes left after the relays of `endIds` stopped covering, and how far
 * back this relay's own span may then reach once their gaps are appended.
 * @param {Map<string, object>} records not this relay's current one (otherChanges: followed from, never through)
 * @param {number} selfFrom this relay's coveredFrom (ms)
 * @param {string[]} endIds records to follow from
 * @param {(id: string, r: object) => boolean} running whose relays go on covering
 * @returns {{gaps: Array<{since: number, until: number}>, coveredFrom: number}} gaps in seconds
 */
function holesAfter(records, selfFrom, endIds, running) {
  const spans = [{ from: selfFrom, to: Infinity }];
  const finished = [];
  for (const [id, r] of records) {
    if (r.otherChanges) continue; // a relay of other changes covers nothing for this one
    if (running(id, r)) spans.push({ from: startOf(r), to: Infinity });
    else finished.push(spanOf(r));
  }
  const found = holes([...spans, ...finished], endIds.map((id) => endOf(records.get(id))));
  const coveredFrom = reachBack(selfFrom, [...finished, ...found.map((h) => ({ from: h.since, to: h.until }))]);
  return { gaps: found.map((h) => ({ since: h.since / 1000, until: h.until / 1000 })), coveredFrom };
}

module.exports = { isFresh, holes, reachBack, holesAfter };
