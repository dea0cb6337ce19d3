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
const { pyTruthy, isMap } = require('./query');

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

function containsBinary(v) {
  if (v instanceof Uint8Array) return true;
  if (Array.isArray(v)) return v.some(containsBinary);
  if (v !== null && typeof v === 'object') return Object.keys(v).some((k) => containsBinary(v[k]));
  return false;
}

/** The reference server stores documents as JSON, which refuses bytes. */
function refuseBinary(value) {
  if (containsBinary(value)) throw new RequestError('Object of type bytes is not JSON serializable');
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
  requireMap(fields, 'data');
  refuseBinary(fields);
  const coll = collName(collection);
  const doc = server._store.insert(database, coll, fields);
  server._changed('insert', coll, doc);
  return success({ database, collection, document_id: doc._id, message: 'Document inserted' });
}

function read(server, conn, data) {
  const database = dbName(data);
  const { collection, key } = data;
  if (!pyTruthy(collection) || !pyTruthy(key)) return fail("Missing 'collection' or 'key' field");
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
  const coll = collName(collection);
  if (!server._store.delete(database, coll, key)) return NOT_FOUND;
  server._changed('delete', coll, { _id: key });
  return success({ database, collection, document_id: key, message: 'Document deleted' });
}

function query(server, conn, data) {
  const database = dbName(data);
  const { collection } = data;
  if (!pyTruthy(collection)) return fail("Missing 'collection' field");
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
  if (!Array.isArray(documents) || !documents.every(isMap)) {
    throw new RequestError("'documents' must be a list of maps");
  }
  // Checked before any insert, so a refused batch writes nothing (the
  // reference server would have inserted the documents before the bad one).
  refuseBinary(documents);
  const coll = collName(collection);
  const ids = [];
  for (const fields of documents) {
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
]);

/** Types the reference server knows that the dev server does not implement. */
const UNSUPPORTED = new Map([
  [MSG.VECTOR_SEARCH, 'VECTOR_SEARCH'],
  [MSG.QUERY_TOON, 'QUERY_TOON'],
  [MSG.EXPORT_TOON, 'EXPORT_TOON'],
  [MSG.IMPORT_TOON, 'IMPORT_TOON'],
  [MSG.CREATE_USER, 'CREATE_USER'],
  [MSG.DELETE_USER, 'DELETE_USER'],
  [MSG.LIST_USERS, 'LIST_USERS'],
  [MSG.CHANGE_PASSWORD, 'CHANGE_PASSWORD'],
  [MSG.GET_VECTORS, 'GET_VECTORS'],
  [MSG.BUILD_HNSW_INDEX, 'BUILD_HNSW_INDEX'],
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
