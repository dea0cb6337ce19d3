'use strict';
// Requests to the dev server over a raw socket with answers and change events
// kept apart, the clients they open ended after each test, and a dev server
// with root logged in for each test.

const assert = require('assert');
const { encodeFrame } = require('../../lib/dev-server/protocol');
const { RawClient } = require('../fixtures/helpers');
const { T, authed, devServerPerTest } = require('./dev-server-raw');

const frame = encodeFrame;

/** A raw protocol client: answers and change events taken apart, each in arrival order. */
class Raw extends RawClient {
  request(type, payload) {
    this.socket.write(frame(type, payload));
    return this.take((f) => f.type !== T.EVENT, 'an answer', 5000);
  }

  eventsCount(n, ms = 5000) {
    return this.until(() => {
      const evs = this.frames.filter((f) => f.type === T.EVENT);
      if (evs.length < n) return undefined;
      const taken = evs.slice(0, n);
      this.frames = this.frames.filter((f) => !taken.includes(f));
      return taken;
    }, `${n} events`, ms);
  }
}

const opened = [];
function login(server, username = 'root', password = 'nexadb123') {
  return authed(server, username, password, Raw, (c) => opened.push(c));
}

async function ok(c, type, payload) {
  const f = await c.request(type, payload);
  assert.strictEqual(f.type, T.SUCCESS, `expected SUCCESS, got ${f.type} ${JSON.stringify(f.payload)}`);
  return f.payload;
}

async function error(c, type, payload, text) {
  const f = await c.request(type, payload);
  assert.strictEqual(f.type, T.ERROR, `expected ERROR, got ${f.type} ${JSON.stringify(f.payload)}`);
  assert.deepStrictEqual(f.payload, { error: text });
}

function keys(o) {
  return Object.keys(o);
}

/** Ends every client `login` (or a test) put in `opened`. */
function endOpened() {
  while (opened.length) opened.pop().end();
}

/**
 * Sets up `suite` (a describe's `this`): its tests get 20 s, and each a dev
 * server on a free loopback port with root logged in, started before it; after
 * it the clients are ended, then the server closed. `use(server, root)`
 * receives each pair.
 */
function devServerWithRootPerTest(suite, use) {
  afterEach(endOpened);
  devServerPerTest(suite, async (server) => use(server, await login(server)), { timeout: 20000 });
}

module.exports = { Raw, opened, login, ok, error, keys, endOpened, devServerWithRootPerTest };
