'use strict';
// Backpressure under overflow: 'pause' (the default): slow consumers hold
// the socket back, nothing is lost, requests are not delayed, keepalive
// spares a paused connection. The other policies and ways to consume:
// backpressure-policies.test.js.
const assert = require('assert');

const { waitFor, devServerSuite } = require('./fixtures/helpers');
const { sleep, docs, OVERSHOOT, bufferWatcher, nextWithin, assertAll } = require('./helpers/backpressure-rig');

describe('backpressure', function () {
  this.timeout(20000);

  const suite = devServerSuite();
  const { client } = suite;

  describe("overflow: 'pause'", () => {
    it('20,000 events into a slow consumer: each once, in order, the buffer bounded; requests on the same client are not delayed', async () => {
      const N = 20000;
      const HWM = 100;
      const c = client();
      const w = client();
      await c.ping();
      const s = c.watch('bp', { highWaterMark: HWM });
      await s.ready;
      const disconnects = [];
      s.on('disconnect', (d) => disconnects.push(d));
      const buf = bufferWatcher(s);
      const written = w.batchWrite('bp', docs(N));
      const got = [];
      const latencies = [];
      try {
        for await (const ev of s) {
          got.push(ev.fullDocument.i);
          buf.sample();
          if (got.length % 100 === 0) await sleep(3);
          if (got.length === 2000) {
            // The consumer stops. The core is paused already, or reads on to
            // the bound and pauses: the buffer stops growing, short of N.
            let b = -1;
            await waitFor(async () => {
              const now = s.buffered;
              const stable = now === b;
              b = now;
              return stable;
            }, 'the buffer to stop growing', 5000, 30);
            assert.ok(b > 0 && b <= HWM + OVERSHOOT, `buffered ${b}`);
            assert.ok(got.length + b < N, 'the stream is paused before the end');
            for (let k = 0; k < 10; k++) {
              const t0 = process.hrtime.bigint();
              await c.ping();
              latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
            }
            buf.sample();
          }
          if (got.length === N) break;
        }
      } finally {
        buf.stop();
      }
      assert.strictEqual((await written).count, N);
      assertAll(got, N, "'pause'");
      assert.ok(buf.max <= HWM + OVERSHOOT, `buffered reached ${buf.max} (highWaterMark ${HWM})`);
      assert.ok(buf.max >= HWM / 2, `the buffer never filled (max ${buf.max}): was the consumer slow?`);
      const worst = Math.max(...latencies);
      assert.ok(worst < 50, `pings took ${latencies.map((x) => x.toFixed(1)).join(', ')} ms while the stream was paused`);
      assert.deepStrictEqual(disconnects, []);
      assert.strictEqual(s.closed, true, 'break closed the stream');
    });

    it('highWaterMarkBytes bounds the buffer too, and the stream still flows (byte bound reached before highWaterMark / 4 events)', async () => {
      const N = 5000;
      const c = client();
      const w = client();
      const s = c.watch('bpb', { highWaterMark: 1000000, highWaterMarkBytes: 16384 });
      await s.ready;
      const buf = bufferWatcher(s);
      await w.batchWrite('bpb', docs(N));
      const got = [];
      try {
        while (got.length < N) {
          const r = await nextWithin(s, 2000, `after ${got.length} events`);
          assert.strictEqual(r.done, false);
          got.push(r.value.fullDocument.i);
          buf.sample();
          if (got.length % 50 === 0) await sleep(2);
        }
      } finally {
        buf.stop();
        await s.close();
      }
      assertAll(got, N, 'highWaterMarkBytes');
      // 16 KiB of ~215-byte payloads is ~76 events, plus one socket read.
      assert.ok(buf.max <= 80 + OVERSHOOT, `buffered reached ${buf.max}`);
    });

    it('the default highWaterMark (1000) with 10 KB events and highWaterMarkBytes 1 MiB: every event arrives', async () => {
      const N = 500;
      const c = client({ highWaterMarkBytes: 1 << 20 });
      const w = client();
      const s = c.watch('bpb2');
      await s.ready;
      await w.batchWrite('bpb2', docs(N, { pad: 'x'.repeat(10000) }));
      const got = [];
      try {
        while (got.length < N) {
          const r = await nextWithin(s, 2000, `after ${got.length} events`);
          got.push(r.value.fullDocument.i);
        }
      } finally {
        await s.close();
      }
      assertAll(got, N, '10 KB events');
    });

    it('a paused stream does not hold up another stream of the same client', async () => {
      const N = 5000;
      const c = client();
      const w = client();
      const slow = c.watch('bp2', { highWaterMark: 50 });
      const fast = c.watch('bp2', { highWaterMark: 50 });
      await Promise.all([slow.ready, fast.ready]);
      await w.batchWrite('bp2', docs(N));
      const fastGot = [];
      for await (const ev of fast) {
        fastGot.push(ev.fullDocument.i);
        if (fastGot.length === N) break;
      }
      assertAll(fastGot, N, 'the fast stream');
      assert.ok(slow.buffered <= 50 + OVERSHOOT, `the untouched stream holds ${slow.buffered}`);
      const slowGot = [];
      for await (const ev of slow) {
        slowGot.push(ev.fullDocument.i);
        if (slowGot.length === N) break;
      }
      assertAll(slowGot, N, 'the slow stream, afterwards');
    });

    it('keepalive does not kill a connection whose reading is paused by a stalled consumer', async () => {
      const N = 2000;
      const c = client({ keepAliveMs: 100, keepAliveTimeoutMs: 100 });
      const w = client();
      const s = c.watch('bpk', { highWaterMark: 20 });
      await s.ready;
      const disconnects = [];
      s.on('disconnect', (d) => disconnects.push(d));
      await w.batchWrite('bpk', docs(N));
      await waitFor(() => s.buffered >= 15, 'the buffer to fill', 5000, 2);
      await sleep(600); // paused for three keepalive periods and timeouts
      const got = [];
      for await (const ev of s) {
        got.push(ev.fullDocument.i);
        if (got.length === N) break;
      }
      assertAll(got, N, 'after the pause');
      assert.deepStrictEqual(disconnects.map((d) => d.error.code), []);
    });
  });
});
