'use strict';
// Change streams: how a stream is consumed (iterated, by 'change'
// listeners or through stream()'s Readable: one way per stream), and
// requests not held up by a stream nobody reads.
const assert = require('assert');

const { waitFor, devServerSuite } = require('./fixtures/helpers');
const { nextEvent, takeEvents } = require('./helpers/stream-events');

describe('change streams', function () {
  this.timeout(10000);

  const suite = devServerSuite();
  const { client } = suite;

  describe('one way to consume a stream', () => {
    /** The TypeError a stream consumed one way throws when used another. */
    const clash = (is, also) => ({
      name: 'TypeError',
      message: `this ChangeStream is ${is}: it cannot also be ${also} (one way to consume a stream)`,
    });
    const ITERATED = 'iterated (for await or next())';
    const LISTENED = "consumed by 'change' listeners";
    const READ = 'read through stream()';

    /** A refused call rejects at once: an accepted one would wait for an event (or take it). */
    async function refused(promise, expected) {
      let timer;
      const accepted = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('still pending after 500 ms: the call was accepted')), 500);
      });
      await assert.rejects(Promise.race([promise, accepted]), expected).finally(() => clearTimeout(timer));
    }

    it("a stream a loop iterates refuses 'change' listeners and stream(); one with listeners refuses next() and stream()", async () => {
      const c = client();
      const iterated = c.watch('modes');
      await iterated.ready;
      const w = client();
      await w.create('modes', { n: 1 });
      assert.strictEqual((await nextEvent(iterated)).fullDocument.n, 1);
      assert.throws(() => iterated.on('change', () => {}), clash(ITERATED, LISTENED));
      assert.throws(() => iterated.stream(), clash(ITERATED, READ));

      const flowing = c.watch('modes');
      await flowing.ready;
      const seen = [];
      flowing.on('change', (e) => seen.push(e.fullDocument.n));
      flowing.on('change', () => {}); // more listeners are fine
      await refused(flowing.next(), clash(LISTENED, ITERATED));
      assert.throws(() => flowing.stream(), clash(LISTENED, READ));
      await w.create('modes', { n: 2 });
      await waitFor(() => seen.length === 1, 'the listener to see the event');
      assert.deepStrictEqual(seen, [2]);
    });

    it("a stream read through stream() refuses next(), for await, 'change' listeners and a second stream()", async () => {
      const c = client();
      const s = c.watch('modes-readable');
      await s.ready;
      s.stream();
      await refused(s.next(), clash(READ, ITERATED));
      await refused((async () => {
        for await (const ev of s) assert.fail(`the loop got ${JSON.stringify(ev)}`);
      })(), clash(READ, ITERATED));
      assert.throws(() => s.on('change', () => {}), clash(READ, LISTENED));
      assert.strictEqual(s.listenerCount('change'), 0, 'the refused listener was not added');
      assert.throws(() => s.stream(), {
        name: 'TypeError',
        message: 'this ChangeStream is read through stream(): it already has its Readable (one Readable per stream)',
      });
      assert.strictEqual(s.closed, false, 'a refused way leaves the stream open');
      await s.close();
    });

    it("stream()'s Readable gets every event in order, none taken by a refused next(), and ends when the stream is closed", async () => {
      const c = client();
      const s = c.watch('modes-order');
      await s.ready;
      const readable = s.stream();
      const got = [];
      readable.on('data', (e) => got.push(e.fullDocument.n));
      const ended = new Promise((resolve) => readable.once('end', resolve));
      await refused(s.next(), clash(READ, ITERATED));
      const w = client();
      await w.batchWrite('modes-order', Array.from({ length: 20 }, (_, n) => ({ n })));
      await waitFor(() => got.length === 20, 'the Readable to get 20 events');
      assert.deepStrictEqual(got, Array.from({ length: 20 }, (_, n) => n));
      await s.close();
      await ended;
      assert.strictEqual(got.length, 20);
    });
  });

  describe('streams and requests', () => {
    it('CRUD is not delayed by a watch nobody consumes (2,000 buffered events, 50 pings)', async function () {
      this.timeout(20000);
      const c = client();
      const idle = c.watch('flood');
      await idle.ready;
      const witness = c.watch('flood');
      await witness.ready;
      const batch = await c.batchWrite('flood', Array.from({ length: 2000 }, (_, i) => ({ i, pad: 'x'.repeat(100) })));
      assert.strictEqual(batch.count, 2000);
      const t0 = Date.now();
      const pongs = await Promise.all(Array.from({ length: 50 }, () => c.ping()));
      const took = Date.now() - t0;
      assert.ok(pongs.every((p) => p.status === 'ok'));
      assert.ok(took < 3000, `50 pings took ${took} ms`);
      // CRUD works while the stream holds everything.
      const { document_id: id } = await c.create('other', { ok: true });
      assert.strictEqual((await c.get('other', id)).ok, true);
      // And nothing was lost in the idle stream.
      await takeEvents(witness, 2000, 15000);
      const evs = await takeEvents(idle, 2000, 15000);
      assert.deepStrictEqual(evs.map((e) => e.documentKey._id).sort(), batch.document_ids.slice().sort());
    });
  });
});
