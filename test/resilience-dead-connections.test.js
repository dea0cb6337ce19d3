'use strict';
// Resilience against connections that die without closing (stalled: found by
// keepalive), half-close, or only slow down (delayed), through a fault proxy.
const assert = require('assert');

const { NexaError, NexaConnectionError } = require('..');
const { waitFor, collect, once, rejection } = require('./fixtures/helpers');
const { resilienceSuite } = require('./helpers/resilience-rig');

describe('resilience', function () {
  this.timeout(15000);

  const { client, proxy } = resilienceSuite();

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
});
