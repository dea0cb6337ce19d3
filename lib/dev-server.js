'use strict';

/**
 * An in-memory NexaDB server speaking the NexaDB binary protocol, for tests,
 * the demo and your own tests. It answers as the reference server does (same
 * shapes, key orders and texts as `shared/protocol/reference-transcripts.json`)
 * and pushes change events to subscribers. Nothing is persisted.
 *
 * @example
 * const { startDevServer } = require('nexaclient/dev-server');
 * const server = await startDevServer({ port: 0 });
 * console.log(server.address);   // '127.0.0.1:41234'
 * // ... connect a client to server.host / server.port ...
 * await server.close();
 *
 * @module nexaclient/dev-server
 */

const net = require('net');
const crypto = require('crypto');
const { decode } = require('./native');
const { MSG, MAX_LEVELS, encodeFrame, FrameReader } = require('./dev-server/protocol');
const { Store } = require('./dev-server/store');
const { handleRequest } = require('./dev-server/handlers');
const { pyTruthy } = require('./dev-server/query');
const { newUser, ALL_DATABASES } = require('./dev-server/users');
const { EventBuffer } = require('./stream/event-buffer');

const DEFAULT_USERS = Object.freeze({ root: 'nexadb123' });


/**
 * @typedef {object} DevServerOptions
 * @property {number} [port=0] TCP port; 0 picks a free one
 * @property {string} [host='127.0.0.1'] address to listen on
 * @property {Object<string, string | {password: string, role?: string}>} [users]
 *   accepted credentials, name to password (or to `{password, role}`);
 *   defaults to `{ root: 'nexadb123' }`. The role reported by CONNECT is
 *   `admin` for root and `write` for others unless given. An entry may also
 *   carry `databases`, a map of database name to level (`admin`, `write`,
 *   `read`, `guest`) checked as the reference server checks a user's
 *   database permissions; without it a user given here may use every
 *   database at the level of its role (the reference assigns database
 *   permissions outside the binary protocol, which the dev server lacks).
 *   Users made with CREATE_USER have no database permissions, as on the
 *   reference server: unless admins, they are refused every collection
 *   operation.
 * @property {object} [store] the documents to serve: another server's
 *   `store`, for a restart that keeps its data as the reference server keeps
 *   its files (default: a new, empty one)
 * @property {boolean} [shuffleEvents=false] send the change events of one
 *   write (a BATCH_WRITE's burst) in a random order, as the reference
 *   server's one-thread-per-event delivery may (PROTOCOL.md, point 3)
 * @property {boolean} [blockingDelivery=false] deliver events as the
 *   reference server does (PROTOCOL.md, point 5): to one subscriber after
 *   another, and once a subscriber's socket buffer is full, no further event
 *   goes to anyone until it drains: a subscriber that stops reading stalls
 *   every subscriber. Off: each subscriber's events are buffered on their own.
 */

/**
 * One in-memory NexaDB server. Create it with {@link startDevServer}, or
 * `new DevServer(options)` then `await server.listen()`.
 */
class DevServer {
  /** @param {DevServerOptions} [options] */
  constructor(options = {}) {
    const { port = 0, host = '127.0.0.1', users = DEFAULT_USERS, shuffleEvents = false, blockingDelivery = false, store } = options;
    if (store !== undefined && !(store instanceof Store)) throw new TypeError("store must be another DevServer's store");
    /** @type {string} the host it listens on */
    this.host = host;
    /** @type {number} the port it listens on (known after listen()) */
    this.port = port;
    this._users = new Map();
    for (const name of Object.keys(users)) {
      const entry = users[name];
      const password = typeof entry === 'string' ? entry : entry && entry.password;
      if (typeof password !== 'string') throw new TypeError(`users.${name}: a password string is required`);
      const role = (entry && typeof entry === 'object' && entry.role) || (name === 'root' ? 'admin' : 'write');
      const databases = (entry && typeof entry === 'object' && entry.databases) || ALL_DATABASES;
      this._users.set(name, newUser(password, role, databases));
    }
    this._shuffleEvents = Boolean(shuffleEvents);
    this._blockingDelivery = Boolean(blockingDelivery);
    this._outbox = new EventBuffer(); // blockingDelivery: events not yet sent to every subscriber
    this._blockedOn = null; // blockingDelivery: the socket whose buffer is full
    this._store = store || new Store();
    this._conns = new Set();
    this._pending = [];
    this._server = null;
    this._closing = null;
  }

  /** The documents this server holds: pass it to a new DevServer to restart with them. */
  get store() {
    return this._store;
  }

  /** @type {string} `host:port` */
  get address() {
    return `${this.host}:${this.port}`;
  }

  /** @type {number} the number of open client sockets */
  get connections() {
    return this._conns.size;
  }

  /**
   * Starts listening.
   * @returns {Promise<DevServer>} this server, once it accepts connections
   */
  listen() {
    if (this._server) return Promise.reject(new Error('DevServer: listen() was already called'));
    this._server = net.createServer((socket) => this._onConnection(socket));
    return new Promise((resolve, reject) => {
      const onError = (err) => reject(err);
      this._server.once('error', onError);
      this._server.listen(this.port, this.host, () => {
        this._server.removeListener('error', onError);
        this._server.on('error', () => {}); // after listen, errors only concern single sockets
        this.port = this._server.address().port;
        resolve(this);
      });
    });
  }

  /**
   * Stops listening and destroys every client connection. Idempotent.
   * @returns {Promise<void>} resolved once the listener is closed
   */
  close() {
    if (this._closing) return this._closing;
    this._closing = new Promise((resolve) => {
      for (const conn of this._conns) conn.socket.destroy();
      this._conns.clear();
      if (!this._server || !this._server.listening) {
        resolve();
        return;
      }
      this._server.close(() => resolve());
    });
    return this._closing;
  }

  /**
   * Destroys every client socket now, without a goodbye, and keeps
   * listening: for testing a client's handling of a dropped connection.
   * @returns {number} the number of connections dropped
   */
  dropConnections() {
    const conns = Array.from(this._conns);
    for (const conn of conns) {
      conn.closed = true;
      conn.subscription = null;
      conn.socket.destroy();
    }
    this._conns.clear();
    return conns.length;
  }

  _onConnection(socket) {
    if (this._closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const conn = {
      socket,
      reader: new FrameReader(),
      username: null,
      role: null,
      subscription: null,
      closed: false, // no more frames read from or sent to this socket
      closeAfterAnswer: false,
    };
    this._conns.add(conn);
    socket.on('data', (chunk) => this._onData(conn, chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      conn.closed = true;
      conn.subscription = null;
      this._conns.delete(conn);
    });
  }

  _onData(conn, chunk) {
    if (conn.closed) return;
    conn.reader.push(chunk);
    for (;;) {
      if (conn.closed) return;
      let frame;
      try {
        frame = conn.reader.next();
      } catch (err) {
        this._shutdown(conn);
        return;
      }
      if (frame === null) return;
      if (frame.fatal) {
        // Bad magic or version: ERROR, then close, as the reference server does.
        this._send(conn, MSG.ERROR, { error: frame.fatal });
        this._shutdown(conn);
        return;
      }
      try {
        this._onFrame(conn, frame);
      } catch (err) {
        // Never let one client's request take the server down.
        this._pending = [];
        this._send(conn, MSG.ERROR, { error: String(err && err.message ? err.message : err) });
      }
    }
  }

  _onFrame(conn, frame) {
    let answer;
    let decoded;
    try {
      decoded = decode(frame.payload, { int64: 'auto', maxLevels: MAX_LEVELS });
    } catch (err) {
      // The codec's messages start with "invalid MessagePack: " already.
      const reason = String(err && err.message ? err.message : '').replace(/^invalid messagepack:\s*/i, '');
      answer = { type: MSG.ERROR, payload: { error: `Invalid MessagePack: ${reason}` } };
    }
    if (!answer) answer = handleRequest(this, conn, frame.type, decoded);
    this._send(conn, answer.type, answer.payload);
    this._flushEvents();
    if (conn.closeAfterAnswer) this._shutdown(conn);
  }

  /** Writes a frame; a payload the codec refuses becomes an ERROR answer. */
  _send(conn, type, payload) {
    if (conn.closed || conn.socket.destroyed) return;
    let bytes;
    try {
      bytes = encodeFrame(type, payload);
    } catch (err) {
      bytes = encodeFrame(MSG.ERROR, { error: String(err && err.message ? err.message : err) });
    }
    conn.socket.write(bytes);
  }

  /** Stops reading, sends what is queued, then closes the socket. */
  _shutdown(conn) {
    if (conn.closed) return;
    conn.closed = true;
    conn.subscription = null;
    conn.socket.end();
    // If the peer never closes its side, do not wait for it.
    conn.socket.once('finish', () => conn.socket.destroy());
  }

  /**
   * Records a change; its event goes to subscribers after the writer's answer.
   * @param {'insert'|'update'|'delete'|'dropCollection'} operationType
   * @param {string} coll collection name
   * @param {object} [doc] stored document (insert, update) or `{_id}` (delete)
   * @param {object} [updates] the update's fields (update)
   */
  _changed(operationType, coll, doc, updates) {
    const event = { operationType, ns: { db: 'nexadb', coll }, timestamp: this._store.clock.tick() / 1e6 };
    if (operationType !== 'dropCollection') event.documentKey = { _id: doc._id };
    if (operationType === 'insert' || operationType === 'update') event.fullDocument = doc;
    if (operationType === 'update') event.updateDescription = { updatedFields: updates };
    this._pending.push(event);
  }

  _flushEvents() {
    if (this._pending.length === 0) return;
    const events = this._pending;
    this._pending = [];
    if (this._shuffleEvents) shuffle(events);
    if (this._blockingDelivery) {
      this._outbox.pushRun(events);
      this._deliverOutbox();
      return;
    }
    for (const event of events) this._send1(event);
  }

  /** Writes one event to every matching subscriber; returns a socket whose buffer is now full, if any. */
  _send1(event) {
    let bytes = null;
    let full = null;
    for (const conn of this._conns) {
      if (!conn.subscription || conn.closed || conn.socket.destroyed) continue;
      if (!subscriptionMatches(conn.subscription, event)) continue;
      if (bytes === null) {
        try {
          bytes = encodeFrame(MSG.CHANGE_EVENT, event);
        } catch (_) {
          return null; // an event the codec cannot write is dropped
        }
      }
      if (!conn.socket.write(bytes)) full = conn.socket;
    }
    return full;
  }

  /** blockingDelivery: sends queued events in order until a subscriber's buffer is full, then waits for it. */
  _deliverOutbox() {
    if (this._blockedOn) return;
    while (this._outbox.length > 0) {
      const full = this._send1(this._outbox.shift());
      if (full) {
        this._blockedOn = full;
        const go = () => {
          full.removeListener('drain', go);
          full.removeListener('close', go);
          this._blockedOn = null;
          this._deliverOutbox();
        };
        full.on('drain', go);
        full.on('close', go);
        break;
      }
    }
  }
}

/** Fisher-Yates, in place. */
function shuffle(list) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = crypto.randomInt(i + 1);
    const t = list[i];
    list[i] = list[j];
    list[j] = t;
  }
  return list;
}

function subscriptionMatches(sub, event) {
  if (pyTruthy(sub.collection) && sub.collection !== event.ns.coll) return false;
  return sub.operations.includes(event.operationType);
}

/**
 * Starts a dev server.
 * @param {DevServerOptions} [options]
 * @returns {Promise<DevServer>} the listening server
 */
function startDevServer(options) {
  return new DevServer(options).listen();
}

module.exports = { startDevServer, DevServer };
