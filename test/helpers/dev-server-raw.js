'use strict';
// The raw-socket side of the dev server tests: the message types, the frame
// maker, a client that reads every frame in arrival order, and a fresh dev
// server for each test.

const assert = require('assert');
const { constants } = require('../../lib/native');
const { encode } = require('../../lib/encode');
const { startDevServer } = require('../../lib/dev-server');
const { frameBytes } = require('../../lib/frame-reader');
const { RawClient: BaseRawClient } = require('../fixtures/helpers');

/** The message types (the core's), with the short names these tests use. */
const T = { ...constants.msg, SUBSCRIBE: constants.msg.SUBSCRIBE_CHANGES, UNSUBSCRIBE: constants.msg.UNSUBSCRIBE_CHANGES, EVENT: constants.msg.CHANGE_EVENT };

const ID = /^[0-9a-f]{16}$/;
const DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/;

/** A frame around a payload (bytes, or a value to encode); `header` as frameBytes takes it. */
function frame(type, payload, header) {
  return frameBytes(type, Buffer.isBuffer(payload) ? payload : encode(payload), header);
}

/** A raw protocol client: frames in, frames out, in order. */
class RawClient extends BaseRawClient {
  send(type, payload) { this.socket.write(frame(type, payload)); }
  sendRaw(bytes) { this.socket.write(bytes); }

  /** The next frame; rejects on close or after `ms`. */
  next(ms = 3000) {
    return this.take(() => true, 'a frame', ms);
  }

  async request(type, payload) {
    this.send(type, payload);
    return this.next();
  }

  /** Asserts no frame is pending: a PING's PONG must be the very next frame. */
  async assertNothingPending({ authenticated = true } = {}) {
    const f = await this.request(T.PING, {});
    const answer = authenticated ? { type: T.PONG, keys: ['status', 'timestamp'] } : { type: T.ERROR, keys: ['error'] };
    assert.strictEqual(f.type, answer.type, `expected no pending frame, got ${JSON.stringify(show(f), replacer)}`);
    assert.deepStrictEqual(Object.keys(f.payload), answer.keys);
  }
}

function show(f) {
  return { type: f.type, payload: f.payload };
}

/** A client of class `Client` logged in as `user`; `onOpen` sees it first (to end it after the test, say). */
async function authed(server, user = 'root', password = 'nexadb123', Client = RawClient, onOpen = () => {}) {
  const c = await Client.open(server);
  onOpen(c);
  const f = await c.request(T.CONNECT, { username: user, password });
  assert.strictEqual(f.type, T.SUCCESS, JSON.stringify(f.payload, replacer));
  return c;
}

function replacer(k, v) {
  return typeof v === 'bigint' ? `${v}n` : v;
}

/**
 * Sets up `suite` (a describe's `this`): its tests get `timeout` ms, and each
 * a dev server on a free loopback port, started before it and closed after
 * it; `use(server)` receives each one (and is awaited).
 */
function devServerPerTest(suite, use, { timeout = 10000 } = {}) {
  suite.timeout(timeout);
  let server;
  beforeEach(async () => {
    server = await startDevServer({ port: 0 });
    await use(server);
  });
  afterEach(async () => {
    await server.close();
  });
}

module.exports = { T, ID, DATE, frame, RawClient, show, authed, replacer, devServerPerTest };
