'use strict';

/**
 * Handlers of the collection and database messages: LIST_COLLECTIONS,
 * DROP_COLLECTION, LIST_DATABASES and DROP_DATABASE.
 * @module nexaclient/dev-server/handlers/collections
 * @private
 */

const { MSG } = require('../protocol');
const { pyTruthy } = require('../query');
const { success, fail, dbName, collName, denied, touch } = require('./common');

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

module.exports = { listCollections, dropCollection, listDatabases, dropDatabase };
