'use strict';

/**
 * Handlers of the TOON messages: QUERY_TOON, EXPORT_TOON and IMPORT_TOON.
 * @module nexaclient/dev-server/handlers/toon
 * @private
 */

const { pyTruthy, isMap } = require('../query');
const { toToon, fromToon, pyJsonDumps, pyLen, round1 } = require('../toon');
const { success, fail, dbName, collName, requireMap, toCount, insertEach } = require('./common');

function reduction(jsonSize, toonSize) {
  return jsonSize > 0 ? ((jsonSize - toonSize) / jsonSize) * 100 : 0;
}

/**
 * QUERY_TOON: SUCCESS {database, collection, format: 'TOON', data, count,
 * token_stats: {json_size, toon_size, reduction_percent}}; `data` is the
 * TOON text of {collection, documents, count}; json_size is the length of
 * Python's json.dumps({'documents': documents}). No permission check and no
 * database creation, as on the reference.
 */
function queryToon(server, conn, data) {
  const database = dbName(data);
  const { collection } = data;
  if (!pyTruthy(collection)) return fail("Missing 'collection' field");
  let filters = data.filters;
  if (filters === undefined || filters === null) filters = {};
  requireMap(filters, 'filters');
  const limit = toCount(data.limit === undefined ? 100 : data.limit, 'limit');
  const documents = server._store.find(database, collName(collection), filters, limit);
  const text = toToon({ collection, documents, count: documents.length });
  return toonAnswer(database, collection, documents, text, pyJsonDumps({ documents }).length, false);
}

/**
 * The answer of QUERY_TOON and EXPORT_TOON: json_size is measured by the
 * caller (each measures a different thing, as on the reference).
 */
function toonAnswer(database, collection, documents, text, jsonSize, withSavings) {
  const toonSize = pyLen(text);
  const pct = reduction(jsonSize, toonSize);
  const tokenStats = { json_size: jsonSize, toon_size: toonSize, reduction_percent: round1(pct) };
  if (withSavings) tokenStats.estimated_cost_savings = `~${roundedPercent(pct)}% less tokens for LLM processing`;
  return success({ database, collection, format: 'TOON', data: text, count: documents.length, token_stats: tokenStats });
}

/** Python f"{round(x, 0)}": a float such as 42.0 or -13.0. */
function roundedPercent(x) {
  const r = Math.round(x);
  if (r === 0 && x < 0) return '-0.0';
  return `${r}.0`;
}

/**
 * EXPORT_TOON: as QUERY_TOON over up to 10,000 documents; the TOON text is
 * of {collection, documents, count, exported_at}; json_size measures the
 * bare list; token_stats adds `estimated_cost_savings`.
 */
function exportToon(server, conn, data) {
  const database = dbName(data);
  const { collection } = data;
  if (!pyTruthy(collection)) return fail("Missing 'collection' field");
  const documents = server._store.find(database, collName(collection), {}, 10000);
  const exportedAt = server._store.clock.tick() / 1e6;
  const text = toToon({ collection, documents, count: documents.length, exported_at: exportedAt });
  return toonAnswer(database, collection, documents, text, pyJsonDumps(documents).length, true);
}

/**
 * IMPORT_TOON (`collection`, `toon_data`, `replace`, `database`): SUCCESS
 * {database, collection, imported, replaced, document_ids (first 100),
 * message}. The text is read as the reference reads it: a map whose
 * `documents` list is imported, or else the map itself as one document.
 * With `replace` the collection's documents are deleted first (each with a
 * delete event), then every document is inserted (each with an insert
 * event). Deviation: the reference stores `_id`, `_created_at` and
 * `_updated_at` found in the text over its own (so such a document cannot
 * be read by the id it answers); here imported documents always get fresh
 * ones. Failures answer "Failed to import TOON data: ...".
 */
function importToon(server, conn, data) {
  const database = dbName(data);
  const { collection } = data;
  const toonData = data.toon_data;
  const replace = data.replace === undefined ? false : data.replace;
  if (!pyTruthy(collection)) return fail("Missing 'collection' field");
  if (!pyTruthy(toonData)) return fail("Missing 'toon_data' field");
  try {
    if (typeof toonData !== 'string') throw new Error(`'${typeof toonData}' object has no attribute 'strip'`);
    const parsed = fromToon(toonData);
    let documents = Object.prototype.hasOwnProperty.call(parsed, 'documents') ? parsed.documents : [parsed];
    if (!Array.isArray(documents)) documents = [documents];
    if (!documents.every(isMap)) throw new Error("'documents' must be a list of maps");
    const coll = collName(collection);
    if (pyTruthy(replace)) {
      for (const doc of server._store.find(database, coll, {}, 100000)) {
        server._store.delete(database, coll, doc._id);
        server._changed('delete', coll, { _id: doc._id });
      }
    }
    const ids = insertEach(server, database, coll, documents);
    return success({
      database,
      collection,
      imported: ids.length,
      replaced: replace,
      document_ids: ids.slice(0, 100),
      message: `Successfully imported ${ids.length} documents from TOON format`,
    });
  } catch (err) {
    return fail(`Failed to import TOON data: ${err && err.message ? err.message : err}`);
  }
}

module.exports = { queryToon, exportToon, importToon };
