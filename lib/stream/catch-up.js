'use strict';
// catchUp: after a reconnect gap, the documents the server can tell changed
// meanwhile (its `_updated_at`) are read again and yielded as catchUp items.
// Deletes cannot be seen this way.
const { NS_DB } = require('./gaps');

/**
 * Documents changed this long before the newest `_updated_at` a stream saw
 * are read again too: the server sends each event from a thread of its own,
 * so events just before a loss may be overtaken and lost in flight.
 */
const CATCH_UP_MARGIN_MS = 1000;

/** A document read back after a gap. */
function catchUpItem(coll, document) {
  return { operationType: 'catchUp', ns: { db: NS_DB, coll }, documentKey: { _id: document._id }, fullDocument: document };
}

/**
 * The newest `_updated_at` (the server's local time, as text) among `docs`
 * and `mark`. Same-format ISO texts compare as strings; a missing fraction
 * ("…:28" for "…:28.000000") still sorts first.
 * @param {string|null} mark
 * @param {Array<object|undefined>} docs full documents, or objects holding them under `key`
 * @param {string|null} [key] (no array of the documents is made per run of events)
 */
function newestUpdate(mark, docs, key = null) {
  for (let i = 0; i < docs.length; i++) {
    const d = key === null ? docs[i] : docs[i][key];
    const at = d !== undefined && d !== null ? d._updated_at : undefined;
    if (typeof at === 'string' && (mark === null || at > mark)) mark = at;
  }
  return mark;
}

/**
 * Where a catch-up starts reading: the mark less the margin, still in the
 * server's own clock and format (no time zone is assumed or needed: both
 * sides of the comparison are the server's local time). null: from the start.
 * @param {string|null} mark
 */
function catchUpFrom(mark) {
  if (mark === null) return null;
  const t = Date.parse(`${mark}Z`);
  if (Number.isNaN(t)) return mark;
  return new Date(t - CATCH_UP_MARGIN_MS).toISOString().slice(0, -1); // "YYYY-MM-DDTHH:MM:SS.mmm", no zone
}

/** Documents one catch-up reads per collection at most (QUERY has no paging). */
const CATCH_UP_LIMIT = 100000;

/**
 * The documents of `collection` (of every collection of the client's
 * database when null) whose `_updated_at` is at or after `since` (the
 * server's own text; null: every document), for a stream's catch-up.
 * `complete` is false when a collection held CATCH_UP_LIMIT or more.
 * @param {{listCollections: () => Promise<string[]>, query: (collection: string, filters: object, limit: number) => Promise<object[]>}} client
 * @param {string|null} collection
 * @param {string|null} since
 * @returns {Promise<{found: Array<{collection: string, document: object}>, complete: boolean}>}
 */
async function changedSince(client, collection, since) {
  const names = collection !== null ? [collection] : await client.listCollections();
  const filters = since === null ? {} : { _updated_at: { $gte: since } };
  const found = [];
  let complete = true;
  for (const name of names) {
    const docs = await client.query(name, filters, CATCH_UP_LIMIT);
    if (docs.length >= CATCH_UP_LIMIT) complete = false;
    for (const document of docs) found.push({ collection: name, document });
  }
  return { found, complete };
}

module.exports = { catchUpItem, newestUpdate, catchUpFrom, changedSince };
