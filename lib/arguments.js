'use strict';
// The argument checks of NexaClient's calls: each throws the TypeError a
// caller sees before anything is sent. The options every request takes
// (database, timeout, signal) are checked in lib/request-connection.js.
const { validateStreamOptions, rejectUnknown, checkSignal, STREAM_OPTIONS, WATCH_OPTIONS } = require('./options');

const OPERATIONS = ['insert', 'update', 'delete', 'dropCollection'];
const DEFAULT_OPERATIONS = ['insert', 'update', 'delete'];

/**
 * Normalises watch()'s operations argument: an array (the official client's
 * form), or options.operations.
 */
function parseOperations(ops) {
  if (ops === undefined || ops === null) return DEFAULT_OPERATIONS.slice();
  if (!Array.isArray(ops) || ops.length === 0) throw new TypeError('operations must be a non-empty array');
  for (const op of ops) {
    if (!OPERATIONS.includes(op)) {
      throw new TypeError(`unknown operation ${JSON.stringify(op)}: expected one of ${OPERATIONS.join(', ')}`);
    }
  }
  return ops.slice();
}

function checkName(v, what) {
  if (typeof v !== 'string' || v === '') throw new TypeError(`${what} must be a non-empty string`);
}

function checkMap(v, what) {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${what} must be an object`);
  return v;
}

function checkCount(v, what) {
  if (!Number.isInteger(v) || v < 0) throw new TypeError(`${what} must be a non-negative integer`);
  return v;
}

/** `limit` may be the options object itself (`query(coll, filters, { limit, database })`). */
function limitAndOptions(limit, options, dflt) {
  if (limit !== null && typeof limit === 'object') {
    options = limit;
    limit = options.limit !== undefined ? options.limit : dflt;
  }
  checkCount(limit, 'limit');
  return [limit, options];
}

/**
 * vectorSearch()'s two orders, `(limit, dimensions, options)` and `(options)`
 * or `(limit, options)`: the search's payload fields, and the options.
 * @returns {[{limit: number, dimensions: number, filters?: object}, object|undefined]}
 */
function vectorSearchArguments(limit, dimensions, options) {
  let o = options;
  if (limit !== null && typeof limit === 'object') {
    o = limit;
    limit = o.limit !== undefined ? o.limit : 10;
    dimensions = o.dimensions;
  } else if (dimensions !== null && typeof dimensions === 'object') {
    o = dimensions;
    dimensions = o.dimensions;
  }
  if (dimensions === undefined) dimensions = (o && o.dimensions) || 768;
  checkCount(limit, 'limit');
  checkCount(dimensions, 'dimensions');
  const search = { limit, dimensions };
  if (o && o.filters !== undefined) search.filters = checkMap(o.filters, 'filters');
  return [search, o];
}

/** buildHnswIndex()'s index parameters, in the server's names. */
function hnswParameters(options) {
  const p = {};
  if (options && options.M !== undefined) p.M = checkCount(options.M, 'M');
  if (options && options.efConstruction !== undefined) p.ef_construction = checkCount(options.efConstruction, 'efConstruction');
  return p;
}

/**
 * watch()'s options (an object, or the operations array).
 * @param {object|string[]|null|undefined} options
 * @param {object} clientOpts the client's options, which the stream's own override
 * @returns {{opts: object, operations: string[], signal: AbortSignal|undefined, gaps: boolean, catchUp: boolean}}
 */
function watchArguments(options, clientOpts) {
  const given = Array.isArray(options) ? { operations: options } : options === null || options === undefined ? {} : options;
  if (typeof given !== 'object') throw new TypeError('watch options must be an object or an operations array');
  rejectUnknown(given, WATCH_OPTIONS, 'watch option');
  const operations = parseOperations(given.operations);
  const opts = { ...clientOpts };
  for (const k of STREAM_OPTIONS) if (given[k] !== undefined) opts[k] = given[k];
  validateStreamOptions(opts);
  for (const k of ['gaps', 'catchUp']) {
    if (given[k] !== undefined && typeof given[k] !== 'boolean') throw new TypeError(`watch option ${k} must be a boolean`);
  }
  const signal = checkSignal(given.signal, 'watch');
  return { opts, operations, signal, gaps: given.gaps === true, catchUp: given.catchUp === true };
}

module.exports = {
  checkName, checkMap, limitAndOptions, vectorSearchArguments, hnswParameters, watchArguments, parseOperations,
};
