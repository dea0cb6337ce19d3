'use strict';
// Change streams: how a stream is consumed (iterated or by 'change'
// listeners, never both), and requests not held up by a stream nobody reads.
const assert = require('assert');

const { waitFor, devServerSuite } = require('./fixtures/helpers');
const { nextEvent, takeEvents } = require('./helpers/stream-events');

describe('change streams', function () {
  this.timeout(10000);

  const suite = devServerSuite();
  const { client } = suite;

  describe('one way to consume a stream', () => {
    it("a stream a loop iterates refuses 'change' listeners and stream(); one with listeners refuses next() and stream()", async () => {
      const c = client();
      const iterated = c.watch('modes');
      await iterated.ready;
      const w = client();
      await w.create('modes', { n: 1 });
      assert.strictEqual((await nextEvent(iterated)).fullDocument.n, 1);
      assert.throws(() => iterated.on('change', () => {}), {
        name: 'TypeError',
        message: "this ChangeStream is iterated (for await, next() or stream()): it cannot also be consumed by 'change' listeners (one way to consume a stream)",
      });
      assert.doesNotThrow(() => iterated.stream(), 'stream() iterates too');

      const flowing = c.watch('modes');
      await flowing.ready;
      const seen = [];
      flowing.on('change', (e) => seen.push(e.fullDocument.n));
      flowing.on('change', () => {}); // more listeners are fine
      await assert.rejects(flowing.next(), /this ChangeStream is consumed by 'change' listeners: it cannot also be iterated/);
      assert.throws(() => flowing.stream(), TypeError);
      await w.create('modes', { n: 2 });
      await waitFor(() => seen.length === 1, 'the listener to see the event');
      assert.deepStrictEqual(seen, [2]);
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
