'use strict';

/**
 * Request handlers of the dev server: one function per message type, each
 * answering with the reference server's shapes, key orders and texts.
 * Where the transcripts show nothing (LIST_COLLECTIONS, DROP_COLLECTION,
 * databases, missing fields of READ/UPDATE/...) the answers follow the
 * reference server's source: see the comments on each handler.
 * @module nexaclient/dev-server/handlers
 * @private
 */

const { MSG } = require('./protocol');
const { pyTruthy, isMap, pyCompare, pyEqual } = require('./query');
const { ROLES, newUser, nowSeconds, hasDatabasePermission } = require('./users');
const { toToon, fromToon, pyJsonDumps, pyLen, round1 } = require('./toon');

const DEFAULT_OPERATIONS = ['insert', 'update', 'delete'];

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

// --- CONNECT -------------------------------------------------------------

function connect(server, conn, data) {
  const { username, password } = data;
  if (!pyTruthy(username) || !pyTruthy(password)) {
    return fail("Missing 'username' or 'password' field in CONNECT message");
  }
  const user = typeof username === 'string' ? server._users.get(username) : undefined;
  if (!user || typeof password !== 'string' || user.password !== password) {
    return fail('Invalid username or password');
  }
  conn.username = username;
  conn.role = user.role;
  // The session keeps the database permissions read at CONNECT, as the reference's does.
  conn.databases = user.databases;
  user.lastLogin = nowSeconds();
  return success({
    status: 'connected',
    server: 'NexaDB Binary Protocol',
    version: '1.0.0',
    authenticated: true,
    username,
    role: user.role,
  });
}

// --- documents -------------------------------------------------------------

function create(server, conn, data) {
  if (pyTruthy(data.create_database)) {
    // Reference: SUCCESS {database, message: 'Database created'}, admins only.
    if (!pyTruthy(data.database)) return fail("Missing 'database' field");
    if (conn.role !== 'admin') return fail('Permission denied. Only admins can create databases.');
    server._store.createDatabase(collName(data.database));
    return success({ database: data.database, message: 'Database created' });
  }
  const database = dbName(data);
  const { collection, data: fields } = data;
  if (!pyTruthy(collection) || !pyTruthy(fields)) return fail("Missing 'collection' or 'data' field");
  const refused = denied(conn, database, 'write');
  if (refused) return refused;
  requireMap(fields, 'data');
  refuseBinary(fields);
  touch(server, database);
  const coll = collName(collection);
  let doc;
  if (isVector(fields.vector)) {
    // As the reference: the vector is kept beside the document (which does
    // not hold it), its length must match the collection's vectors, and the
    // insert goes through the reference's vector collection, which emits no
    // change event.
    const vector = requireNumbers(fields.vector);
    const existing = server._store.vectorsOf(database, coll).values().next();
    if (!existing.done && existing.value.length !== vector.length) {
      return fail(`Vector dimension mismatch: collection expects ${existing.value.length} dimensions, got ${vector.length}`);
    }
    const rest = {};
    for (const k of Object.keys(fields)) if (k !== 'vector') rest[k] = fields[k];
    doc = server._store.insert(database, coll, rest);
    server._store.setVector(database, coll, doc._id, vector);
  } else {
    doc = server._store.insert(database, coll, fields);
    server._changed('insert', coll, doc);
  }
  return success({ database, collection, document_id: doc._id, message: 'Document inserted' });
}

function read(server, conn, data) {
  const database = dbName(data);
  const { collection, key } = data;
  if (!pyTruthy(collection) || !pyTruthy(key)) return fail("Missing 'collection' or 'key' field");
  const refused = denied(conn, database, 'read');
  if (refused) return refused;
  touch(server, database);
  const doc = server._store.get(database, collName(collection), key);
  if (!doc) return NOT_FOUND;
  return success({ database, collection, document: doc });
}

function update(server, conn, data) {
  const database = dbName(data);
  const { collection, key, updates } = data;
  if (!pyTruthy(collection) || !pyTruthy(key) || !pyTruthy(updates)) {
    return fail("Missing 'collection', 'key', or 'updates' field");
  }
  const refused = denied(conn, database, 'write');
  if (refused) return refused;
  touch(server, database);
  requireMap(updates, 'updates');
  refuseBinary(updates);
  const coll = collName(collection);
  const doc = server._store.update(database, coll, key, updates);
  if (!doc) return NOT_FOUND;
  server._changed('update', coll, doc, updates);
  return success({ database, collection, document_id: key, message: 'Document updated' });
}

function remove(server, conn, data) {
  const database = dbName(data);
  const { collection, key } = data;
  if (!pyTruthy(collection) || !pyTruthy(key)) return fail("Missing 'collection' or 'key' field");
  const refused = denied(conn, database, 'write');
  if (refused) return refused;
  touch(server, database);
  const coll = collName(collection);
  if (!server._store.delete(database, coll, key)) return NOT_FOUND;
  server._changed('delete', coll, { _id: key });
  return success({ database, collection, document_id: key, message: 'Document deleted' });
}

function query(server, conn, data) {
  const database = dbName(data);
  const { collection } = data;
  if (!pyTruthy(collection)) return fail("Missing 'collection' field");
  const refused = denied(conn, database, 'read');
  if (refused) return refused;
  touch(server, database);
  let filters = data.filters;
  if (filters === undefined || filters === null) filters = {};
  requireMap(filters, 'filters');
  let limit = data.limit === undefined ? 100 : data.limit;
  if (typeof limit === 'bigint') limit = Number(limit);
  if (typeof limit !== 'number') throw new RequestError("'limit' must be a number");
  const documents = server._store.find(database, collName(collection), filters, limit);
  return success({ database, collection, documents, count: documents.length });
}

function batchWrite(server, conn, data) {
  const database = dbName(data);
  const { collection, documents } = data;
  if (!pyTruthy(collection) || !pyTruthy(documents)) return fail("Missing 'collection' or 'documents' field");
  const refused = denied(conn, database, 'write');
  if (refused) return refused;
  if (!Array.isArray(documents) || !documents.every(isMap)) {
    throw new RequestError("'documents' must be a list of maps");
  }
  // Checked before any insert, so a refused batch writes nothing (the
  // reference server would have inserted the documents before the bad one).
  refuseBinary(documents);
  touch(server, database);
  const coll = collName(collection);
  const ids = [];
  const withVector = documents.filter((d) => isVector(d.vector));
  if (withVector.length > 0) {
    // As the reference: documents with a vector go first, through its batch
    // vector insert (no change events; a vector whose length differs from
    // the batch's first one is skipped silently), then the others, with events.
    const vectors = withVector.map((d) => requireNumbers(d.vector));
    const dims = vectors[0].length;
    withVector.forEach((fields, i) => {
      if (vectors[i].length !== dims) return;
      const rest = {};
      for (const k of Object.keys(fields)) if (k !== 'vector') rest[k] = fields[k];
      const doc = server._store.insert(database, coll, rest);
      server._store.setVector(database, coll, doc._id, vectors[i]);
      ids.push(doc._id);
    });
  }
  for (const fields of documents) {
    if (isVector(fields.vector)) continue;
    const doc = server._store.insert(database, coll, fields);
    ids.push(doc._id);
    server._changed('insert', coll, doc);
  }
  return success({
    database,
    collection,
    document_ids: ids,
    count: ids.length,
    message: `Inserted ${ids.length} documents`,
  });
}

// --- collections and databases ---------------------------------------------

/**
 * LIST_COLLECTIONS (not in the transcripts): as the reference server's source,
 * SUCCESS {database, collections: [names, sorted], count}; with
 * `database: true` it lists databases: {databases, count}.
 */
function listCollections(server, conn, data) {
  if (data.database === true) return listDatabases(server);
  const database = dbName(data);
  const refused = denied(conn, database, 'read');
  if (refused) return refused;
  touch(server, database);
  const collections = server._store.listCollections(database);
  return success({ database, collections, count: collections.length });
}

/**
 * DROP_COLLECTION (not in the transcripts): as the reference server's source,
 * SUCCESS {database, collection, message: 'Collection dropped'} and a
 * dropCollection event; ERROR "Collection 'x' not found in database 'y'"
 * when absent. With `drop_database: true` it drops the database instead.
 */
function dropCollection(server, conn, data) {
  if (pyTruthy(data.drop_database)) {
    const database = data.database;
    if (!pyTruthy(database)) return fail("Missing 'database' field");
    if (conn.role !== 'admin') return fail('Permission denied. Only admins can drop databases.');
    const dropped = dropDatabaseNamed(server, database);
    if (dropped.type !== MSG.SUCCESS) return dropped;
    return success({ success: true, database, message: `Database '${database}' dropped successfully` });
  }
  const database = dbName(data);
  const { collection } = data;
  if (!pyTruthy(collection)) return fail("Missing 'collection' field");
  const refused = denied(conn, database, 'admin',
    `You need 'admin' access to drop collections in database '${database}'`);
  if (refused) return refused;
  touch(server, database);
  const coll = collName(collection);
  if (!server._store.dropCollection(database, coll)) {
    return fail(`Collection '${coll}' not found in database '${database}'`);
  }
  server._changed('dropCollection', coll);
  return success({ database, collection, message: 'Collection dropped' });
}

/** LIST_DATABASES: {databases: [names, sorted], count}. */
function listDatabases(server) {
  const databases = server._store.listDatabases();
  return success({ databases, count: databases.length });
}

function dropDatabaseNamed(server, database) {
  if (database === 'default') return fail("Cannot drop 'default' database");
  if (typeof database !== 'string' || !server._store.dropDatabase(database)) {
    return fail(`Database '${database}' not found`);
  }
  return success({ database, message: `Database '${database}' dropped successfully` });
}

/** DROP_DATABASE: {database, message}; no events, as on the reference server. */
function dropDatabase(server, conn, data) {
  if (!pyTruthy(data.database)) return fail("Missing 'database' field");
  return dropDatabaseNamed(server, data.database);
}

// --- change streams ----------------------------------------------------------

/**
 * SUBSCRIBE_CHANGES: one subscription per connection; a second one replaces
 * the first. A falsy collection (nil, "") watches every collection.
 */
function subscribe(server, conn, data) {
  const collection = data.collection === undefined ? null : data.collection;
  const operations = data.operations === undefined ? DEFAULT_OPERATIONS.slice() : data.operations;
  if (!Array.isArray(operations) || !operations.every((o) => typeof o === 'string')) {
    throw new RequestError("'operations' must be a list of operation names");
  }
  conn.subscription = { collection, operations };
  const what = pyTruthy(collection) ? String(collection) : 'all collections';
  return success({
    subscribed: true,
    collection,
    operations,
    message: `Subscribed to change stream for ${what}`,
  });
}

function unsubscribe(server, conn) {
  conn.subscription = null;
  return success({ unsubscribed: true, message: 'Unsubscribed from change stream' });
}

// --- the rest ------------------------------------------------------------------

function ping(server) {
  return { type: MSG.PONG, payload: { status: 'ok', timestamp: server._store.clock.tick() / 1e6 } };
}

function disconnect(server, conn) {
  conn.closeAfterAnswer = true;
  return success({ status: 'goodbye' });
}

// --- vectors -------------------------------------------------------------------

function toCount(value, field) {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number' || typeof value === 'boolean') return Number(value);
  throw new RequestError(`'${field}' must be a number`);
}

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

// --- TOON ------------------------------------------------------------------------

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
    const ids = [];
    for (const fields of documents) {
      const doc = server._store.insert(database, coll, fields);
      ids.push(doc._id);
      server._changed('insert', coll, doc);
    }
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

// --- users -------------------------------------------------------------------------

function requireAdmin(conn, what) {
  return conn.role === 'admin' ? null : fail(`Permission denied. Only admins can ${what}.`);
}

/**
 * CREATE_USER (`username`, `password`, `role` default 'read'), admins only:
 * SUCCESS {message, username, password, api_key, role, note}. The new user
 * can CONNECT at once; it has no database permissions (see DevServerOptions).
 */
function createUser(server, conn, data) {
  const refused = requireAdmin(conn, 'create users');
  if (refused) return refused;
  const { username, password } = data;
  const role = data.role === undefined ? 'read' : data.role;
  if (!pyTruthy(username) || !pyTruthy(password)) return fail("Missing 'username' or 'password' field");
  if (!ROLES.includes(role)) return fail(`Invalid role. Must be one of: ${ROLES.join(', ')}`);
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw new RequestError("'username' and 'password' must be strings");
  }
  if (server._users.has(username)) return fail(`User '${username}' already exists`);
  const user = newUser(password, role, {});
  server._users.set(username, user);
  return success({
    message: `User '${username}' created successfully`,
    username,
    password,
    api_key: user.apiKey,
    role,
    note: '\u26a0\ufe0f Save these credentials! Password and API key are only shown once.',
  });
}

/**
 * DELETE_USER (`username`), admins only: SUCCESS {message}. Errors as the
 * reference's (its auth manager raises, its dispatcher answers the text):
 * "Cannot delete root user", "User 'x' not found". Open sessions of the
 * deleted user stay authenticated, as on the reference.
 */
function deleteUser(server, conn, data) {
  const refused = requireAdmin(conn, 'delete users');
  if (refused) return refused;
  const { username } = data;
  if (!pyTruthy(username)) return fail("Missing 'username' field");
  if (username === 'root') return fail('Cannot delete root user');
  if (typeof username !== 'string' || !server._users.has(username)) return fail(`User '${username}' not found`);
  server._users.delete(username);
  return success({ message: `User '${username}' deleted successfully` });
}

/**
 * LIST_USERS, admins only: SUCCESS {users: {name: {role, api_key_prefix,
 * created_at, last_login, password_changed_at}}, count}; `users` is a map.
 */
function listUsers(server, conn) {
  const refused = requireAdmin(conn, 'list users');
  if (refused) return refused;
  const users = {};
  for (const [name, u] of server._users) {
    users[name] = {
      role: u.role,
      api_key_prefix: `${u.apiKey.slice(0, 15)}...`,
      created_at: u.createdAt,
      last_login: u.lastLogin,
      password_changed_at: u.passwordChangedAt,
    };
  }
  return success({ users, count: server._users.size });
}

/**
 * CHANGE_PASSWORD (`username`, `new_password`): a user may change its own
 * password, an admin anyone's. SUCCESS {message}; ERROR "Failed to change
 * password for user 'x'" for an unknown user.
 */
function changePassword(server, conn, data) {
  const username = data.username;
  const newPassword = data.new_password;
  if (!pyTruthy(username) || !pyTruthy(newPassword)) return fail("Missing 'username' or 'new_password' field");
  if (conn.username !== username && conn.role !== 'admin') {
    return fail('Permission denied. You can only change your own password.');
  }
  const user = typeof username === 'string' ? server._users.get(username) : undefined;
  if (!user) return fail(`Failed to change password for user '${username}'`);
  if (typeof newPassword !== 'string') throw new RequestError("'new_password' must be a string");
  user.password = newPassword;
  user.passwordChangedAt = nowSeconds();
  return success({ message: `Password changed successfully for user '${username}'` });
}

const HANDLERS = new Map([
  [MSG.CREATE, create],
  [MSG.READ, read],
  [MSG.UPDATE, update],
  [MSG.DELETE, remove],
  [MSG.QUERY, query],
  [MSG.BATCH_WRITE, batchWrite],
  [MSG.PING, ping],
  [MSG.DISCONNECT, disconnect],
  [MSG.LIST_COLLECTIONS, listCollections],
  [MSG.DROP_COLLECTION, dropCollection],
  [MSG.SUBSCRIBE_CHANGES, subscribe],
  [MSG.UNSUBSCRIBE_CHANGES, unsubscribe],
  [MSG.LIST_DATABASES, listDatabases],
  [MSG.DROP_DATABASE, dropDatabase],
  [MSG.VECTOR_SEARCH, vectorSearch],
  [MSG.QUERY_TOON, queryToon],
  [MSG.EXPORT_TOON, exportToon],
  [MSG.IMPORT_TOON, importToon],
  [MSG.CREATE_USER, createUser],
  [MSG.DELETE_USER, deleteUser],
  [MSG.LIST_USERS, listUsers],
  [MSG.CHANGE_PASSWORD, changePassword],
  [MSG.GET_VECTORS, getVectors],
  [MSG.BUILD_HNSW_INDEX, buildHnswIndex],
]);

/** Types the reference server knows that the dev server does not implement (they need a MongoDB). */
const UNSUPPORTED = new Map([
  [0x50, 'IMPORT_MONGODB_DB'],
  [0x51, 'IMPORT_MONGODB_COLLECTION'],
]);

/**
 * Answers one decoded request.
 * @returns {{type: number, payload: object}}
 */
function handleRequest(server, conn, type, decoded) {
  const data = isMap(decoded) ? decoded : {};
  try {
    if (type === MSG.CONNECT) return connect(server, conn, data);
    if (conn.username === null) return fail('Not authenticated. Send CONNECT message with API key first.');
    const handler = HANDLERS.get(type);
    if (handler) return handler(server, conn, data);
    if (UNSUPPORTED.has(type)) return fail(`${UNSUPPORTED.get(type)} is not supported by the NexaDB dev server`);
    return fail(`Unknown message type: ${type}`);
  } catch (err) {
    if (err instanceof RequestError) return fail(err.message);
    // Like the reference server, whose handlers answer ERROR str(exception).
    return fail(err && err.message ? err.message : String(err));
  }
}

module.exports = { handleRequest, DEFAULT_OPERATIONS };
