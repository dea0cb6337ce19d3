'use strict';
// Resilience: server restarts, cut / stalled / half-closed connections (through
// test/helpers/fault-proxy.js), keepalive, backoff, exhausted attempts, and
// closing or aborting in the middle of all that.
const assert = require('assert');

const NexaClient = require('..');
const { NexaError, NexaConnectionError, NexaTimeoutError, NexaAbortError } = NexaClient;
const { startDevServer } = require('../lib/dev-server');
const { startFaultProxy } = require('./helpers/fault-proxy');
const { waitFor, collect, once, rejection } = require('./fixtures/helpers');
const { createProcess, explain } = require('./helpers/scenario');

const FAST = { reconnectDelayMs: 20, reconnectMaxDelayMs: 200 };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('resilience', function () {
  this.timeout(15000);

  let srv = null;
  let port = 0;
  const clients = [];
  const proxies = [];
  const servers = [];

  function client(opts = {}) {
    const c = new NexaClient({ host: '127.0.0.1', port, ...FAST, ...opts });
    clients.push(c);
    return c;
  }

  async function proxy() {
    const p = await startFaultProxy({ targetPort: port });
    proxies.push(p);
    return p;
  }

  /** Stops the server (startServer() brings one back on the same port). */
  async function stopServer() {
    await srv.close();
    srv = null;
  }

  async function startServer(opts = {}) {
    srv = await startDevServer({ port, ...opts });
    port = srv.port;
    servers.push(srv);
    return srv;
  }

  beforeEach(async () => {
    port = 0;
    await startServer();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.disconnect()));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
    srv = null;
  });

  describe('server restarts', () => {
    it('the server restarts mid-stream: the loop carries on with new events, reporting disconnect and reconnect', async () => {
      const c = client();
      const w = client();
      const s = c.watch('r1');
      await s.ready;
      const col = collect(s);
      await w.create('r1', { n: 1 });
      await col.untilDoc('n', 1);

      const disconnected = once(s, 'disconnect');
      const reconnected = once(s, 'reconnect');
      const tDown = Date.now();
      await stopServer();
      const { error } = await disconnected;
      assert.ok(error instanceof NexaError, `disconnect error: ${error}`);
      assert.match(error.code, /^E[A-Z]+$/, error.message);
      // Down for a while: several dials are refused before it comes back.
      await sleep(150);
      await startServer();
      const tUp = Date.now();
      const info = await reconnected;
      const tBack = Date.now();
      assert.ok(Number.isInteger(info.attempts) && info.attempts >= 2, `attempts ${info.attempts}`);
      assert.ok(info.downtimeMs >= 140, `downtimeMs ${info.downtimeMs} (the server was down ${tUp - tDown} ms)`);
      assert.ok(info.downtimeMs <= tBack - tDown + 5, `downtimeMs ${info.downtimeMs} > ${tBack - tDown} ms since the stop`);
      assert.strictEqual(s.reconnects, 1);

      await w.create('r1', { n: 2 });
      await col.untilDoc('n', 2);
      assert.strictEqual(col.done, false, 'the loop is still running');
      assert.strictEqual(col.error, null);
      assert.deepStrictEqual(col.events.map((e) => e.fullDocument.n), [1, 2]);
    });

    it('twenty restarts under a steady write load: every stream and request settles, handles come back', async function () {
      this.timeout(40000);
      await null; // mocha arms this test's own timer once the function has returned its promise
      const handles0 = process._getActiveHandles().length;
      const timers0 = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

      const c = client({ requestTimeout: 3000 });
      const w = client({ requestTimeout: 3000 });
      const streams = [c.watch('load'), c.watch(), c.watch('load', ['insert']), c.watch('load', { highWaterMark: 10 })];
      await Promise.all(streams.map((s) => s.ready));
      const cols = streams.map(collect);
      const disconnects = streams.map(() => 0);
      streams.forEach((s, k) => s.on('disconnect', () => { disconnects[k]++; }));

      const req = { started: 0, ok: 0, failed: 0, codes: {} };
      let stop = false;
      const request = async (fn) => {
        req.started++;
        try {
          await fn();
          req.ok++;
        } catch (err) {
          req.failed++;
          req.codes[err.code] = (req.codes[err.code] || 0) + 1;
          if (!(err instanceof NexaError)) throw err;
        }
      };
      // Two writers on one client, one on the client whose streams are watched, and pings.
      const loops = [
        (async () => { for (let i = 0; !stop; i++) await request(() => w.create('load', { wr: 'a', i })); })(),
        (async () => { for (let i = 0; !stop; i++) await request(() => w.create('load', { wr: 'b', i })); })(),
        (async () => { for (let i = 0; !stop; i++) await request(() => c.create('load', { wr: 'c', i })); })(),
        (async () => { while (!stop) await request(() => c.ping()); })(),
      ];

      const seen = () => cols.map((col) => col.events.length);
      for (let r = 1; r <= 20; r++) {
        // Events are flowing into every stream before each restart.
        const before = seen();
        await Promise.all(cols.map((col, k) => col.until(() => col.events.length > before[k] + 5, `events into stream ${k} before restart ${r}`)));
        await stopServer();
        if (r % 4) await sleep((r % 4) * 15); // down 0 to 45 ms
        await startServer();
        await Promise.all(streams.map((s, k) => waitFor(() => s.reconnects === r, `stream ${k} to reconnect after restart ${r}`, 5000, 2)));
      }
      // Streams keep receiving after the last restart.
      const after = seen();
      await Promise.all(cols.map((col, k) => col.until(() => col.events.length > after[k] + 20, `events into stream ${k} after the last restart`)));

      stop = true;
      await Promise.all(loops);
      console.log(`      twenty restarts: ${req.started} requests (${req.ok} answered, ${req.failed} failed: ${JSON.stringify(req.codes)}); ` +
        `events per stream: ${seen().join(', ')}`);
      assert.strictEqual(req.ok + req.failed, req.started, `requests pending: ${JSON.stringify(req)}`);
      assert.ok(req.ok > 200, `only ${req.ok} requests succeeded: ${JSON.stringify(req)}`);
      for (const code of Object.keys(req.codes)) {
        assert.ok(/^E[A-Z]+$/.test(code), `a request failed with ${code}: ${JSON.stringify(req)}`);
      }

      for (const [k, s] of streams.entries()) {
        assert.strictEqual(s.reconnects, 20, `stream ${k}`);
        assert.strictEqual(disconnects[k], 20, `stream ${k} disconnects`);
        assert.strictEqual(cols[k].done, false, `stream ${k} ended: ${cols[k].error}`);
        // Within and across connections: never a duplicate, never out of each writer's order.
        const last = {};
        for (const e of cols[k].events) {
          const d = e.fullDocument;
          if (!d || d.wr === undefined) continue;
          assert.ok(last[d.wr] === undefined || d.i > last[d.wr], `stream ${k}: ${d.wr}${d.i} after ${d.wr}${last[d.wr]}`);
          last[d.wr] = d.i;
        }
      }

      await c.disconnect();
      await w.disconnect();
      await Promise.all(cols.map((col) => col.ended()));
      for (const [k, col] of cols.entries()) {
        assert.strictEqual(col.done, true, `loop ${k} settled`);
        assert.strictEqual(col.error, null, `loop ${k} ended normally at disconnect(): ${col.error}`);
      }
      await waitFor(() => process._getActiveHandles().length <= handles0, 'the active handles to come back', 3000);
      assert.strictEqual(process._getActiveHandles().length, handles0);
      const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      assert.ok(timers <= timers0, `${timers} timers active, ${timers0} at the start`);
    });

    it('a flapping server (down and up every few ms, dials cut mid-handshake) leaves every stream subscribed in the end', async function () {
      this.timeout(20000);
      const p = await proxy();
      const c = client({ port: p.port, reconnectAttempts: Infinity });
      const w = client();
      const streams = Array.from({ length: 4 }, (_, k) => c.watch('flap', { highWaterMark: 5 + k }));
      await Promise.all(streams.map((s) => s.ready));
      const cols = streams.map(collect);
      // Cut every connection, over and over, at moments that fall anywhere in a
      // dial: TCP connect, CONNECT, SUBSCRIBE, or just after.
      for (let k = 0; k < 60; k++) {
        p.cut();
        await sleep(k % 7);
      }
      // Each comes back and re-subscribes: writes soon reach all of them. (A
      // stream may still be dialling when a write happens; that event is not
      // replayed, so keep writing until each has one.)
      let n = 0;
      await waitFor(async () => {
        await w.create('flap', { n: n++ });
        return cols.every((col) => col.events.length > 0);
      }, 'every stream to receive a write after the flapping', 5000, 20);
      for (const [k, s] of streams.entries()) {
        assert.strictEqual(cols[k].error, null);
        assert.strictEqual(s.closed, false);
        assert.ok(s.reconnects >= 1);
      }
      assert.strictEqual(p.connections, streams.length, 'one connection a stream, nothing left over');
    });
  });

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

  describe('dead connections', () => {
    it('a stalled (half-open) connection is found by keepalive; the stream reconnects after resume', async () => {
      const p = await proxy();
      const c = client({ port: p.port, keepAliveMs: 200, keepAliveTimeoutMs: 200, connectTimeout: 3000 });
      const w = client();
      const s = c.watch('ka');
      await s.ready;
      const col = collect(s);
      await w.create('ka', { n: 1 });
      await col.untilDoc('n', 1);
      // Keepalive PINGs are answered while traffic flows: no disconnect for a while of silence.
      const early = [];
      s.on('disconnect', (d) => early.push(d));
      const bytes0 = p.bytesDown;
      await waitFor(() => p.bytesDown > bytes0, 'a PONG to a keepalive PING', 2000, 5);
      assert.deepStrictEqual(early, []);

      const disconnected = once(s, 'disconnect', 3000);
      const reconnected = once(s, 'reconnect', 5000);
      const t0 = Date.now();
      p.stall();
      const { error } = await disconnected;
      const ms = Date.now() - t0;
      assert.ok(error instanceof NexaConnectionError, `${error.name}: ${error.message}`);
      assert.strictEqual(error.code, 'ETIMEDOUT');
      assert.ok(ms >= 150 && ms < 1500, `found dead after ${ms} ms (keepAliveMs 200 + keepAliveTimeoutMs 200)`);
      p.resume();
      const info = await reconnected;
      assert.ok(info.attempts >= 1);
      assert.strictEqual(s.reconnects, 1);
      await w.create('ka', { n: 2 });
      await col.untilDoc('n', 2);
      assert.strictEqual(col.error, null);
      assert.strictEqual(col.done, false);
    });

    it('a request in flight on a stalled connection rejects with ETIMEDOUT from keepalive, well before its timeout', async () => {
      const p = await proxy();
      const c = client({ port: p.port, keepAliveMs: 200, keepAliveTimeoutMs: 200, connectTimeout: 3000 });
      await c.ping();
      p.stall();
      const t0 = Date.now();
      const err = await rejection(c.ping({ timeout: 10000 }), 'the ping');
      const ms = Date.now() - t0;
      assert.ok(err instanceof NexaConnectionError, `${err.name}: ${err.message}`);
      assert.strictEqual(err.code, 'ETIMEDOUT');
      assert.ok(ms < 2000, `rejected after ${ms} ms`);
      p.resume();
      assert.strictEqual((await c.ping({ timeout: 3000 })).status, 'ok');
    });

    it('a half-closed connection (FIN from the server side) makes the stream and the requests reconnect', async () => {
      const p = await proxy();
      const c = client({ port: p.port });
      const w = client();
      await c.ping();
      const s = c.watch('hc');
      await s.ready;
      const col = collect(s);
      await w.create('hc', { n: 1 });
      await col.untilDoc('n', 1);
      const disconnected = once(s, 'disconnect');
      const reconnected = once(s, 'reconnect');
      assert.strictEqual(p.halfClose(), 2);
      const { error } = await disconnected;
      assert.ok(error instanceof NexaError, String(error));
      assert.match(error.code, /^E[A-Z]+$/);
      await reconnected;
      await w.create('hc', { n: 2 });
      await col.untilDoc('n', 2);
      assert.strictEqual((await c.ping({ timeout: 3000 })).status, 'ok');
      assert.strictEqual(col.error, null);
      assert.strictEqual(s.reconnects, 1);
    });

    it('a delayed connection still works, in order', async () => {
      const p = await proxy();
      const c = client({ port: p.port });
      const w = client();
      const s = c.watch('slow');
      await s.ready;
      const col = collect(s);
      p.delay(50);
      const t0 = Date.now();
      await c.ping();
      assert.ok(Date.now() - t0 >= 95, 'both directions are delayed');
      await w.batchWrite('slow', Array.from({ length: 50 }, (_, i) => ({ i })));
      await col.until(() => col.events.length === 50, '50 events');
      assert.deepStrictEqual(col.events.map((e) => e.fullDocument.i), Array.from({ length: 50 }, (_, i) => i));
      p.resume();
    });
  });

  describe('giving up and closing', () => {
    it('attempts exhausted: the loop rejects with the connection error, and requests reject', async () => {
      const c = client({ reconnectAttempts: 3 });
      await c.ping();
      const s = c.watch('gone');
      await s.ready;
      const col = collect(s);
      const disconnects = [];
      const reconnects = [];
      s.on('disconnect', (d) => disconnects.push(d));
      s.on('reconnect', (d) => reconnects.push(d));
      const closed = once(s, 'close');
      await stopServer(); // for good
      await waitFor(() => !c.connected, 'the client to notice', 2000, 2);
      const t0 = Date.now();
      const queued = rejection(c.ping({ timeout: 10000 }), 'a ping made during backoff');
      await col.ended(3000);
      assert.ok(col.error instanceof NexaConnectionError, `the loop ended with ${col.error}`);
      assert.strictEqual(col.error.code, 'ECONNREFUSED');
      await closed;
      assert.strictEqual(s.closed, true);
      assert.strictEqual(disconnects.length, 1);
      assert.deepStrictEqual(reconnects, []);
      assert.strictEqual(s.reconnects, 0);

      const e1 = await queued;
      assert.ok(Date.now() - t0 < 3000, 'the queued ping did not wait for its timeout');
      assert.ok(e1 instanceof NexaConnectionError, `${e1.name}: ${e1.message}`);
      assert.strictEqual(e1.code, 'ECONNREFUSED');
      const e2 = await rejection(c.ping({ timeout: 10000 }), 'a ping after giving up');
      assert.ok(e2 instanceof NexaConnectionError, `${e2.name}: ${e2.message}`);
      assert.strictEqual(e2.code, 'ECONNREFUSED');
      // Done: next() keeps saying so.
      assert.deepStrictEqual(await s.next(), { value: undefined, done: true });
    });

    it('disconnect() during backoff resolves promptly and ends the loops normally', async () => {
      const c = client({ reconnectDelayMs: 1000, reconnectMaxDelayMs: 1000 });
      await c.ping();
      const s = c.watch('bye');
      await s.ready;
      const col = collect(s);
      const disconnected = once(s, 'disconnect');
      await stopServer();
      await disconnected;
      await waitFor(() => !c.connected, 'the client to notice', 2000, 2);
      const t0 = Date.now();
      await c.disconnect();
      const ms = Date.now() - t0;
      assert.ok(ms < 200, `disconnect() took ${ms} ms`);
      await col.ended(1000);
      assert.strictEqual(col.error, null);
      assert.strictEqual(s.closed, true);
    });

    /**
     * A client whose server went away for good, waiting in backoff (1 s
     * delays), is ended by `client.disconnect()` or, with no request ever
     * made, by `stream.close()` on its only stream: that resolves promptly and
     * no backoff timer or socket keeps the process alive (it never calls process.exit()).
     */
    async function endDuringBackoff({ NexaClient, startDevServer }, mode) {
      const srv = await startDevServer({ port: 0 });
      const client = new NexaClient({ host: '127.0.0.1', port: srv.port, reconnectDelayMs: 1000, reconnectMaxDelayMs: 1000 });
      if (mode === 'disconnect') await client.ping();
      const s = client.watch('exit');
      await s.ready;
      let loopError = null;
      const loop = (async () => {
        try {
          for await (const ev of s) void ev;
        } catch (err) {
          loopError = `${err.name}: ${err.message}`;
        }
      })();
      const disconnected = new Promise((resolve) => s.once('disconnect', resolve));
      await srv.close();
      await disconnected;
      if (mode === 'disconnect') {
        while (client.connected) await new Promise((r) => setImmediate(r));
      }
      const t0 = Date.now();
      if (mode === 'disconnect') await client.disconnect();
      else await s.close();
      const ms = Date.now() - t0;
      await loop;
      return { ms, loopError };
    }

    for (const [mode, what] of [['disconnect', 'disconnect()'], ['close', 'stream.close()']]) {
      it(`${what} during backoff: the process then exits by itself (child process)`, async () => {
        const r = await createProcess(endDuringBackoff, mode, { killAfter: 5000 });
        assert.strictEqual(r.killed, false, `still running after 5 s: ${explain(r)}`);
        assert.strictEqual(r.code, 0, explain(r));
        assert.strictEqual(r.stderr, '', explain(r));
        assert.ok(r.result.ms < 200, `${what} took ${r.result.ms} ms`);
        assert.strictEqual(r.result.loopError, null);
      });
    }

    it('stream.close() during backoff resolves promptly; the other streams carry on', async () => {
      const c = client({ reconnectDelayMs: 300, reconnectMaxDelayMs: 300 });
      const w = client();
      const a = c.watch('cl');
      const b = c.watch('cl');
      await Promise.all([a.ready, b.ready]);
      const colA = collect(a);
      const colB = collect(b);
      const da = once(a, 'disconnect');
      const db = once(b, 'disconnect');
      const rb = once(b, 'reconnect');
      await stopServer();
      await Promise.all([da, db]);
      const t0 = Date.now();
      await a.close();
      const ms = Date.now() - t0;
      assert.ok(ms < 200, `close() took ${ms} ms`);
      await colA.ended(1000);
      assert.strictEqual(colA.error, null);
      await startServer();
      await rb;
      await w.create('cl', { n: 1 });
      await colB.untilDoc('n', 1);
      assert.strictEqual(a.reconnects, 0);
      assert.strictEqual(srv.connections, 2, 'the closed stream did not come back: b and the writer');
    });

    it('stream.close() and disconnect() on a stalled (unanswering) connection resolve within the goodbye bound', async () => {
      const p = await proxy();
      const c = client({ port: p.port });
      await c.ping();
      const s = c.watch('stalled');
      await s.ready;
      p.stall();
      const t0 = Date.now();
      const [closeMs, disconnectMs] = await Promise.all([s.close(), c.disconnect()].map((pr) => pr.then(() => Date.now() - t0)));
      // The core waits at most 2 s for the answer to DISCONNECT.
      assert.ok(closeMs < 2500, `close() took ${closeMs} ms`);
      assert.ok(disconnectMs < 2500, `disconnect() took ${disconnectMs} ms`);
      p.resume(); // what the stalled proxy held (the goodbyes) goes through; then the pairs close
      await waitFor(() => p.connections === 0, 'the proxied pairs to go', 2000);
    });

    it('aborting a watch ends it with NexaAbortError and releases its connection', async () => {
      const c = client();
      const base = srv.connections;
      const ac = new AbortController();
      const s = c.watch('ab', { signal: ac.signal });
      await s.ready;
      const col = collect(s);
      await waitFor(() => srv.connections === base + 1, 'the stream connection on the server');
      ac.abort();
      await col.ended(2000);
      assert.ok(col.error instanceof NexaAbortError, `the loop ended with ${col.error}`);
      assert.strictEqual(col.error.code, 'ABORT_ERR');
      assert.strictEqual(col.error.name, 'AbortError');
      await waitFor(() => srv.connections === base, 'the server to see the connection go', 2000);
      assert.strictEqual(s.closed, true);
    });

    it('aborting a watch during backoff ends it at once', async () => {
      const c = client({ reconnectDelayMs: 1000, reconnectMaxDelayMs: 1000 });
      const ac = new AbortController();
      const s = c.watch('ab2', { signal: ac.signal });
      await s.ready;
      const col = collect(s);
      const disconnected = once(s, 'disconnect');
      await stopServer();
      await disconnected;
      const t0 = Date.now();
      ac.abort(new Error('enough'));
      await col.ended(1000);
      assert.ok(Date.now() - t0 < 200);
      assert.ok(col.error instanceof NexaAbortError, `the loop ended with ${col.error}`);
      assert.strictEqual(col.error.cause.message, 'enough');
      await startServer();
      await sleep(50);
      assert.strictEqual(srv.connections, 0, 'the aborted stream did not reconnect');
    });
  });

  describe('event order', () => {
    it('reorderWindowMs delivers a shuffled 300-event batch in timestamp order; without it the order is shuffled', async () => {
      await srv.close();
      port = 0;
      await startServer({ shuffleEvents: true });
      const c = client();
      const ordered = c.watch('ro', { reorderWindowMs: 100 });
      const raw = c.watch('ro');
      await Promise.all([ordered.ready, raw.ready]);
      const colO = collect(ordered);
      const colR = collect(raw);
      const N = 300;
      let outOfOrder = 0;
      for (let round = 1; round <= 5; round++) {
        await c.batchWrite('ro', Array.from({ length: N }, (_, i) => ({ round, i })));
        const mine = (col) => col.events.filter((e) => e.fullDocument.round === round);
        await colO.until(() => mine(colO).length === N, `round ${round} on the ordered stream`);
        await colR.until(() => mine(colR).length === N, `round ${round} on the raw stream`);
        const o = mine(colO);
        for (let k = 1; k < N; k++) {
          assert.ok(o[k - 1].timestamp <= o[k].timestamp, `round ${round}: event ${k} out of timestamp order`);
        }
        assert.deepStrictEqual(o.map((e) => e.fullDocument.i), Array.from({ length: N }, (_, i) => i), 'the write order');
        const r = mine(colR);
        assert.deepStrictEqual(r.map((e) => e.fullDocument.i).sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i));
        if (r.some((e, k) => k > 0 && r[k - 1].timestamp > e.timestamp)) outOfOrder++;
        if (outOfOrder > 0) break;
      }
      assert.ok(outOfOrder > 0, 'without reorderWindowMs, a shuffled burst arrives out of order');
    });
  });
});

// --- child-process fixtures -----------------------------------------------------------

