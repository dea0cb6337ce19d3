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

const { MSG } = require('../protocol');
const { isMap } = require('../query');
const { RequestError, fail } = require('./common');
const { create, read, update, remove, query, batchWrite } = require('./documents');
const { listCollections, dropCollection, listDatabases, dropDatabase } = require('./collections');
const { subscribe, unsubscribe, ping, disconnect, DEFAULT_OPERATIONS } = require('./session');
const { vectorSearch, getVectors, buildHnswIndex } = require('./vectors');
const { queryToon, exportToon, importToon } = require('./toon');
const { connect, createUser, deleteUser, listUsers, changePassword } = require('./users');

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
