'use strict';
const { EventEmitter } = require('events');
const { MSG } = require('./connection');
const { ChangeStream } = require('./change-stream');
const { changedSince } = require('./stream/catch-up');
const { parseOptions } = require('./options');
const { RequestConnection } = require('./request-connection');
const { UserRequests } = require('./user-requests');
const {
  checkName, checkMap, limitAndOptions, vectorSearchArguments, hnswParameters, watchArguments,
} = require('./arguments');

/**
 * @typedef {object} CallOptions options every request takes as its last argument
 * @property {string} [database] the database (default: the client's, else the server's "default")
 * @property {AbortSignal} [signal] aborting rejects the request with NexaAbortError (code ABORT_ERR)
 * @property {number} [timeout] ms up to 2147483647; overrides the client's requestTimeout (0 or Infinity: none)
 */

/**
 * A NexaDB client. Requests share one connection and are pipelined; every
 * watch() gets a connection of its own, so streams never delay requests.
 *
 * Emits, for its request connection: 'connect' once connect() has opened
 * it, 'disconnect' ({error}; error null after disconnect()) when it is lost
 * or closed, 'reconnect' ({attempts, downtimeMs}) once it is open again,
 * and 'error' (the last error, once reconnecting has failed for good) only
 * when something listens to 'error'.
 */
class NexaClient extends EventEmitter {
  #opts;

  /**
   * @param {string|object} [options] an options object, or a connection
   *   string `nexadb://user:password@host:port/database?requestTimeout=5000`
   * @param {object} [extra] options applied over those of a connection string
   * @param {string} [options.host='localhost']
   * @param {number} [options.port=6970]
   * @param {string} [options.username='root']
   * @param {string} [options.password='nexadb123']
   * @param {string} [options.database] sent with every collection-level call; unset: the server's "default"
   * @param {number} [options.connectTimeout=10000] ms for DNS, TCP and authentication (0: none)
   * @param {number} [options.requestTimeout=30000] ms for each request's answer (0: none)
   * @param {number} [options.maxFrameBytes=67108864] largest frame accepted from the server
   * @param {'number'|'bigint'|'auto'|'string'} [options.int64='number'] integers beyond 2^53
   */
  constructor(options = {}, extra = undefined) {
    const o = parseOptions(options, extra);
    super();
    this.#opts = o;
    /** @type {string} */
    this.host = o.host;
    /** @type {number} */
    this.port = o.port;
    /** @type {string|undefined} */
    this.database = o.database;
    this._requestConnection = new RequestConnection(o, this);
    this._streams = new Set();
  }

  /** True while the request connection is open. */
  get connected() {
    return this._requestConnection.status === 'open';
  }

  /**
   * The request connection: 'connecting' (the first dial), 'open',
   * 'reconnecting' (lost, re-dialling), or 'closed' (before connect(), after
   * disconnect(), or once connecting failed).
   * @returns {'connecting'|'open'|'reconnecting'|'closed'}
   */
  get status() {
    return this._requestConnection.status;
  }

  /**
   * Counters since the client was made: its requests (sent, answered,
   * failed by error code, in flight), the request connection's status and
   * reconnects, and each open stream's stream.stats().
   */
  stats() {
    return { ...this._requestConnection.stats(), streams: Array.from(this._streams, (s) => s.stats()) };
  }

  /**
   * Opens the request connection and authenticates. Idempotent: calls while
   * connecting or connected share one attempt. Rejects with the connection
   * error (`code` ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ...) or NexaAuthError.
   * Once open, a lost connection is re-dialled on its own (autoReconnect).
   * @returns {Promise<void>}
   */
  connect() {
    return this._requestConnection.connect();
  }

  /**
   * Ends every open stream normally (pending `for await` loops finish) and
   * closes every connection, also mid-reconnect. Requests in flight are
   * answered first.
   * @returns {Promise<void>}
   */
  async disconnect() {
    const streams = Array.from(this._streams, (s) => s.close());
    this._streams.clear();
    await this._requestConnection.close(streams);
  }

  /**
   * Watches changes. `watch()` or `watch(null)`: every collection.
   * @param {string|null} [collection]
   * @param {object|string[]} [options] or the operations array
   * @param {string[]} [options.operations] default insert, update, delete
   * @param {AbortSignal} [options.signal] aborting ends the stream (NexaAbortError) and closes its connection
   * @param {number} [options.highWaterMark] events held undelivered at most (client default 1000)
   * @param {number} [options.highWaterMarkBytes] payload bytes held at most ('pause')
   * @param {'pause'|'error'|'dropOldest'} [options.overflow] what happens at the bound (client default 'pause')
   * @param {number} [options.reorderWindowMs] hold events this long and deliver them in timestamp order
   * @param {boolean} [options.gaps=false] yield `{operationType: 'gap', ...}` items where changes were or may have been missed
   * @param {boolean} [options.catchUp=false] after a reconnect gap, yield the documents changed since as
   *   `{operationType: 'catchUp', ...}` items before the new live events (implies gaps)
   * @returns {ChangeStream}
   */
  watch(collection = null, options = {}) {
    if (collection !== null && typeof collection !== 'string') throw new TypeError('collection must be a string or null');
    const w = watchArguments(options, this.#opts);
    const catchUp = w.catchUp ? (coll, since) => changedSince(this, coll, since) : null;
    const stream = new ChangeStream(w.opts, collection, w.operations, {
      signal: w.signal,
      gaps: w.gaps || catchUp !== null,
      catchUp,
      onClosed: (s) => this._streams.delete(s),
    });
    if (!stream.closed) this._streams.add(stream);
    return stream;
  }

  /** A request on the request connection (see RequestConnection#call). */
  _call(type, payload, call, context, withDatabase = true, extra = undefined) {
    return this._requestConnection.call(type, payload, call, context, withDatabase, extra);
  }

  // --- documents --------------------------------------------------------------

  /**
   * Inserts a document. Resolves with the server's answer
   * (`{database, collection, document_id, message}`).
   * @param {string} collection
   * @param {object} data
   * @param {CallOptions} [options]
   */
  async create(collection, data, options) {
    checkName(collection, 'collection');
    checkMap(data, 'data');
    return this._call(MSG.CREATE, { collection, data }, options, { operation: 'create', collection });
  }

  /**
   * The document with this key, or null.
   * @param {string} collection
   * @param {string} key
   * @param {CallOptions} [options]
   */
  async get(collection, key, options) {
    checkName(collection, 'collection');
    try {
      const r = await this._call(MSG.READ, { collection, key }, options, { operation: 'get', collection, key });
      return r.document;
    } catch (err) {
      if (err.code === 'NEXA_NOT_FOUND') return null;
      throw err;
    }
  }

  /**
   * Merges `updates` into a document. A missing key rejects with NexaNotFoundError.
   * @param {string} collection
   * @param {string} key
   * @param {object} updates
   * @param {CallOptions} [options]
   */
  async update(collection, key, updates, options) {
    checkName(collection, 'collection');
    checkMap(updates, 'updates');
    return this._call(MSG.UPDATE, { collection, key, updates }, options, { operation: 'update', collection, key });
  }

  /**
   * Deletes a document. A missing key rejects with NexaNotFoundError.
   * @param {string} collection
   * @param {string} key
   * @param {CallOptions} [options]
   */
  async delete(collection, key, options) {
    checkName(collection, 'collection');
    return this._call(MSG.DELETE, { collection, key }, options, { operation: 'delete', collection, key });
  }

  /**
   * Documents matching Mongo-style filters (`$eq $ne $gt $gte $lt $lte $in $nin $exists $regex`).
   * `query(coll, filters, 100)` and `query(coll, filters, { limit: 100, database })` both work.
   * @param {string} collection
   * @param {object} [filters={}]
   * @param {number|(CallOptions & {limit?: number})} [limit=100]
   * @param {CallOptions} [options]
   * @returns {Promise<object[]>}
   */
  async query(collection, filters = {}, limit = 100, options = undefined) {
    checkName(collection, 'collection');
    [limit, options] = limitAndOptions(limit, options, 100);
    checkMap(filters, 'filters');
    const r = await this._call(MSG.QUERY, { collection, filters, limit }, options, { operation: 'query', collection }, true, LIMIT);
    return r.documents || [];
  }

  /**
   * Inserts many documents in one request. Resolves with the server's answer
   * (`{database, collection, document_ids, count, message}`).
   * @param {string} collection
   * @param {object[]} documents
   * @param {CallOptions} [options]
   */
  async batchWrite(collection, documents, options) {
    checkName(collection, 'collection');
    if (!Array.isArray(documents)) throw new TypeError('documents must be an array');
    return this._call(MSG.BATCH_WRITE, { collection, documents }, options, { operation: 'batchWrite', collection });
  }

  /**
   * Nearest documents by cosine similarity. Resolves with the results
   * (`[{document_id, similarity, document}]`, nearest first).
   * `vectorSearch(coll, vector, 10, 768)` (the official order) or
   * `vectorSearch(coll, vector, { limit, dimensions, filters, database })`.
   * @param {string} collection
   * @param {number[]} vector
   * @param {number|(CallOptions & {limit?: number, dimensions?: number, filters?: object})} [limit=10]
   * @param {number} [dimensions=768]
   * @param {CallOptions & {filters?: object}} [options]
   */
  async vectorSearch(collection, vector, limit = 10, dimensions = undefined, options = undefined) {
    checkName(collection, 'collection');
    if (!Array.isArray(vector)) throw new TypeError('vector must be an array of numbers');
    const [search, o] = vectorSearchArguments(limit, dimensions, options);
    const r = await this._call(MSG.VECTOR_SEARCH, { collection, vector, ...search }, o, { operation: 'vectorSearch', collection }, true, ['limit', 'dimensions', 'filters']);
    return r.results || [];
  }

  /**
   * Resolves with the server's PONG (`{status: 'ok', timestamp}`).
   * @param {CallOptions} [options]
   */
  async ping(options) {
    return this._call(MSG.PING, {}, options, { operation: 'ping' }, false);
  }

  // --- TOON ----------------------------------------------------------------------

  /**
   * A query answered in TOON text. Resolves with the server's answer
   * (`{database, collection, format: 'TOON', data, count, token_stats}`).
   * @param {string} collection
   * @param {object} [filters={}]
   * @param {number|(CallOptions & {limit?: number})} [limit=100]
   * @param {CallOptions} [options]
   */
  async queryToon(collection, filters = {}, limit = 100, options = undefined) {
    checkName(collection, 'collection');
    [limit, options] = limitAndOptions(limit, options, 100);
    checkMap(filters, 'filters');
    return this._call(MSG.QUERY_TOON, { collection, filters, limit }, options, { operation: 'queryToon', collection }, true, LIMIT);
  }

  /**
   * A whole collection as TOON text (the server's answer, `data` holding the text).
   * @param {string} collection
   * @param {CallOptions} [options]
   */
  async exportToon(collection, options) {
    checkName(collection, 'collection');
    return this._call(MSG.EXPORT_TOON, { collection }, options, { operation: 'exportToon', collection });
  }

  /**
   * Imports documents from TOON text (`{imported, replaced, document_ids, message}`).
   * @param {string} collection
   * @param {string} toonData
   * @param {CallOptions & {replace?: boolean}} [options] replace: delete the collection's documents first
   */
  async importToon(collection, toonData, options) {
    checkName(collection, 'collection');
    if (typeof toonData !== 'string') throw new TypeError('toonData must be a string');
    const payload = { collection, toon_data: toonData };
    if (options && options.replace !== undefined) payload.replace = Boolean(options.replace);
    return this._call(MSG.IMPORT_TOON, payload, options, { operation: 'importToon', collection }, true, ['replace']);
  }

  // --- collections and databases ---------------------------------------------------

  /**
   * The collection names of a database.
   * @param {CallOptions} [options]
   * @returns {Promise<string[]>}
   */
  async listCollections(options) {
    const r = await this._call(MSG.LIST_COLLECTIONS, {}, options, { operation: 'listCollections' });
    return r.collections || [];
  }

  /**
   * Drops a collection (watchers listing 'dropCollection' see an event).
   * Resolves with the server's answer; an unknown collection rejects with NexaServerError.
   * @param {string} collection
   * @param {CallOptions} [options]
   */
  async dropCollection(collection, options) {
    checkName(collection, 'collection');
    return this._call(MSG.DROP_COLLECTION, { collection }, options, { operation: 'dropCollection', collection });
  }

  /**
   * Creates a database (admin).
   * @param {string} name
   * @param {CallOptions} [options]
   */
  async createDatabase(name, options) {
    checkName(name, 'database name');
    return this._call(MSG.CREATE, { database: name, create_database: true }, options, { operation: 'createDatabase', database: name }, false);
  }

  /**
   * Drops a database and everything in it (admin).
   * @param {string} name
   * @param {CallOptions} [options]
   */
  async dropDatabase(name, options) {
    checkName(name, 'database name');
    return this._call(MSG.DROP_DATABASE, { database: name }, options, { operation: 'dropDatabase', database: name }, false);
  }

  /**
   * The names of every database.
   * @param {CallOptions} [options]
   * @returns {Promise<string[]>}
   */
  async listDatabases(options) {
    const r = await this._call(MSG.LIST_DATABASES, {}, options, { operation: 'listDatabases' }, false);
    return r.databases || [];
  }

  // --- vectors -------------------------------------------------------------------

  /**
   * What a database holds in vectors (the server's answer: `total_vectors`, `collections`).
   * @param {CallOptions} [options]
   */
  async getVectors(options) {
    return this._call(MSG.GET_VECTORS, {}, options, { operation: 'getVectors' });
  }

  /**
   * Builds the HNSW index of a collection's vectors.
   * @param {string} collection
   * @param {CallOptions & {M?: number, efConstruction?: number}} [options]
   */
  async buildHnswIndex(collection, options) {
    checkName(collection, 'collection');
    return this._call(MSG.BUILD_HNSW_INDEX, { collection, ...hnswParameters(options) }, options, { operation: 'buildHnswIndex', collection }, true, ['M', 'efConstruction']);
  }

  /** Credentials never show. */
  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `NexaClient { ${this.host}:${this.port}, ${this.connected ? 'connected' : 'not connected'}, streams: ${this._streams.size} }`;
  }
}

const LIMIT = Object.freeze(['limit']);

// createUser, deleteUser, listUsers, changePassword (lib/user-requests.js):
// defined on the prototype as the methods above are, not enumerable.
for (const name of Object.getOwnPropertyNames(UserRequests.prototype)) {
  if (name !== 'constructor') Object.defineProperty(NexaClient.prototype, name, Object.getOwnPropertyDescriptor(UserRequests.prototype, name));
}

if (typeof Symbol.asyncDispose === 'symbol') {
  /** `await using client = new NexaClient()` disconnects at the end of the block. */
  NexaClient.prototype[Symbol.asyncDispose] = function asyncDispose() {
    return this.disconnect();
  };
}

module.exports = { NexaClient };
