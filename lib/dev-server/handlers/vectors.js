'use strict';

/**
 * Handlers of the vector messages: VECTOR_SEARCH, GET_VECTORS and
 * BUILD_HNSW_INDEX.
 * @module nexaclient/dev-server/handlers/vectors
 * @private
 */

const { pyTruthy, isMap, pyCompare, pyEqual } = require('../query');
const {
  RequestError, success, fail, dbName, collName, denied, touch,
  requireNumbers, requireMap, toCount,
} = require('./common');

/** The reference's post-search metadata filter: equality, $gt $gte $lt $lte only. */
function vectorFilterMatches(doc, filters) {
  for (const field of Object.keys(filters)) {
    const condition = filters[field];
    const value = Object.prototype.hasOwnProperty.call(doc, field) ? doc[field] : null;
    if (isMap(condition)) {
      for (const op of Object.keys(condition)) {
        const operand = condition[op];
        if (op === '$gte' && !(pyCompare(value, operand, '>=') >= 0)) return false;
        if (op === '$lte' && !(pyCompare(value, operand, '<=') <= 0)) return false;
        if (op === '$gt' && !(pyCompare(value, operand, '>') > 0)) return false;
        if (op === '$lt' && !(pyCompare(value, operand, '<') < 0)) return false;
      }
    } else if (!pyEqual(value, condition)) {
      return false;
    }
  }
  return true;
}

/**
 * VECTOR_SEARCH: SUCCESS {database, collection, results: [{document_id,
 * similarity, document}], count}, nearest first. As on the reference the
 * query vector must have `dimensions` elements (default 768), only stored
 * vectors of that length are searched (its index is per name and
 * dimensions), similarity is cosine (dot / (|q| |v| + 1e-10)), and the
 * filters are applied to the `limit` nearest, so fewer may come back.
 * A plain scan stands in for the reference's HNSW index.
 */
function vectorSearch(server, conn, data) {
  const database = dbName(data);
  const { collection, vector } = data;
  if (!pyTruthy(collection) || !pyTruthy(vector)) return fail("Missing 'collection' or 'vector' field");
  const refused = denied(conn, database, 'read');
  if (refused) return refused;
  touch(server, database);
  const limit = toCount(data.limit === undefined ? 10 : data.limit, 'limit');
  const dimensions = toCount(data.dimensions === undefined ? 768 : data.dimensions, 'dimensions');
  if (!Array.isArray(vector)) throw new RequestError("'vector' must be a list of numbers");
  const query = requireNumbers(vector);
  if (query.length !== dimensions) throw new RequestError(`Query vector must have ${dimensions} dimensions`);
  const coll = collName(collection);
  let qn = 0;
  for (const x of query) qn += x * x;
  qn = Math.sqrt(qn);
  const scored = [];
  for (const [id, v] of server._store.vectorsOf(database, coll)) {
    if (v.length !== dimensions) continue;
    let dot = 0;
    let vn = 0;
    for (let i = 0; i < v.length; i++) {
      dot += query[i] * v[i];
      vn += v[i] * v[i];
    }
    scored.push({ id, similarity: dot / (qn * Math.sqrt(vn) + 1e-10) });
  }
  scored.sort((a, b) => b.similarity - a.similarity);
  const filters = data.filters;
  const results = [];
  for (const { id, similarity } of scored.slice(0, Math.max(0, limit))) {
    const doc = server._store.get(database, coll, id);
    if (!doc) continue;
    if (pyTruthy(filters)) {
      requireMap(filters, 'filters');
      if (!vectorFilterMatches(doc, filters)) continue;
    }
    results.push({ document_id: id, similarity, document: doc });
  }
  return success({ database, collection, results, count: results.length });
}

/**
 * GET_VECTORS: SUCCESS {database, status: 'success', total_vectors,
 * collections: {name: {count, documents: [{doc_id, dimensions}],
 * dimensions}}}. No permission check, as on the reference. (The reference
 * decodes its stored vectors as JSON, which fails on the numpy bytes it
 * writes when numpy is installed; the dev server answers what it meant to.)
 */
function getVectors(server, conn, data) {
  const database = data.database === undefined ? 'default' : data.database;
  const collections = {};
  let total = 0;
  const byColl = typeof database === 'string' ? server._store.vectorsIn(database) : new Map();
  for (const name of Array.from(byColl.keys()).sort()) {
    const vectors = byColl.get(name);
    if (vectors.size === 0) continue;
    const ids = Array.from(vectors.keys()).sort();
    const entry = { count: 0, documents: [] };
    for (const id of ids) {
      const dims = vectors.get(id).length;
      entry.count += 1;
      entry.documents.push({ doc_id: id, dimensions: dims });
      if (entry.dimensions === undefined) entry.dimensions = dims;
    }
    total += entry.count;
    collections[name] = entry;
  }
  return success({ database, status: 'success', total_vectors: total, collections });
}

/**
 * BUILD_HNSW_INDEX: builds nothing, answers as the reference does:
 * SUCCESS {status: 'success', collection, database, num_vectors, message};
 * ERROR "No vectors found in collection 'x'" when it holds none. `M` and
 * `ef_construction` are accepted and ignored.
 */
function buildHnswIndex(server, conn, data) {
  const database = dbName(data);
  const { collection } = data;
  if (!pyTruthy(collection)) return fail("Missing 'collection' field");
  const refused = denied(conn, database, 'write',
    `You need 'write' access to build indexes in database '${database}'`);
  if (refused) return refused;
  touch(server, database);
  const coll = collName(collection);
  const vectors = server._store.vectorsOf(database, coll);
  if (vectors.size === 0) return fail(`No vectors found in collection '${coll}'`);
  const n = vectors.size;
  return success({
    status: 'success',
    collection: coll,
    database,
    num_vectors: n,
    message: `HNSW index built with ${n} vectors`,
  });
}

module.exports = { vectorSearch, getVectors, buildHnswIndex };
