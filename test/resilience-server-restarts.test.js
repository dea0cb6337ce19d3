'use strict';
// Resilience: the server restarts (once, twenty times under load, or flapping
// through a fault proxy) and the streams and requests carry on.
const assert = require('assert');

const { NexaError } = require('..');
const { waitFor, collect, once } = require('./fixtures/helpers');
const { resilienceSuite, sleep } = require('./helpers/resilience-rig');

describe('resilience', function () {
  this.timeout(15000);

  const { client, proxy, stopServer, startServer } = resilienceSuite();

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
});
