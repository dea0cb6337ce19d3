'use strict';
// Resilience: giving up once the reconnect attempts are spent, and closing,
// disconnecting or aborting during backoff or on a stalled connection.
const assert = require('assert');

const { NexaConnectionError, NexaAbortError } = require('..');
const { waitFor, collect, once, rejection } = require('./fixtures/helpers');
const { createProcess, explain } = require('./helpers/scenario');
const { resilienceSuite, sleep } = require('./helpers/resilience-rig');

describe('resilience', function () {
  this.timeout(15000);

  const rig = resilienceSuite();
  const { client, proxy, stopServer, startServer } = rig;

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
      assert.strictEqual(rig.srv.connections, 2, 'the closed stream did not come back: b and the writer');
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
      const base = rig.srv.connections;
      const ac = new AbortController();
      const s = c.watch('ab', { signal: ac.signal });
      await s.ready;
      const col = collect(s);
      await waitFor(() => rig.srv.connections === base + 1, 'the stream connection on the server');
      ac.abort();
      await col.ended(2000);
      assert.ok(col.error instanceof NexaAbortError, `the loop ended with ${col.error}`);
      assert.strictEqual(col.error.code, 'ABORT_ERR');
      assert.strictEqual(col.error.name, 'AbortError');
      await waitFor(() => rig.srv.connections === base, 'the server to see the connection go', 2000);
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
      assert.strictEqual(rig.srv.connections, 0, 'the aborted stream did not reconnect');
    });
  });
});
