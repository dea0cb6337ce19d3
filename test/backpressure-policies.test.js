'use strict';
// Backpressure under overflow: 'error' and 'dropOldest' against slow
// consumers, and the other ways to consume: 'change' listeners, stream()
// through a slow Writable, Symbol.asyncDispose.
const assert = require('assert');
const { Writable } = require('stream');

const NexaClient = require('..');
const { NexaOverflowError } = NexaClient;
const { waitFor, devServerSuite } = require('./fixtures/helpers');
const { sleep, range, docs, OVERSHOOT, bufferWatcher, floodSource, hiccup, assertAll } = require('./helpers/backpressure-rig');

describe('backpressure: the other policies and ways to consume', function () {
  this.timeout(20000);

  const suite = devServerSuite();
  const { client } = suite;

  describe("overflow: 'error'", () => {
    it('a slow consumer ends with NexaOverflowError once the buffer passes highWaterMark', async () => {
      const BATCHES = 20;
      const PER = 100;
      const N = BATCHES * PER;
      const c = client();
      const w = client();
      await w.ping();
      const s = c.watch('bpe', { highWaterMark: 100, overflow: 'error' });
      await s.ready;
      const before = suite.srv.connections;
      // Writes keep coming, 100 every 20 ms; the consumer takes 5 ms an event.
      const writer = (async () => {
        for (let b = 0; b < BATCHES; b++) {
          await w.batchWrite('bpe', range(PER).map((k) => ({ i: b * PER + k })));
          await sleep(20);
        }
      })();
      const got = [];
      let err = null;
      try {
        for await (const ev of s) {
          got.push(ev.fullDocument.i);
          await sleep(5);
        }
      } catch (e) {
        err = e;
      }
      await writer;
      assert.ok(err instanceof NexaOverflowError, `the loop ended with ${err}`);
      assert.strictEqual(err.code, 'NEXA_OVERFLOW');
      assert.strictEqual(err.highWaterMark, 100);
      assert.ok(got.length >= 1 && got.length < N, `${got.length} events before the error`);
      assertAll(got, got.length, 'the events before the error');
      assert.strictEqual(s.closed, true);
      await waitFor(() => suite.srv.connections === before - 1, 'the stream connection to close', 2000);
    });

    it('a consumer that keeps up (an empty loop body) never overflows, even after a 200 ms hiccup of the process', async () => {
      // A burst the core read while the main thread was busy is handed over
      // at once; the consumer has not had a turn yet, so it is not "too slow".
      const N = 5000;
      const src = await floodSource(N);
      try {
        const c = new NexaClient({ host: '127.0.0.1', port: src.port });
        suite.clients.push(c);
        const s = c.watch('orders', { overflow: 'error' }); // highWaterMark 1000
        await s.ready;
        hiccup(200);
        let n = 0;
        try {
          for await (const ev of s) {
            if (ev.operationType === 'insert' && ++n === N) break;
          }
        } catch (err) {
          assert.fail(`a loop that never waits got ${err.code} after ${n} of ${N} events: ${err.message}`);
        }
        assert.strictEqual(n, N);
      } finally {
        await Promise.all(suite.clients.map((c) => c.disconnect()));
        await src.stop();
      }
    });
  });

  describe("overflow: 'dropOldest'", () => {
    it("drops the oldest events: received + dropped = written, 'overflow' events add up to stream.dropped", async () => {
      const N = 5000;
      const HWM = 100;
      const c = client();
      const w = client();
      const s = c.watch('bpd', { highWaterMark: HWM, overflow: 'dropOldest' });
      await s.ready;
      let reported = 0;
      let lastTotal = 0;
      s.on('overflow', ({ dropped, total }) => {
        assert.ok(dropped > 0);
        reported += dropped;
        lastTotal = total;
      });
      let announced = 0;
      const countedWhenAnnounced = [];
      s.on('gap', (gap) => {
        announced += gap.count;
        countedWhenAnnounced.push(s.dropped === announced);
      });
      const buf = bufferWatcher(s);
      await w.batchWrite('bpd', docs(N));
      const got = [];
      try {
        for await (const ev of s) {
          got.push(ev.fullDocument.i);
          buf.sample();
          if (got.length % 10 === 0) await sleep(1);
          if (got.length + s.dropped === N) break;
        }
      } finally {
        buf.stop();
      }
      await new Promise((r) => setImmediate(r));
      assert.ok(s.dropped > 0, 'the consumer was slow enough to drop');
      assert.strictEqual(got.length + s.dropped, N);
      assert.strictEqual(reported, s.dropped);
      assert.ok(countedWhenAnnounced.length > 0 && countedWhenAnnounced.every(Boolean), "a 'gap' listener sees stream.dropped with the gap counted");
      assert.strictEqual(lastTotal, s.dropped);
      // Bounded: highWaterMark, plus what the core delivers before the policy
      // is applied (it stops at highWaterMark unacknowledged events, past it
      // by one read at most: far under 4096).
      assert.ok(buf.max <= HWM + 4096, `buffered reached ${buf.max}`);
      for (let k = 1; k < got.length; k++) assert.ok(got[k] > got[k - 1], `order at ${k}: ${got[k - 1]} then ${got[k]}`);
      assert.strictEqual(got[got.length - 1], N - 1, 'the newest event is never dropped');
    });

    it('a consumer that never reads: memory stays bounded (the buffer array itself, not only its live part)', async () => {
      const c = client();
      const w = client();
      const s = c.watch('bpstuck', { overflow: 'dropOldest', highWaterMark: 50 });
      await s.ready;
      for (let k = 0; k < 10; k++) await w.batchWrite('bpstuck', docs(1000));
      await waitFor(() => s.dropped + s.buffered >= 10000, 'every event to arrive or be dropped', 5000);
      await new Promise((r) => setImmediate(r));
      assert.strictEqual(s.buffered, 50);
      // Internal invariant: drops must not leave holes that grow the array.
      assert.ok(s._buf.length <= 2 * 50 + 1, `the buffer array holds ${s._buf.length} slots`);
    });

    it('a consumer that keeps up (an empty loop body) loses nothing, even after a 200 ms hiccup of the process', async () => {
      const N = 5000;
      const src = await floodSource(N);
      try {
        const c = new NexaClient({ host: '127.0.0.1', port: src.port });
        suite.clients.push(c);
        const s = c.watch('orders', { overflow: 'dropOldest' }); // highWaterMark 1000
        await s.ready;
        hiccup(200);
        let n = 0;
        for await (const ev of s) {
          if (ev.operationType === 'insert') n++;
          if (n + s.dropped === N) break;
        }
        assert.strictEqual(s.dropped, 0, `${s.dropped} events dropped though the loop never waited`);
        assert.strictEqual(n, N);
      } finally {
        await Promise.all(suite.clients.map((c) => c.disconnect()));
        await src.stop();
      }
    });
  });

  describe('other ways to consume', () => {
    it("'change' mode receives every event, in order", async () => {
      const N = 5000;
      const c = client();
      const w = client();
      const s = c.watch('bpc', { highWaterMark: 50 });
      await s.ready;
      const got = [];
      const all = new Promise((resolve) => {
        s.on('change', (ev) => {
          got.push(ev.fullDocument.i);
          if (got.length === N) resolve();
        });
      });
      await w.batchWrite('bpc', docs(N));
      await all;
      assertAll(got, N, "'change' mode");
      await s.close();
    });

    it('stream() piped into a slow Writable (objectMode, highWaterMark 1) gets every event, in order', async () => {
      const N = 3000;
      const HWM = 50;
      const c = client();
      const w = client();
      const s = c.watch('bps', { highWaterMark: HWM });
      await s.ready;
      const buf = bufferWatcher(s);
      const got = [];
      let finish;
      const all = new Promise((resolve) => { finish = resolve; });
      const sink = new Writable({
        objectMode: true,
        highWaterMark: 1,
        write(ev, _enc, cb) {
          got.push(ev.fullDocument.i);
          if (got.length === N) finish();
          if (got.length % 50 === 0) setTimeout(cb, 2);
          else setImmediate(cb);
        },
      });
      const readable = s.stream();
      readable.pipe(sink);
      await w.batchWrite('bps', docs(N));
      await all;
      buf.stop();
      assertAll(got, N, 'stream()');
      assert.ok(buf.max <= HWM + OVERSHOOT, `buffered reached ${buf.max}`);
      const closed = new Promise((resolve) => s.once('close', resolve));
      readable.destroy();
      await closed;
      assert.strictEqual(s.closed, true, 'destroying the Readable closes the stream');
    });

    it('Symbol.asyncDispose closes a stream (what `await using` calls)', async () => {
      const c = client();
      const s = c.watch('bpa');
      await s.ready;
      const base = suite.srv.connections;
      const pending = s.next();
      assert.strictEqual(typeof s[Symbol.asyncDispose], 'function');
      await s[Symbol.asyncDispose]();
      assert.strictEqual(s.closed, true);
      assert.deepStrictEqual(await pending, { value: undefined, done: true });
      await waitFor(() => suite.srv.connections === base - 1, 'the server to see the stream connection close', 2000);
    });

    it('Symbol.asyncDispose on the client disconnects it and ends its streams', async () => {
      const c = client();
      await c.ping();
      const s = c.watch('bpa2');
      await s.ready;
      const loop = (async () => {
        let n = 0;
        for await (const ev of s) n += ev ? 1 : 0;
        return n;
      })();
      await c[Symbol.asyncDispose]();
      assert.strictEqual(c.connected, false);
      assert.strictEqual(await loop, 0);
      assert.strictEqual(s.closed, true);
    });
  });
});
