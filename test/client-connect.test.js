'use strict';
// NexaClient: connecting (shared attempts, refusals, unknown hosts, silent
// servers, wrong credentials) and never showing the password.
const assert = require('assert');
const net = require('net');
const util = require('util');

const NexaClient = require('..');
const { NexaError, NexaAuthError, NexaConnectionError } = NexaClient;
const { startDevServer } = require('../lib/dev-server');
const { closedPort, waitFor, devServerSuite, rejection } = require('./fixtures/helpers');

/** Records unhandled rejections and uncaught exceptions while `fn` runs (plus a few turns after). */
async function noUnhandled(fn) {
  const seen = [];
  const onRej = (reason) => seen.push(['unhandledRejection', reason]);
  const onExc = (err) => seen.push(['uncaughtException', err]);
  process.on('unhandledRejection', onRej);
  process.prependListener('uncaughtException', onExc);
  try {
    const result = await fn();
    // Unhandled rejections are reported after the microtask queue drains;
    // give the loop a few macrotask turns to report anything.
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10));
    return { result, seen };
  } finally {
    process.removeListener('unhandledRejection', onRej);
    process.removeListener('uncaughtException', onExc);
  }
}

describe('NexaClient', function () {
  this.timeout(10000);

  const suite = devServerSuite();
  const { client } = suite;

  describe('connect()', () => {
    it('two concurrent connect() calls share one attempt and one connection', async () => {
      const c = client();
      assert.strictEqual(c.connected, false);
      const before = suite.srv.connections;
      const p1 = c.connect();
      const p2 = c.connect();
      assert.strictEqual(p1, p2, 'the second call returns the same promise');
      assert.strictEqual(await p1, undefined);
      await p2;
      assert.strictEqual(c.connected, true);
      assert.strictEqual(suite.srv.connections, before + 1);
    });

    it('connect() after connected resolves without dialling again', async () => {
      const c = client();
      await c.connect();
      const before = suite.srv.connections;
      await c.connect();
      await c.connect();
      assert.strictEqual(c.connected, true);
      await c.ping();
      assert.strictEqual(suite.srv.connections, before);
    });

    it('disconnect() closes the connection, and a request afterwards dials again', async () => {
      const c = client();
      await c.connect();
      const n = suite.srv.connections;
      await c.disconnect();
      assert.strictEqual(c.connected, false);
      await waitFor(() => suite.srv.connections === n - 1, 'the server to see the close');
      const pong = await c.ping();
      assert.strictEqual(pong.status, 'ok');
      assert.strictEqual(c.connected, true);
    });

    it('a refused connection rejects with ECONNREFUSED, a NexaConnectionError, and nothing unhandled', async () => {
      const port = await closedPort();
      const { result: err, seen } = await noUnhandled(async () => {
        const c = new NexaClient({ host: '127.0.0.1', port });
        suite.clients.push(c);
        return rejection(c.connect());
      });
      assert.ok(err instanceof NexaConnectionError, `got ${err && err.name}`);
      assert.ok(err instanceof NexaError);
      assert.strictEqual(err.code, 'ECONNREFUSED');
      assert.strictEqual(err.address, `127.0.0.1:${port}`);
      assert.deepStrictEqual(seen, []);
    });

    it('a request on a refused client rejects too, and nothing unhandled', async () => {
      const port = await closedPort();
      const { result: errs, seen } = await noUnhandled(async () => {
        const c = new NexaClient({ host: '127.0.0.1', port });
        suite.clients.push(c);
        return Promise.all([rejection(c.ping()), rejection(c.get('x', 'y'))]);
      });
      for (const err of errs) {
        assert.ok(err instanceof NexaConnectionError);
        assert.strictEqual(err.code, 'ECONNREFUSED');
      }
      assert.deepStrictEqual(seen, []);
    });

    it('a client can connect after a refused attempt', async () => {
      const port = await closedPort();
      const c = new NexaClient({ host: '127.0.0.1', port });
      suite.clients.push(c);
      const err = await rejection(c.connect());
      assert.strictEqual(err.code, 'ECONNREFUSED');
      // The failed attempt is forgotten: the next connect() dials again.
      const err2 = await rejection(c.connect());
      assert.notStrictEqual(err2, err);
      assert.strictEqual(err2.code, 'ECONNREFUSED');
    });

    it('an unresolvable host rejects with ENOTFOUND', async () => {
      const c = client({ host: 'no-such-host.invalid' });
      const err = await rejection(c.connect());
      assert.ok(err instanceof NexaConnectionError, `got ${err && err.name}: ${err && err.message}`);
      assert.strictEqual(err.code, 'ENOTFOUND');
    });

    it('a wrong password rejects with NexaAuthError and the server text, never showing the password', async () => {
      const secret = 'Sup3r-s3cret-pw-9931';
      const c = client({ password: secret });
      const err = await rejection(c.connect());
      assert.ok(err instanceof NexaAuthError, `got ${err && err.name}`);
      assert.ok(err instanceof NexaError);
      assert.strictEqual(err.code, 'NEXA_AUTH');
      assert.strictEqual(err.message, 'Invalid username or password');
      assert.strictEqual(c.connected, false);
      for (const text of [err.message, err.stack, util.inspect(err), util.inspect(c), util.inspect(c, { showHidden: true, depth: 5 }), JSON.stringify(err), String(c)]) {
        assert.ok(!String(text).includes(secret), `password shown in: ${text}`);
      }
    });

    it('a wrong user name rejects with the same NexaAuthError', async () => {
      const c = client({ username: 'nobody' });
      const err = await rejection(c.connect());
      assert.ok(err instanceof NexaAuthError);
      assert.strictEqual(err.message, 'Invalid username or password');
    });

    it('util.inspect(client) never shows the password, connected or not', async () => {
      const secret = 'nexadb123';
      const c = client();
      assert.ok(!util.inspect(c).includes(secret));
      await c.connect();
      const s = c.watch('inspect');
      await s.ready;
      for (const text of [util.inspect(c), util.inspect(c, { showHidden: true, depth: 10 })]) {
        assert.ok(!text.includes(secret), `password shown in: ${text}`);
      }
      assert.match(util.inspect(c), /127\.0\.0\.1:\d+, connected, streams: 1/);
    });

    it('util.inspect(stream) never shows the password', async () => {
      const secret = 'an0ther-s3cret-pw';
      const srv2 = await startDevServer({ port: 0, users: { root: secret } });
      try {
        const c = new NexaClient({ host: '127.0.0.1', port: srv2.port, password: secret });
        suite.clients.push(c);
        const s = c.watch('inspect');
        await s.ready;
        const text = util.inspect(s);
        assert.ok(!text.includes(secret), `password shown in: ${text}`);
        await c.disconnect();
      } finally {
        await srv2.close();
      }
    });

    it('a server that accepts and never answers: connectTimeout rejects with ETIMEDOUT', async () => {
      const sockets = new Set();
      const silent = net.createServer((s) => {
        sockets.add(s);
        s.resume(); // read (and drop) what the client sends, so its FIN is seen
        s.on('error', () => {});
        s.on('close', () => sockets.delete(s));
      });
      await new Promise((r) => silent.listen(0, '127.0.0.1', r));
      try {
        const c = new NexaClient({ host: '127.0.0.1', port: silent.address().port, connectTimeout: 200 });
        suite.clients.push(c);
        const t0 = Date.now();
        const err = await rejection(c.connect());
        const took = Date.now() - t0;
        assert.ok(err instanceof NexaConnectionError, `got ${err && err.name}`);
        assert.strictEqual(err.code, 'ETIMEDOUT');
        assert.ok(took >= 150 && took < 3000, `timed out after ${took} ms`);
        // The client gives up its socket.
        await waitFor(() => sockets.size === 0, 'the client to close its socket');
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise((r) => silent.close(r));
      }
    });
  });
});
