'use strict';

/**
 * What every request handler of the dev server shares: the answer shapes,
 * the error a handler throws to answer ERROR, the reading of the database
 * and collection fields, and the checks the reference server makes before
 * it stores anything.
 * @module nexaclient/dev-server/handlers/common
 * @private
 */

const { MSG } = require('../protocol');
const { isMap } = require('../query');
const { hasDatabasePermission } = require('../users');

/** Thrown by a handler to answer ERROR with this text. */
class RequestError extends Error {}

const NOT_FOUND = { type: MSG.NOT_FOUND, payload: { error: 'Not found' } };

function success(payload) {
  return { type: MSG.SUCCESS, payload };
}

function fail(message) {
  return { type: MSG.ERROR, payload: { error: message } };
}

function dbName(data) {
  return typeof data.database === 'string' ? data.database : 'default';
}

/** Collection names are map keys here; a non-string name is used as its text. */
function collName(value) {
  return typeof value === 'string' ? value : String(value);
}

function containsBinary(value) {
  // A walk with a stack of its own: documents may nest thousands of levels.
  const todo = [value];
  while (todo.length) {
    const v = todo.pop();
    if (v instanceof Uint8Array) return true;
    if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) todo.push(v[k]);
  }
  return false;
}

/** The reference server stores documents as JSON, which refuses bytes. */
function refuseBinary(value) {
  if (containsBinary(value)) throw new RequestError('Object of type bytes is not JSON serializable');
}

/**
 * The reference's database permission check; null when allowed, else the
 * ERROR answer. `what` is the text after "Permission denied: ".
 */
function denied(conn, database, level, what) {
  if (hasDatabasePermission(conn, database, level)) return null;
  return fail(`Permission denied: ${what || `You don't have '${level}' access to database '${database}'`}`);
}

/**
 * The reference server creates a database (its metadata key) on every
 * collection-level operation that reaches it, reads included, so that
 * database is listed by LIST_DATABASES afterwards.
 */
function touch(server, database) {
  if (typeof database === 'string') server._store.createDatabase(database);
}

function isVector(v) {
  return Array.isArray(v);
}

function requireNumbers(vector) {
  for (const x of vector) {
    if (typeof x !== 'number' && typeof x !== 'bigint' && typeof x !== 'boolean') {
      // numpy's text for a vector it cannot make floats of
      throw new RequestError(`could not convert string to float: ${JSON.stringify(String(x))}`);
    }
  }
  return vector.map(Number);
}

function requireMap(value, field) {
  if (!isMap(value)) throw new RequestError(`'${field}' must be a map`);
}

function toCount(value, field) {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number' || typeof value === 'boolean') return Number(value);
  throw new RequestError(`'${field}' must be a number`);
}

/** Inserts each document, each with its insert event; answers their ids in order. */
function insertEach(server, database, coll, documents) {
  const ids = [];
  for (const fields of documents) {
    const doc = server._store.insert(database, coll, fields);
    ids.push(doc._id);
    server._changed('insert', coll, doc);
  }
  return ids;
}

module.exports = {
  RequestError,
  NOT_FOUND,
  success,
  fail,
  dbName,
  collName,
  refuseBinary,
  denied,
  touch,
  isVector,
  requireNumbers,
  requireMap,
  toCount,
  insertEach,
};
