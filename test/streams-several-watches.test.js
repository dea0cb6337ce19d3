'use strict';
// Change streams: several watches at once, on one client or two, each
// receiving exactly its own events.
const assert = require('assert');

const { devServerSuite } = require('./fixtures/helpers');
const { nextEvent, takeEvents } = require('./helpers/stream-events');

describe('change streams', function () {
  this.timeout(10000);

  const suite = devServerSuite();
  const { client } = suite;

  describe('several watches', () => {
    it('two watches on different collections each receive exactly their own events, 1,000-insert burst included', async function () {
      this.timeout(20000);
      const c = client();
      const a = c.watch('burst_a');
      const b = c.watch('burst_b');
      await Promise.all([a.ready, b.ready]);

      const { document_id: b1 } = await c.create('burst_b', { first: true });
      const docs = Array.from({ length: 1000 }, (_, i) => ({ i }));
      const batch = await c.batchWrite('burst_a', docs);
      assert.strictEqual(batch.count, 1000);
      const { document_id: aEnd } = await c.create('burst_a', { sentinel: true });
      const { document_id: bEnd } = await c.create('burst_b', { sentinel: true });

      const evA = await takeEvents(a, 1001, 15000);
      const burst = evA.slice(0, 1000);
      for (const e of burst) {
        assert.strictEqual(e.operationType, 'insert');
        assert.strictEqual(e.ns.coll, 'burst_a');
      }
      const got = burst.map((e) => e.documentKey._id);
      assert.strictEqual(new Set(got).size, 1000, 'no duplicates');
      assert.deepStrictEqual(got.slice().sort(), batch.document_ids.slice().sort(), 'exactly the batch, no loss');
      assert.deepStrictEqual(burst.map((e) => e.fullDocument.i).sort((x, y) => x - y), docs.map((d) => d.i));
      assert.strictEqual(evA[1000].documentKey._id, aEnd, 'then the sentinel, nothing else');

      const evB = await takeEvents(b, 2);
      assert.deepStrictEqual(evB.map((e) => e.documentKey._id), [b1, bEnd], 'b saw none of the burst');
      assert.deepStrictEqual(evB.map((e) => e.ns.coll), ['burst_b', 'burst_b']);
    });

    it('two watches on one collection with different operations each receive exactly their own events', async function () {
      this.timeout(20000);
      const c = client();
      const ins = c.watch('sameops', ['insert']);
      const mod = c.watch('sameops', { operations: ['update', 'delete'] });
      await Promise.all([ins.ready, mod.ready]);

      const batch = await c.batchWrite('sameops', Array.from({ length: 1000 }, (_, i) => ({ i })));
      const [x, y] = batch.document_ids;
      await c.update('sameops', x, { i: -1 });
      await c.delete('sameops', y);
      const { document_id: last } = await c.create('sameops', { sentinel: true });
      await c.delete('sameops', last);

      const evI = await takeEvents(ins, 1001, 15000);
      assert.ok(evI.every((e) => e.operationType === 'insert'));
      const ids = evI.slice(0, 1000).map((e) => e.documentKey._id);
      assert.strictEqual(new Set(ids).size, 1000);
      assert.deepStrictEqual(ids.slice().sort(), batch.document_ids.slice().sort());
      assert.strictEqual(evI[1000].documentKey._id, last);

      const evM = await takeEvents(mod, 3);
      assert.deepStrictEqual(evM.map((e) => [e.operationType, e.documentKey._id]), [['update', x], ['delete', y], ['delete', last]]);
      assert.deepStrictEqual(evM[0].updateDescription, { updatedFields: { i: -1 } });

      // Nothing more is pending on either: the next thing each sees is a fresh sentinel.
      const { document_id: s2 } = await c.create('sameops', { s: 2 });
      await c.delete('sameops', s2);
      assert.deepStrictEqual((await nextEvent(ins)).documentKey._id, s2);
      const e = await nextEvent(mod);
      assert.deepStrictEqual([e.operationType, e.documentKey._id], ['delete', s2]);
    });

    it('two clients watching the same collection both get every event', async () => {
      const c1 = client();
      const c2 = client();
      const s1 = c1.watch('shared');
      const s2 = c2.watch('shared');
      await Promise.all([s1.ready, s2.ready]);
      const { document_ids: ids } = await c1.batchWrite('shared', [{ a: 1 }, { a: 2 }, { a: 3 }]);
      for (const s of [s1, s2]) {
        assert.deepStrictEqual((await takeEvents(s, 3)).map((e) => e.documentKey._id), ids);
      }
    });
  });
});
