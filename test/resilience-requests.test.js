'use strict';
// Resilience of requests: cut or stalled while in flight, made during backoff,
// waiting for a connection that disconnect() or an abort ends, refused for good
// (wrong credentials), and sent in call order once the connection is back.
const assert = require('assert');

const NexaClient = require('..');
const { NexaError, NexaConnectionError, NexaTimeoutError, NexaAbortError } = NexaClient;
const { waitFor, collect, once, rejection } = require('./fixtures/helpers');
const { resilienceSuite, sleep } = require('./helpers/resilience-rig');

describe('resilience', function () {
  this.timeout(15000);

  const { client, proxy, stopServer, startServer } = resilienceSuite();

  describe('requests', () => {
    it('a request in flight when its connection is cut rejects at once with a connection error', async () => {
      const p = await proxy();
      const c = client({ port: p.port });
      await c.ping();
      p.stall(); // the requests below reach the proxy and stay there: in flight
      const up0 = p.bytesUp;
      const ping = c.ping({ timeout: 10000 });
      const create = c.create('cut', { n: 1 }, { timeout: 10000 });
      await waitFor(() => p.bytesUp > up0, 'the requests to reach the proxy', 2000, 2);
      const t0 = Date.now();
      assert.strictEqual(p.cut(), 1);
      const [e1, e2] = await Promise.all([rejection(ping, 'ping'), rejection(create, 'create')]);
      const ms = Date.now() - t0;
      assert.ok(ms < 1000, `rejected ${ms} ms after the cut (timeout 10000)`);
      for (const e of [e1, e2]) {
        assert.ok(e instanceof NexaConnectionError, `${e && e.name}: ${e && e.message}`);
        assert.match(e.code, /^E[A-Z]+$/);
      }
      p.resume();
      assert.strictEqual((await c.ping({ timeout: 3000 })).status, 'ok', 'the client reconnects through the proxy');
    });

    it('a request rejected because its connection was lost says which request it was (operation, collection)', async () => {
      // README, Errors: "Request errors also carry operation, collection, key and database where they apply".
      const p = await proxy();
      const c = client({ port: p.port });
      await c.ping();
      p.stall();
      const up0 = p.bytesUp;
      const create = rejection(c.create('ctx', { n: 1 }, { timeout: 10000 }), 'create');
      const get = rejection(c.update('ctx', 'k1', { n: 2 }, { timeout: 10000 }), 'update');
      await waitFor(() => p.bytesUp > up0, 'the requests to reach the proxy', 2000, 2);
      p.cut();
      const [e1, e2] = await Promise.all([create, get]);
      p.resume();
      assert.ok(e1 instanceof NexaConnectionError && e2 instanceof NexaConnectionError);
      assert.notStrictEqual(e1, e2, 'each request gets an error of its own');
      assert.strictEqual(e1.operation, 'create');
      assert.strictEqual(e1.collection, 'ctx');
      assert.strictEqual(e2.operation, 'update');
      assert.strictEqual(e2.key, 'k1');
    });

    it('a request made during backoff waits for the server, or rejects with NexaTimeoutError when its timeout is shorter', async () => {
      const c = client();
      await c.ping();
      await stopServer();
      await waitFor(() => !c.connected, 'the client to notice', 2000, 2);
      const long = c.ping({ timeout: 5000 });
      const t0 = Date.now();
      const short = rejection(c.ping({ timeout: 100 }), 'the short ping');
      const err = await short;
      const ms = Date.now() - t0;
      assert.ok(err instanceof NexaTimeoutError, `${err.name}: ${err.message}`);
      assert.strictEqual(err.code, 'NEXA_TIMEOUT');
      assert.ok(ms >= 90 && ms < 1000, `the short ping rejected after ${ms} ms`);
      await startServer();
      const pong = await long;
      assert.strictEqual(pong.status, 'ok');
      assert.ok(Date.now() - t0 < 5000);
      assert.strictEqual(c.connected, true);
    });

    it('requests waiting for the connection: an abort rejects one, disconnect() rejects the rest with NexaClosedError', async () => {
      const c = client({ reconnectDelayMs: 1000, reconnectMaxDelayMs: 1000 });
      await c.ping();
      await stopServer();
      await waitFor(() => !c.connected, 'the client to notice', 2000, 2);
      const ac = new AbortController();
      const aborted = rejection(c.ping({ signal: ac.signal, timeout: 0 }), 'the aborted ping');
      const waiting = [rejection(c.ping({ timeout: 0 }), 'ping'), rejection(c.create('w', { n: 1 }, { timeout: 10000 }), 'create')];
      ac.abort();
      const ea = await aborted;
      assert.ok(ea instanceof NexaAbortError, `${ea.name}: ${ea.message}`);
      const t0 = Date.now();
      await c.disconnect();
      const errs = await Promise.all(waiting);
      assert.ok(Date.now() - t0 < 200, 'disconnect() and the rejections came promptly');
      for (const e of errs) {
        assert.ok(e instanceof NexaError, String(e));
        assert.strictEqual(e.code, 'NEXA_CLOSED', `${e.name}: ${e.message}`);
      }
    });

    it('a request made just after disconnect() (not awaited), while others were queued, connects on its own', async () => {
      const c = client({ reconnectDelayMs: 1000, reconnectMaxDelayMs: 1000 });
      await c.ping();
      await stopServer();
      await waitFor(() => !c.connected, 'the client to notice', 2000, 2);
      await startServer(); // back, but the client waits 0.5 to 1 s before its next dial
      const queued = rejection(c.ping({ timeout: 5000 }), 'the ping queued before disconnect()');
      const disconnected = c.disconnect();
      const fresh = c.ping({ timeout: 5000 }); // a new request: it connects on its own, as before connect()
      const e = await queued;
      assert.strictEqual(e.code, 'NEXA_CLOSED');
      await disconnected;
      const pong = await fresh.catch((err) => assert.fail(`the request made after disconnect() failed: ${err.code}: ${err.message}`));
      assert.strictEqual(pong.status, 'ok');
    });

    it('wrong credentials after a restart (NEXA_AUTH) are not retried: the stream ends, requests reject', async () => {
      const p = await proxy();
      const c = client({ port: p.port, reconnectAttempts: Infinity });
      await c.ping();
      const s = c.watch('auth');
      await s.ready;
      const col = collect(s);
      const disconnected = once(s, 'disconnect');
      await stopServer();
      await disconnected;
      await startServer({ users: { root: 'a-new-password' } });
      await col.ended(3000);
      assert.ok(col.error instanceof NexaClient.NexaAuthError, `the loop ended with ${col.error}`);
      assert.strictEqual(col.error.code, 'NEXA_AUTH');
      const e = await rejection(c.ping({ timeout: 3000 }), 'ping');
      assert.strictEqual(e.code, 'NEXA_AUTH');
      const dials = p.accepted;
      await sleep(150); // room for a retry or two at 20..200 ms
      assert.strictEqual(p.accepted, dials, 'no more dials');
    });

    it('requests made while reconnecting go out in call order once the connection is back', async () => {
      const c = client();
      const w = client();
      const s = w.watch('order');
      await s.ready;
      const col = collect(s);
      await c.ping();
      await stopServer();
      await waitFor(() => !c.connected, 'the client to notice', 2000, 2);
      const done = [];
      for (let i = 0; i < 20; i++) done.push(c.create('order', { i }, { timeout: 5000 }));
      await sleep(60);
      await startServer();
      await Promise.all(done);
      await waitFor(() => s.reconnects === 1, 'the stream to reconnect');
      // The stream re-subscribed, maybe after some of the creates: check the order on the server.
      const docs = await c.query('order', {}, 100);
      assert.strictEqual(docs.length, 20);
      const byId = docs.slice().sort((a, b) => (a._created_at < b._created_at ? -1 : a._created_at > b._created_at ? 1 : 0));
      assert.deepStrictEqual(byId.map((d) => d.i), Array.from({ length: 20 }, (_, i) => i));
      assert.strictEqual(col.error, null);
    });
  });
});
