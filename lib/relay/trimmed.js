'use strict';
// What trimming (maxLen, retention) took from a consumer group before the
// group had it handled, told to the consumer as a gap item in its place:
// trimming does not wait for groups, so a group that falls far enough behind
// loses entries, and a consumer must not skip them in silence.
const { fieldPairs } = require('./redis-client');

/** Seconds since the epoch of a stream id (its time part is epoch ms). */
function idSeconds(id) {
  return Number(String(id).split('-')[0]) / 1000;
}

/**
 * The entries the group never got that trimming removed, counted by Redis:
 * the group's lag (entries added after its last-delivered-id) beyond the
 * stream's length. Null when none, or when Redis cannot count (entries
 * deleted with XDEL, a group started at an arbitrary id: lag is null; the
 * stream gone).
 * @returns {Promise<{count: number, after: string}|null>} after: the group's
 *   last-delivered-id, where the hole begins
 */
async function unreadTrimmed(cmd, stream, group) {
  let groups;
  let length;
  try {
    [groups, length] = await Promise.all([cmd.sendCommand(['XINFO', 'GROUPS', stream]), cmd.sendCommand(['XLEN', stream])]);
  } catch (_) {
    return null; // the stream is gone (the read that follows says NOGROUP) or Redis is down (so does the read)
  }
  for (const g of groups) {
    const info = Object.fromEntries(fieldPairs(g));
    if (String(info.name) !== group) continue;
    if (info.lag === null || info.lag === undefined) return null;
    const count = Number(info.lag) - Number(length);
    return count > 0 ? { count, after: String(info['last-delivered-id']) } : null;
  }
  return null;
}

/** The gap item for `count` entries trimmed between two times (seconds). */
function trimmedGap(count, since, until) {
  return { operationType: 'gap', ns: { db: 'nexadb', coll: null }, reason: 'trimmed', since, until, count };
}

module.exports = { idSeconds, unreadTrimmed, trimmedGap };
