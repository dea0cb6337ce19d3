'use strict';

/**
 * The dev server's in-memory data: databases of collections of documents,
 * document ids and the clock that stamps documents and change events.
 * @module nexaclient/dev-server/store
 * @private
 */

const crypto = require('crypto');
const { performance } = require('perf_hooks');
const { matches } = require('./query');
const { setOwn } = require('../own-property');

/**
 * Microsecond wall clock, strictly increasing across all its readings.
 * A reading is never a whole second, so `seconds()` is never an integral
 * Number and the codec always writes it as float64, as the reference does.
 */
class Clock {
  constructor() {
    this._last = 0;
  }

  /** @returns {number} microseconds since the epoch (safe integer) */
  tick() {
    let us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    if (us <= this._last) us = this._last + 1;
    if (us % 1e6 === 0) us += 1;
    this._last = us;
    return us;
  }
}

function pad(n, width) {
  return String(n).padStart(width, '0');
}

/**
 * Local time, ISO 8601 with microseconds and no zone, like Python's
 * datetime.now().isoformat(): 2026-11-26T09:42:28.003998
 * @param {number} us microseconds since the epoch
 */
function isoLocal(us) {
  const d = new Date(Math.floor(us / 1000));
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1, 2)}-${pad(d.getDate(), 2)}` +
    `T${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(us % 1e6, 6)}`;
}

/** 16 lowercase hex characters. */
function newId() {
  return crypto.randomBytes(8).toString('hex');
}

const META = new Set(['_id', '_created_at', '_updated_at']);

/** A stored document: `_id, _created_at, _updated_at`, then the fields in order. */
function buildDocument(id, stamp, fields) {
  const doc = { _id: id, _created_at: stamp, _updated_at: stamp };
  for (const k of Object.keys(fields)) {
    if (!META.has(k)) setOwn(doc, k, fields[k]);
  }
  return doc;
}

/**
 * Databases -> collections -> documents, in memory. Collections come into
 * being with their first write; the "default" database always exists.
 */
class Store {
  constructor() {
    this.clock = new Clock();
    /** @type {Map<string, Map<string, Map<string, object>>>} */
    this.databases = new Map([['default', new Map()]]);
    /**
     * Vectors, kept beside the documents as the reference server keeps them
     * (`db:<database>:vector:<collection>:<id>`): database -> collection ->
     * id -> number[]. A document stored with a vector does not hold it.
     * @type {Map<string, Map<string, Map<string, number[]>>>}
     */
    this.vectors = new Map();
  }

  /** Stores a document's vector. */
  setVector(database, collection, id, vector) {
    let db = this.vectors.get(database);
    if (!db) {
      db = new Map();
      this.vectors.set(database, db);
    }
    let coll = db.get(collection);
    if (!coll) {
      coll = new Map();
      db.set(collection, coll);
    }
    coll.set(id, vector);
  }

  /** @returns {Map<string, number[]>} id -> vector, in insertion order (empty when none) */
  vectorsOf(database, collection) {
    const db = this.vectors.get(database);
    return (db && db.get(collection)) || new Map();
  }

  /** @returns {Map<string, Map<string, number[]>>} collection -> id -> vector */
  vectorsIn(database) {
    return this.vectors.get(database) || new Map();
  }

  _collection(database, collection, create) {
    let db = this.databases.get(database);
    if (!db) {
      if (!create) return null;
      db = new Map();
      this.databases.set(database, db);
    }
    let coll = db.get(collection);
    if (!coll) {
      if (!create) return null;
      coll = new Map();
      db.set(collection, coll);
    }
    return coll;
  }

  /** Inserts a document; returns the stored document. */
  insert(database, collection, fields) {
    const coll = this._collection(database, collection, true);
    let id = newId();
    while (coll.has(id)) id = newId();
    const doc = buildDocument(id, isoLocal(this.clock.tick()), fields);
    coll.set(id, doc);
    return doc;
  }

  /** @returns {object|null} */
  get(database, collection, id) {
    const coll = this._collection(database, collection, false);
    if (!coll || typeof id !== 'string') return null;
    return coll.get(id) || null;
  }

  /**
   * Merges `updates` into a document. Like the reference server, which
   * rebuilds the document on update, both `_created_at` and `_updated_at`
   * take the time of the update (see the crud and watch_orders_crud
   * transcripts). Existing fields keep their place, new ones go last.
   * @returns {object|null} the new stored document, null when absent
   */
  update(database, collection, id, updates) {
    const old = this.get(database, collection, id);
    if (!old) return null;
    const merged = {};
    for (const k of Object.keys(old)) setOwn(merged, k, old[k]);
    for (const k of Object.keys(updates)) setOwn(merged, k, updates[k]);
    const doc = buildDocument(old._id, isoLocal(this.clock.tick()), merged);
    this._collection(database, collection, false).set(old._id, doc);
    return doc;
  }

  /** @returns {boolean} whether it existed */
  delete(database, collection, id) {
    const coll = this._collection(database, collection, false);
    if (!coll || typeof id !== 'string') return false;
    const vdb = this.vectors.get(database);
    if (vdb && vdb.has(collection)) vdb.get(collection).delete(id);
    return coll.delete(id);
  }

  /**
   * Documents matching the filters, ordered by _id as the reference server's
   * key-ordered storage scan returns them. As on the reference server the
   * limit is checked after a match is added, so a limit of 0 or less still
   * returns up to one document.
   */
  find(database, collection, filters, limit) {
    const coll = this._collection(database, collection, false);
    if (!coll) return [];
    const ids = Array.from(coll.keys()).sort();
    const out = [];
    for (const id of ids) {
      const doc = coll.get(id);
      if (matches(doc, filters)) out.push(doc);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Collection names of a database, sorted. */
  listCollections(database) {
    const db = this.databases.get(database);
    return db ? Array.from(db.keys()).sort() : [];
  }

  /** @returns {boolean} whether the collection existed */
  dropCollection(database, collection) {
    const vdb = this.vectors.get(database);
    const hadVectors = Boolean(vdb && vdb.delete(collection));
    const db = this.databases.get(database);
    return (db ? db.delete(collection) : false) || hadVectors;
  }

  listDatabases() {
    return Array.from(this.databases.keys()).sort();
  }

  createDatabase(database) {
    if (!this.databases.has(database)) this.databases.set(database, new Map());
  }

  /** @returns {boolean} whether it existed ("default" is never dropped) */
  dropDatabase(database) {
    this.vectors.delete(database);
    return this.databases.delete(database);
  }
}

module.exports = { Store, Clock, isoLocal, newId };
