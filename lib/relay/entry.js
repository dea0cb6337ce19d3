'use strict';
// One change (or gap) as a stream entry, and back. The fields are plain text
// so that a consumer in any language can read them:
//   op     operationType ('insert', 'update', 'delete', 'dropCollection', 'gap', 'catchUp')
//   coll   the collection ('' when a gap concerns every collection)
//   id     documentKey._id (JSON when it is not a string); '' without one
//   ts     the server's timestamp, seconds since the epoch; '' without one
//   event  the item itself as JSON: the object the NexaDB iterator yields
// gap entries add since, until, reason and relay (the relay's id).
const crypto = require('crypto');

/** JSON of an event; BigInt values (the int64 options) become decimal text. */
function eventJson(item) {
  try {
    return JSON.stringify(item);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return JSON.stringify(item, (k, v) => (typeof v === 'bigint' ? v.toString() : v));
  }
}

function digest(text) {
  return crypto.createHash('sha1').update(text).digest('base64url');
}

/**
 * The entry for one item the relay read (a change, a gap or a catch-up).
 * The de-duplication key is derived from the content alone, so that relays
 * reading the same server derive the same key for the same change: the
 * event's JSON holds its collection, document key, server timestamp and
 * document. A gap seen by one relay differs from another relay's, except a
 * restart gap, keyed by what relays that find the same hole agree on
 * (reason, since, until): one whose hole ends elsewhere is another entry,
 * or the shorter would stand for the longer.
 * @param {object} item
 * @param {string} stream the stream it goes to
 * @param {string} relayId
 * @returns {{stream: string, key: string, fields: string[], ts: number|null, at: number, bytes: number, gap?: object}}
 *   bytes: about what its fields take (their length)
 */
function toEntry(item, stream, relayId) {
  const op = String(item.operationType);
  const coll = (item.ns && item.ns.coll) || '';
  const dk = item.documentKey && item.documentKey._id;
  const id = dk === undefined ? '' : typeof dk === 'string' ? dk : eventJson(dk);
  const ts = typeof item.timestamp === 'number' ? item.timestamp : null;
  if (item.catchUp && item.catchUp.error instanceof Error) {
    // A failed catch-up's Error would be {} in JSON: its message is what a reader needs.
    item = { ...item, catchUp: { ...item.catchUp, error: item.catchUp.error.message } };
  }
  const json = eventJson(item);
  const fields = ['op', op, 'coll', coll, 'id', id, 'ts', ts === null ? '' : String(ts), 'event', json];
  let content = json;
  if (op === 'gap') {
    fields.push('since', String(item.since), 'until', String(item.until), 'reason', String(item.reason), 'relay', relayId);
    if (item.reason === 'restart') content = `gap restart ${coll} ${item.since} ${item.until}`;
  }
  let bytes = 0;
  for (const f of fields) bytes += f.length;
  const entry = { stream, key: `${stream}:dedup:${digest(`${stream}\n${content}`)}`, fields, ts, at: Date.now(), bytes };
  if (op === 'gap') entry.gap = { reason: item.reason, since: item.since, until: item.until };
  return entry;
}

/**
 * The item of an entry's fields (a flat [name, value, ...] array, as
 * XREADGROUP answers): the `event` field parsed.
 * @param {string[]} flat
 * @returns {object}
 */
function fromFields(flat) {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (flat[i] === 'event') return JSON.parse(flat[i + 1]);
  }
  throw new Error('stream entry without an event field');
}

module.exports = { toEntry, fromFields };
