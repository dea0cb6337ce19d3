'use strict';
// NexaClient requests: documents (create, get, update, delete, query,
// batchWrite), ping, pipelining, and how failed requests reject.
const assert = require('assert');

const NexaClient = require('..');
const { NexaServerError, NexaNotFoundError } = NexaClient;
const { devServerSuite, rejection } = require('./fixtures/helpers');

const ID = /^[0-9a-f]{16}$/;
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/;

describe('NexaClient', function () {
  this.timeout(10000);

  const suite = devServerSuite();
  const { client } = suite;

  describe('documents', () => {
    it('create, get, update, delete with the server\'s exact answers', async () => {
      const c = client();
      const created = await c.create('users', { name: 'Ada', age: 36, tags: ['x'] });
      assert.deepStrictEqual(Object.keys(created), ['database', 'collection', 'document_id', 'message']);
      assert.match(created.document_id, ID);
      assert.deepStrictEqual(created, {
        database: 'default', collection: 'users', document_id: created.document_id, message: 'Document inserted',
      });
      const id = created.document_id;

      const doc = await c.get('users', id);
      assert.deepStrictEqual(Object.keys(doc), ['_id', '_created_at', '_updated_at', 'name', 'age', 'tags']);
      assert.strictEqual(doc._id, id);
      assert.match(doc._created_at, STAMP);
      assert.strictEqual(doc._updated_at, doc._created_at);
      assert.deepStrictEqual({ name: doc.name, age: doc.age, tags: doc.tags }, { name: 'Ada', age: 36, tags: ['x'] });

      const updated = await c.update('users', id, { age: 37, city: 'London' });
      assert.deepStrictEqual(updated, {
        database: 'default', collection: 'users', document_id: id, message: 'Document updated',
      });
      const doc2 = await c.get('users', id);
      assert.deepStrictEqual(Object.keys(doc2), ['_id', '_created_at', '_updated_at', 'name', 'age', 'tags', 'city']);
      assert.strictEqual(doc2.age, 37);
      assert.strictEqual(doc2.city, 'London');
      // As on the reference server, an update restamps both times.
      assert.match(doc2._updated_at, STAMP);
      assert.strictEqual(doc2._created_at, doc2._updated_at);
      assert.ok(doc2._updated_at > doc._updated_at);

      const deleted = await c.delete('users', id);
      assert.deepStrictEqual(deleted, {
        database: 'default', collection: 'users', document_id: id, message: 'Document deleted',
      });
      assert.strictEqual(await c.get('users', id), null);
    });

    it('the first request connects by itself', async () => {
      const c = client();
      assert.strictEqual(c.connected, false);
      const r = await c.create('auto', { a: 1 });
      assert.match(r.document_id, ID);
      assert.strictEqual(c.connected, true);
    });

    it('get of a missing key resolves null', async () => {
      const c = client();
      assert.strictEqual(await c.get('users', '0000000000000000'), null);
      assert.strictEqual(await c.get('never-written', 'nope'), null);
    });

    it('update and delete of a missing key reject with NexaNotFoundError', async () => {
      const c = client();
      for (const p of [c.update('users', 'missing-key', { a: 1 }), c.delete('users', 'missing-key')]) {
        const err = await rejection(p);
        assert.ok(err instanceof NexaNotFoundError, `got ${err && err.name}`);
        assert.ok(err instanceof NexaServerError);
        assert.strictEqual(err.code, 'NEXA_NOT_FOUND');
        assert.ok(err.message.startsWith('Not found: '), err.message);
        assert.strictEqual(err.collection, 'users');
      }
      // The connection is still fine.
      assert.strictEqual((await c.ping()).status, 'ok');
    });

    it('a server ERROR rejects with NexaServerError carrying the server text', async () => {
      const c = client();
      const err = await rejection(c.create('bin', { blob: Buffer.from([1, 2, 3]) }));
      assert.ok(err instanceof NexaServerError, `got ${err && err.name}`);
      assert.ok(!(err instanceof NexaNotFoundError));
      assert.strictEqual(err.code, 'NEXA_SERVER');
      assert.strictEqual(err.message, 'Object of type bytes is not JSON serializable');
      assert.strictEqual(err.collection, 'bin');
      // Nothing was stored and the connection stays usable.
      assert.deepStrictEqual(await c.query('bin'), []);
      assert.strictEqual((await c.ping()).status, 'ok');
    });

    it('query with filters and limit', async () => {
      const c = client();
      const coll = 'q_items';
      const ids = [];
      for (let i = 0; i < 10; i++) {
        ids.push((await c.create(coll, { n: i, kind: i % 2 ? 'odd' : 'even' })).document_id);
      }
      // The dev server answers in _id order, as the reference server's key-ordered scan.
      const byId = (docs) => docs.slice().sort((a, b) => (a._id < b._id ? -1 : 1));
      const all = await c.query(coll);
      assert.strictEqual(all.length, 10);
      assert.deepStrictEqual(all.map((d) => d._id), ids.slice().sort());
      const inIdOrder = byId(all).map((d) => d.n);

      const odd = await c.query(coll, { kind: 'odd' });
      assert.deepStrictEqual(odd.map((d) => d.n).sort(), [1, 3, 5, 7, 9]);
      for (const d of odd) assert.strictEqual(d._id, ids[d.n]);

      const big = await c.query(coll, { n: { $gte: 4 }, kind: 'even' });
      assert.deepStrictEqual(big.map((d) => d.n).sort(), [4, 6, 8]);

      const limited = await c.query(coll, {}, 3);
      assert.deepStrictEqual(limited.map((d) => d.n), inIdOrder.slice(0, 3));

      const wanted = [2, 5, 7, 9];
      const limitedFiltered = await c.query(coll, { n: { $in: wanted } }, 2);
      assert.deepStrictEqual(limitedFiltered.map((d) => d.n), inIdOrder.filter((n) => wanted.includes(n)).slice(0, 2));

      assert.deepStrictEqual(await c.query(coll, { kind: 'none' }), []);
      assert.deepStrictEqual(await c.query('q_empty_collection'), []);
    });

    it('batchWrite inserts every document and answers their ids', async () => {
      const c = client();
      const docs = Array.from({ length: 25 }, (_, i) => ({ i, label: `doc-${i}` }));
      const r = await c.batchWrite('batch', docs);
      assert.deepStrictEqual(Object.keys(r), ['database', 'collection', 'document_ids', 'count', 'message']);
      assert.strictEqual(r.database, 'default');
      assert.strictEqual(r.collection, 'batch');
      assert.strictEqual(r.count, 25);
      assert.strictEqual(r.message, 'Inserted 25 documents');
      assert.strictEqual(r.document_ids.length, 25);
      assert.strictEqual(new Set(r.document_ids).size, 25);
      for (const id of r.document_ids) assert.match(id, ID);
      const stored = await c.query('batch', {}, 1000);
      assert.strictEqual(stored.length, 25);
      const byId = new Map(stored.map((d) => [d._id, d]));
      r.document_ids.forEach((id, i) => assert.strictEqual(byId.get(id).label, `doc-${i}`));
    });

    it('ping answers the PONG payload', async () => {
      const c = client();
      const pong = await c.ping();
      assert.deepStrictEqual(Object.keys(pong), ['status', 'timestamp']);
      assert.strictEqual(pong.status, 'ok');
      assert.strictEqual(typeof pong.timestamp, 'number');
      assert.ok(Math.abs(pong.timestamp - Date.now() / 1000) < 60, `timestamp ${pong.timestamp}`);
    });

    it('pipelines requests: 100 concurrent creates on one connection, each its own id', async () => {
      const c = client();
      await c.connect();
      const before = suite.srv.connections;
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => c.create('pipe', { i })));
      assert.strictEqual(suite.srv.connections, before, 'no extra connections');
      const ids = answers.map((a) => a.document_id);
      for (const id of ids) assert.match(id, ID);
      assert.strictEqual(new Set(ids).size, 100);
      // Each answer belongs to its own request: document i holds i.
      const docs = await Promise.all(ids.map((id) => c.get('pipe', id)));
      assert.deepStrictEqual(docs.map((d) => d.i), Array.from({ length: 100 }, (_, i) => i));
    });

    it('mixed concurrent requests get their own answers in order', async () => {
      const c = client();
      const { document_id: id } = await c.create('mix', { v: 1 });
      const [pong, doc, missing, upd, q, err] = await Promise.all([
        c.ping(),
        c.get('mix', id),
        c.get('mix', 'nope'),
        c.update('mix', id, { v: 2 }),
        c.query('mix', { v: 2 }),
        rejection(c.delete('mix', 'nope')),
      ]);
      assert.strictEqual(pong.status, 'ok');
      assert.strictEqual(doc.v, 1);
      assert.strictEqual(missing, null);
      assert.strictEqual(upd.message, 'Document updated');
      assert.deepStrictEqual(q.map((d) => d._id), [id]);
      assert.ok(err instanceof NexaNotFoundError);
    });

    it('disconnect() answers the requests in flight first', async () => {
      const c = client();
      await c.connect();
      const created = c.create('inflight', { a: 1 });
      const pong = c.ping();
      const q = c.query('inflight');
      await c.disconnect();
      assert.strictEqual((await created).message, 'Document inserted');
      assert.strictEqual((await pong).status, 'ok');
      assert.ok(Array.isArray(await q));
      assert.strictEqual(c.connected, false);
    });

    it('an answer larger than maxFrameBytes rejects with NexaProtocolError; the client recovers', async () => {
      const writer = client();
      const { document_id: id } = await writer.create('maxframe', { big: 'x'.repeat(5000) });
      const c = client({ maxFrameBytes: 1024 });
      const err = await rejection(c.get('maxframe', id));
      assert.ok(err instanceof NexaClient.NexaProtocolError, `got ${err && err.name}`);
      assert.strictEqual(err.code, 'NEXA_PROTOCOL');
      assert.match(err.message, /maxFrameBytes/);
      // Small answers still work (on a new connection if need be).
      assert.strictEqual((await c.ping()).status, 'ok');
      assert.strictEqual(await c.get('maxframe', 'nope'), null);
    });

    it('values that cannot be sent reject, and the connection stays usable', async () => {
      const c = client();
      await assert.rejects(c.create('bad', { f() {} }), TypeError);
      await assert.rejects(c.create('bad', { s: Symbol('x') }), TypeError);
      await assert.rejects(c.create('bad', { n: 2n ** 64n }), RangeError);
      const cyclic = {};
      cyclic.self = cyclic;
      await assert.rejects(c.create('bad', cyclic), TypeError);
      assert.deepStrictEqual(await c.query('bad'), []);
      assert.strictEqual((await c.ping()).status, 'ok');
    });

    it('argument checks: requests reject with TypeError, watch() throws it', async () => {
      const c = client();
      await assert.rejects(c.create('', {}), TypeError);
      await assert.rejects(c.create(42, {}), TypeError);
      await assert.rejects(c.batchWrite('x', 'not an array'), TypeError);
      await assert.rejects(c.get(null, 'k'), TypeError);
      await assert.rejects(c.query(''), TypeError);
      assert.throws(() => c.watch(5), TypeError);
      assert.throws(() => c.watch('x', ['inserts']), TypeError);
      assert.throws(() => c.watch('x', []), TypeError);
      assert.throws(() => c.watch('x', { operations: 'insert' }), TypeError);
    });
  });
});
