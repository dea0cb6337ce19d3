'use strict';

/**
 * Handlers of the document messages: CREATE, READ, UPDATE, DELETE, QUERY
 * and BATCH_WRITE.
 * @module nexaclient/dev-server/handlers/documents
 * @private
 */

const { pyTruthy, isMap } = require('../query');
const {
  RequestError, NOT_FOUND, success, fail, dbName, collName,
  refuseBinary, denied, touch, isVector, requireNumbers, requireMap, insertEach,
} = require('./common');

/** The document's fields but its vector, which is kept beside it. */
function withoutVector(fields) {
  const rest = {};
  for (const k of Object.keys(fields)) if (k !== 'vector') rest[k] = fields[k];
  return rest;
}

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
    doc = server._store.insert(database, coll, withoutVector(fields));
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
      const doc = server._store.insert(database, coll, withoutVector(fields));
      server._store.setVector(database, coll, doc._id, vectors[i]);
      ids.push(doc._id);
    });
  }
  for (const id of insertEach(server, database, coll, documents.filter((d) => !isVector(d.vector)))) ids.push(id);
  return success({
    database,
    collection,
    document_ids: ids,
    count: ids.length,
    message: `Inserted ${ids.length} documents`,
  });
}

module.exports = { create, read, update, remove, query, batchWrite };
