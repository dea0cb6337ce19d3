'use strict';
const { Connection, MSG } = require('./connection');
const { ChangeStream, parseOperations } = require('./change-stream');

const DEFAULTS = {
  host: 'localhost',
  port: 6970,
  username: 'root',
  password: 'nexadb123',
  connectTimeout: 10000,
  maxFrameBytes: 64 * 1024 * 1024,
  int64: 'number',
};

/**
 * A NexaDB client. Requests share one connection; every watch() gets a
 * connection of its own, so streams never delay requests.
 */
class NexaClient {
  #opts;

  /**
   * @param {object} [options]
   * @param {string} [options.host='localhost']
   * @param {number} [options.port=6970]
   * @param {string} [options.username='root']
   * @param {string} [options.password='nexadb123']
   * @param {number} [options.connectTimeout=10000] ms for DNS, TCP and authentication
   * @param {number} [options.maxFrameBytes=67108864] largest frame accepted from the server
   * @param {'number'|'bigint'|'auto'|'string'} [options.int64='number'] integers beyond 2^53
   */
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const o = { ...DEFAULTS };
    for (const k of Object.keys(DEFAULTS)) if (options[k] !== undefined) o[k] = options[k];
    validate(o);
    this.#opts = o;
    this.host = o.host;
    this.port = o.port;
    this._conn = null;
    this._connecting = null;
    this._streams = new Set();
  }

  /** True while the request connection is open. */
  get connected() {
    return this._conn !== null && this._conn.state === 'open';
  }

  /**
   * Opens the request connection and authenticates. Idempotent: calls while
   * connecting or connected share one attempt. Rejects with the connection
   * error (`code` ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ...) or NexaAuthError.
   * @returns {Promise<void>}
   */
  connect() {
    if (this._connecting) return this._connecting;
    const conn = new Connection(this.#opts);
    this._conn = conn;
    this._connecting = conn.open().then(
      () => {},
      (err) => {
        if (this._conn === conn) {
          this._conn = null;
          this._connecting = null;
        }
        throw err;
      });
    conn.onEnd = () => {
      // Lost or closed: the next request dials again.
      if (this._conn === conn) {
        this._conn = null;
        this._connecting = null;
      }
    };
    return this._connecting;
  }

  /**
   * Ends every open stream normally (pending `for await` loops finish) and
   * closes every connection. Requests in flight are answered first.
   * @returns {Promise<void>}
   */
  async disconnect() {
    const waits = [];
    for (const s of this._streams) waits.push(s.close());
    this._streams.clear();
    const conn = this._conn;
    this._conn = null;
    this._connecting = null;
    if (conn) waits.push(conn.close(true));
    await Promise.all(waits);
  }

  /**
   * Watches changes. `watch()` or `watch(null)`: every collection.
   * @param {string|null} [collection]
   * @param {{operations?: string[]}|string[]} [options] or the operations array
   * @returns {ChangeStream}
   */
  watch(collection = null, options = {}) {
    if (collection !== null && typeof collection !== 'string') throw new TypeError('collection must be a string or null');
    const ops = parseOperations(Array.isArray(options) ? options : options && options.operations);
    const stream = new ChangeStream(this.#opts, collection, ops, (s) => this._streams.delete(s));
    this._streams.add(stream);
    return stream;
  }

  async _request(type, payload, context) {
    if (!this._conn || this._conn.state !== 'open') await this.connect();
    return this._conn.request(type, payload, context);
  }

  /**
   * Inserts a document. Resolves with the server's answer (`document_id`, ...).
   * @param {string} collection
   * @param {object} data
   */
  create(collection, data) {
    checkCollection(collection);
    return this._request(MSG.CREATE, { collection, data }, { collection });
  }

  /**
   * The document with this key, or null.
   * @param {string} collection
   * @param {string} key
   */
  async get(collection, key) {
    checkCollection(collection);
    try {
      const r = await this._request(MSG.READ, { collection, key }, { collection });
      return r.document;
    } catch (err) {
      if (err.code === 'NEXA_NOT_FOUND') return null;
      throw err;
    }
  }

  /**
   * Merges `updates` into a document. Rejects with NexaNotFoundError for a missing key.
   * @param {string} collection
   * @param {string} key
   * @param {object} updates
   */
  update(collection, key, updates) {
    checkCollection(collection);
    return this._request(MSG.UPDATE, { collection, key, updates }, { collection });
  }

  /**
   * Deletes a document. Rejects with NexaNotFoundError for a missing key.
   * @param {string} collection
   * @param {string} key
   */
  delete(collection, key) {
    checkCollection(collection);
    return this._request(MSG.DELETE, { collection, key }, { collection });
  }

  /**
   * Documents matching Mongo-style filters.
   * @param {string} collection
   * @param {object} [filters={}]
   * @param {number} [limit=100]
   * @returns {Promise<object[]>}
   */
  async query(collection, filters = {}, limit = 100) {
    checkCollection(collection);
    const r = await this._request(MSG.QUERY, { collection, filters, limit }, { collection });
    return r.documents;
  }

  /**
   * Inserts many documents in one request. Resolves with the server's answer (`document_ids`, `count`).
   * @param {string} collection
   * @param {object[]} documents
   */
  batchWrite(collection, documents) {
    checkCollection(collection);
    if (!Array.isArray(documents)) throw new TypeError('documents must be an array');
    return this._request(MSG.BATCH_WRITE, { collection, documents }, { collection });
  }

  /** Resolves with the server's PONG (`{status: 'ok', timestamp}`). */
  ping() {
    return this._request(MSG.PING, {});
  }

  /** Credentials never show. */
  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `NexaClient { ${this.host}:${this.port}, ${this.connected ? 'connected' : 'not connected'}, streams: ${this._streams.size} }`;
  }
}

function checkCollection(c) {
  if (typeof c !== 'string' || c === '') throw new TypeError('collection must be a non-empty string');
}

function validate(o) {
  if (typeof o.host !== 'string' || o.host === '') throw new TypeError('host must be a non-empty string');
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new TypeError('port must be an integer from 1 to 65535');
  if (typeof o.username !== 'string') throw new TypeError('username must be a string');
  if (typeof o.password !== 'string') throw new TypeError('password must be a string');
  if (!Number.isInteger(o.connectTimeout) || o.connectTimeout < 0 || o.connectTimeout > 0xffffffff) {
    throw new TypeError('connectTimeout must be a whole number of milliseconds (0: none)');
  }
  if (!Number.isInteger(o.maxFrameBytes) || o.maxFrameBytes < 1024) throw new TypeError('maxFrameBytes must be an integer of at least 1024');
  if (!['number', 'bigint', 'auto', 'string'].includes(o.int64)) throw new TypeError("int64 must be 'number', 'bigint', 'auto' or 'string'");
}

module.exports = { NexaClient };
