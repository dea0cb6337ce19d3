'use strict';

// The dev server's change streams, over raw sockets: SUBSCRIBE, UNSUBSCRIBE,
// the events' shapes, operations, order and sizes.

const assert = require('assert');
const { T, authed, devServerPerTest } = require('./helpers/dev-server-raw');

describe('dev server', () => {
  describe('change streams', function () {
    let server;
    devServerPerTest(this, (s) => { server = s; });

    it('sends insert, update and delete events with the reference shapes, and stops on UNSUBSCRIBE', async () => {
      const sub = await authed(server);
      const w = await authed(server);
      let f = await sub.request(T.SUBSCRIBE, { collection: 'orders' });
      assert.deepStrictEqual(f.payload, {
        subscribed: true, collection: 'orders', operations: ['insert', 'update', 'delete'],
        message: 'Subscribed to change stream for orders',
      });
      const id = (await w.request(T.CREATE, { collection: 'orders', data: { total: 9.5 } })).payload.document_id;
      f = await sub.next();
      assert.strictEqual(f.type, T.EVENT);
      assert.deepStrictEqual(Object.keys(f.payload), ['operationType', 'ns', 'timestamp', 'documentKey', 'fullDocument']);
      assert.deepStrictEqual(f.payload.ns, { db: 'nexadb', coll: 'orders' });
      assert.deepStrictEqual(f.payload.documentKey, { _id: id });
      assert.deepStrictEqual(Object.keys(f.payload.fullDocument), ['_id', '_created_at', '_updated_at', 'total']);
      const t1 = f.payload.timestamp;

      await w.request(T.UPDATE, { collection: 'orders', key: id, updates: { status: 'paid' } });
      f = await sub.next();
      assert.deepStrictEqual(Object.keys(f.payload),
        ['operationType', 'ns', 'timestamp', 'documentKey', 'fullDocument', 'updateDescription']);
      assert.strictEqual(f.payload.operationType, 'update');
      assert.strictEqual(f.payload.fullDocument.status, 'paid');
      assert.strictEqual(f.payload.fullDocument.total, 9.5);
      assert.deepStrictEqual(f.payload.updateDescription, { updatedFields: { status: 'paid' } });
      assert.ok(f.payload.timestamp > t1);

      await w.request(T.DELETE, { collection: 'orders', key: id });
      f = await sub.next();
      assert.deepStrictEqual(f.payload.operationType, 'delete');
      assert.deepStrictEqual(Object.keys(f.payload), ['operationType', 'ns', 'timestamp', 'documentKey']);

      // Other collections are not sent; nor is dropCollection unless listed.
      await w.request(T.CREATE, { collection: 'other', data: { a: 1 } });
      await w.request(T.CREATE, { collection: 'orders', data: { a: 1 } });
      await w.request(T.DROP_COLLECTION, { collection: 'orders' });
      assert.strictEqual((await sub.next()).payload.operationType, 'insert');
      await sub.assertNothingPending();

      f = await sub.request(T.UNSUBSCRIBE, {});
      assert.deepStrictEqual(f.payload, { unsubscribed: true, message: 'Unsubscribed from change stream' });
      await w.request(T.CREATE, { collection: 'orders', data: { a: 2 } });
      await sub.assertNothingPending();
      sub.end();
      w.end();
    });

    it('sends only the listed operations', async () => {
      const sub = await authed(server);
      const w = await authed(server);
      await sub.request(T.SUBSCRIBE, { collection: 'orders', operations: ['insert'] });
      const id = (await w.request(T.CREATE, { collection: 'orders', data: { n: 1 } })).payload.document_id;
      assert.strictEqual((await sub.next()).payload.operationType, 'insert');
      await w.request(T.UPDATE, { collection: 'orders', key: id, updates: { n: 2 } });
      await w.request(T.DELETE, { collection: 'orders', key: id });
      await sub.assertNothingPending();
      await w.request(T.CREATE, { collection: 'orders', data: { n: 3 } });
      assert.strictEqual((await sub.next()).payload.fullDocument.n, 3);
      sub.end();
      w.end();
    });

    it('watches every collection of every database, dropCollection when listed', async () => {
      const sub = await authed(server);
      const w = await authed(server);
      let f = await sub.request(T.SUBSCRIBE, { collection: null, operations: ['insert', 'dropCollection'] });
      assert.strictEqual(f.payload.message, 'Subscribed to change stream for all collections');
      assert.strictEqual(f.payload.collection, null);
      await w.request(T.CREATE, { collection: 'tmp', data: { x: 1 }, database: 'elsewhere' });
      f = await sub.next();
      assert.deepStrictEqual(f.payload.ns, { db: 'nexadb', coll: 'tmp' });
      await w.request(T.DROP_COLLECTION, { collection: 'tmp', database: 'elsewhere' });
      f = await sub.next();
      assert.deepStrictEqual(Object.keys(f.payload), ['operationType', 'ns', 'timestamp']);
      assert.strictEqual(f.payload.operationType, 'dropCollection');
      sub.end();
      w.end();
    });

    it('keeps one subscription per connection: a second SUBSCRIBE replaces the first', async () => {
      const sub = await authed(server);
      const w = await authed(server);
      await sub.request(T.SUBSCRIBE, { collection: 'vec_a', operations: ['insert'] });
      await sub.request(T.SUBSCRIBE, { collection: 'vec_b', operations: ['insert'] });
      await w.request(T.CREATE, { collection: 'vec_a', data: { x: 1 } });
      await w.request(T.CREATE, { collection: 'vec_b', data: { x: 2 } });
      const f = await sub.next();
      assert.strictEqual(f.payload.ns.coll, 'vec_b');
      await sub.assertNothingPending();
      sub.end();
      w.end();
    });

    it('sends every event to every matching subscriber, the writer included, in timestamp order', async () => {
      const a = await authed(server);
      const b = await authed(server);
      const w = await authed(server);
      await a.request(T.SUBSCRIBE, { collection: 'burst' });
      await b.request(T.SUBSCRIBE, { collection: null });
      await w.request(T.SUBSCRIBE, { collection: 'burst', operations: ['insert'] });
      const documents = Array.from({ length: 500 }, (_, n) => ({ n }));
      w.send(T.BATCH_WRITE, { collection: 'burst', documents });
      const answer = await w.next();
      assert.strictEqual(answer.type, T.SUCCESS);
      for (const c of [a, b, w]) {
        let last = 0;
        for (let n = 0; n < 500; n++) {
          const f = await c.next();
          assert.strictEqual(f.type, T.EVENT);
          assert.strictEqual(f.payload.fullDocument.n, n);
          assert.strictEqual(f.payload.documentKey._id, answer.payload.document_ids[n]);
          assert.ok(f.payload.timestamp > last, 'timestamps strictly increase');
          last = f.payload.timestamp;
        }
        await c.assertNothingPending();
      }
      [a, b, w].forEach((c) => c.end());
    });

    it('sends a 2 MiB document in one event, and round-trips every value kind', async () => {
      const sub = await authed(server);
      const w = await authed(server);
      await sub.request(T.SUBSCRIBE, { collection: 'types', operations: ['insert'] });
      const data = {
        blob: 'z'.repeat(2 * 1024 * 1024),
        unicode: 'café ☕ 🚀 中文',
        uint_max: 18446744073709551615n,
        int_max: 9223372036854775807n,
        int_min: -9223372036854775808n,
        safe: Number.MAX_SAFE_INTEGER,
        float: 1.5e-300,
        float_neg: -0,
        nested: { a: [1, 'two', 3.5, null, true, false, [], {}] },
      };
      await w.request(T.CREATE, { collection: 'types', data });
      const f = await sub.next();
      assert.ok(f.length > 2 * 1024 * 1024);
      const doc = f.payload.fullDocument;
      assert.deepStrictEqual(Object.keys(doc).slice(3), Object.keys(data));
      for (const k of Object.keys(data)) {
        if (Object.is(data[k], -0)) assert.ok(Object.is(doc[k], -0), 'stays -0');
        else assert.deepStrictEqual(doc[k], data[k], k);
      }
      sub.end();
      w.end();
    });

    it('forgets the subscription of a closed connection', async () => {
      const sub = await authed(server);
      const w = await authed(server);
      await sub.request(T.SUBSCRIBE, { collection: null });
      sub.end();
      await new Promise((r) => setTimeout(r, 20));
      assert.strictEqual(server.connections, 1);
      assert.strictEqual((await w.request(T.CREATE, { collection: 'c', data: { a: 1 } })).type, T.SUCCESS);
      w.end();
    });
  });
});
