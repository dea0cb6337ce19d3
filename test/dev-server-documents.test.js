'use strict';

// The dev server's documents, over raw sockets: CRUD, batches, databases,
// missing fields, refused binary values, listing and dropping, and QUERY
// filters compared with the reference server's answers.

const assert = require('assert');
const { T, ID, DATE, authed, devServerPerTest } = require('./helpers/dev-server-raw');

describe('dev server', function () {
  let server;
  devServerPerTest(this, (s) => { server = s; });

  describe('documents', () => {
    let c;
    beforeEach(async () => { c = await authed(server); });
    afterEach(() => c.end());

    async function insert(collection, data, database) {
      const f = await c.request(T.CREATE, { collection, data, ...(database ? { database } : {}) });
      assert.strictEqual(f.type, T.SUCCESS, JSON.stringify(f.payload));
      return f.payload.document_id;
    }

    it('creates, reads, updates and deletes, with the stored key order', async () => {
      const id = await insert('people', { name: 'Ann', age: 30 });
      assert.match(id, ID);
      let f = await c.request(T.READ, { collection: 'people', key: id });
      assert.deepStrictEqual(Object.keys(f.payload), ['database', 'collection', 'document']);
      const doc = f.payload.document;
      assert.deepStrictEqual(Object.keys(doc), ['_id', '_created_at', '_updated_at', 'name', 'age']);
      assert.match(doc._created_at, DATE);
      assert.strictEqual(doc._created_at, doc._updated_at);
      await new Promise((r) => setTimeout(r, 2));
      f = await c.request(T.UPDATE, { collection: 'people', key: id, updates: { city: 'Oslo', age: 31 } });
      assert.deepStrictEqual(f.payload, { database: 'default', collection: 'people', document_id: id, message: 'Document updated' });
      const updated = (await c.request(T.READ, { collection: 'people', key: id })).payload.document;
      assert.deepStrictEqual(Object.keys(updated), ['_id', '_created_at', '_updated_at', 'name', 'age', 'city']);
      assert.strictEqual(updated.age, 31);
      assert.ok(updated._updated_at > doc._updated_at);
      // As on the reference server, an update stamps _created_at too.
      assert.strictEqual(updated._created_at, updated._updated_at);
      f = await c.request(T.DELETE, { collection: 'people', key: id });
      assert.deepStrictEqual(f.payload, { database: 'default', collection: 'people', document_id: id, message: 'Document deleted' });
      for (const [type, extra] of [[T.READ, {}], [T.UPDATE, { updates: { a: 1 } }], [T.DELETE, {}]]) {
        f = await c.request(type, { collection: 'people', key: id, ...extra });
        assert.strictEqual(f.type, T.NOT_FOUND);
        assert.deepStrictEqual(f.payload, { error: 'Not found' });
      }
    });

    it('keeps databases apart', async () => {
      const id = await insert('things', { a: 1 }, 'other');
      let f = await c.request(T.READ, { collection: 'things', key: id });
      assert.strictEqual(f.type, T.NOT_FOUND);
      f = await c.request(T.READ, { collection: 'things', key: id, database: 'other' });
      assert.strictEqual(f.payload.database, 'other');
      assert.strictEqual(f.payload.document.a, 1);
    });

    it('inserts a batch', async () => {
      const f = await c.request(T.BATCH_WRITE, { collection: 'b', documents: [{ n: 1 }, { n: 2 }, { n: 3 }] });
      assert.deepStrictEqual(Object.keys(f.payload), ['database', 'collection', 'document_ids', 'count', 'message']);
      assert.strictEqual(f.payload.count, 3);
      assert.strictEqual(f.payload.message, 'Inserted 3 documents');
      assert.strictEqual(new Set(f.payload.document_ids).size, 3);
      const q = await c.request(T.QUERY, { collection: 'b' });
      assert.deepStrictEqual(q.payload.documents.map((d) => d.n).sort(), [1, 2, 3]);
    });

    it('names missing fields as the reference server does', async () => {
      const cases = [
        [T.CREATE, { collection: 'x' }, "Missing 'collection' or 'data' field"],
        [T.CREATE, { collection: 'x', data: {} }, "Missing 'collection' or 'data' field"],
        [T.READ, { collection: 'x' }, "Missing 'collection' or 'key' field"],
        [T.UPDATE, { collection: 'x', key: 'k' }, "Missing 'collection', 'key', or 'updates' field"],
        [T.DELETE, { key: 'k' }, "Missing 'collection' or 'key' field"],
        [T.QUERY, {}, "Missing 'collection' field"],
        [T.BATCH_WRITE, { collection: 'x', documents: [] }, "Missing 'collection' or 'documents' field"],
        [T.DROP_COLLECTION, {}, "Missing 'collection' field"],
      ];
      for (const [type, payload, error] of cases) {
        const f = await c.request(type, payload);
        assert.strictEqual(f.type, T.ERROR, error);
        assert.deepStrictEqual(f.payload, { error });
      }
    });

    it('refuses binary values anywhere in a document, in CREATE, UPDATE and BATCH_WRITE', async () => {
      const id = await insert('bin', { a: 1 });
      const refused = { error: 'Object of type bytes is not JSON serializable' };
      const cases = [
        [T.CREATE, { collection: 'bin', data: { deep: [{ b: Buffer.from([1]) }] } }],
        [T.UPDATE, { collection: 'bin', key: id, updates: { b: Buffer.from([1]) } }],
        [T.BATCH_WRITE, { collection: 'bin', documents: [{ ok: 1 }, { b: Buffer.from([1]) }] }],
      ];
      for (const [type, payload] of cases) {
        const f = await c.request(type, payload);
        assert.strictEqual(f.type, T.ERROR);
        assert.deepStrictEqual(f.payload, refused);
      }
      const q = await c.request(T.QUERY, { collection: 'bin' });
      assert.strictEqual(q.payload.count, 1, 'nothing was written');
    });

    it('lists and drops collections and databases', async () => {
      await insert('zeta', { a: 1 });
      await insert('alpha', { a: 1 });
      await insert('elsewhere', { a: 1 }, 'db2');
      let f = await c.request(T.LIST_COLLECTIONS, {});
      assert.deepStrictEqual(f.payload, { database: 'default', collections: ['alpha', 'zeta'], count: 2 });
      f = await c.request(T.LIST_COLLECTIONS, { database: 'db2' });
      assert.deepStrictEqual(f.payload, { database: 'db2', collections: ['elsewhere'], count: 1 });
      f = await c.request(T.DROP_COLLECTION, { collection: 'zeta' });
      assert.deepStrictEqual(f.payload, { database: 'default', collection: 'zeta', message: 'Collection dropped' });
      f = await c.request(T.DROP_COLLECTION, { collection: 'zeta' });
      assert.strictEqual(f.type, T.ERROR);
      assert.deepStrictEqual(f.payload, { error: "Collection 'zeta' not found in database 'default'" });
      f = await c.request(T.LIST_COLLECTIONS, {});
      assert.deepStrictEqual(f.payload.collections, ['alpha']);
      f = await c.request(T.QUERY, { collection: 'zeta' });
      assert.strictEqual(f.payload.count, 0);
      f = await c.request(T.LIST_DATABASES, {});
      assert.deepStrictEqual(f.payload, { databases: ['db2', 'default'], count: 2 });
      f = await c.request(T.DROP_COLLECTION, { drop_database: true, database: 'default' });
      assert.deepStrictEqual(f.payload, { error: "Cannot drop 'default' database" });
    });
  });

  describe('queries', () => {
    let c;
    const people = [
      { name: 'ann', age: 30, tags: 'a', city: 'Oslo' },
      { name: 'bob', age: 25, city: 'Rome', info: { level: 2 } },
      { name: 'cid', age: 41, city: null },
      { name: 'dee', age: 30, city: 'Oslo', info: { level: 5 } },
    ];

    before(async () => {});
    beforeEach(async () => {
      c = await authed(server);
      const f = await c.request(T.BATCH_WRITE, { collection: 'p', documents: people });
      assert.strictEqual(f.payload.count, 4);
    });
    afterEach(() => c.end());

    async function names(filters, extra = {}) {
      const f = await c.request(T.QUERY, { collection: 'p', filters, ...extra });
      assert.strictEqual(f.type, T.SUCCESS, JSON.stringify(f.payload));
      assert.deepStrictEqual(Object.keys(f.payload), ['database', 'collection', 'documents', 'count']);
      assert.strictEqual(f.payload.count, f.payload.documents.length);
      return f.payload.documents.map((d) => d.name).sort();
    }

    it('matches plain values and each operator', async () => {
      assert.deepStrictEqual(await names({}), ['ann', 'bob', 'cid', 'dee']);
      assert.deepStrictEqual(await names({ age: 30 }), ['ann', 'dee']);
      assert.deepStrictEqual(await names({ age: { $eq: 25 } }), ['bob']);
      assert.deepStrictEqual(await names({ age: { $ne: 30 } }), ['bob', 'cid']);
      assert.deepStrictEqual(await names({ age: { $gt: 30 } }), ['cid']);
      assert.deepStrictEqual(await names({ age: { $gte: 30 } }), ['ann', 'cid', 'dee']);
      assert.deepStrictEqual(await names({ age: { $lt: 30 } }), ['bob']);
      assert.deepStrictEqual(await names({ age: { $lte: 30 } }), ['ann', 'bob', 'dee']);
      assert.deepStrictEqual(await names({ name: { $in: ['bob', 'dee', 'zed'] } }), ['bob', 'dee']);
      assert.deepStrictEqual(await names({ name: { $nin: ['bob', 'dee'] } }), ['ann', 'cid']);
      assert.deepStrictEqual(await names({ info: { $exists: true } }), ['bob', 'dee']);
      // A nil field does not "exist", as on the reference server.
      assert.deepStrictEqual(await names({ city: { $exists: false } }), ['cid']);
      assert.deepStrictEqual(await names({ name: { $regex: '^[ab]' } }), ['ann', 'bob']);
      assert.deepStrictEqual(await names({ city: { $regex: 'None' } }), ['cid'], 'nil reads as Python None');
    });

    it('ANDs fields and operators, reaches nested fields, and limits', async () => {
      assert.deepStrictEqual(await names({ age: 30, city: 'Oslo' }), ['ann', 'dee']);
      assert.deepStrictEqual(await names({ age: { $gte: 25, $lt: 41 }, city: { $ne: 'Rome' } }), ['ann', 'dee']);
      assert.deepStrictEqual(await names({ 'info.level': 5 }), ['dee']);
      assert.deepStrictEqual(await names({ 'info.level': { $in: [2, 5] }, 'name.first': null }), ['bob', 'dee']);
      assert.strictEqual((await names({}, { limit: 2 })).length, 2);
      assert.strictEqual((await names({ age: 30 }, { limit: 1 })).length, 1);
    });

    it('returns documents ordered by _id', async () => {
      const f = await c.request(T.QUERY, { collection: 'p' });
      const ids = f.payload.documents.map((d) => d._id);
      assert.deepStrictEqual(ids, ids.slice().sort());
    });

    it('answers ERROR where Python cannot compare', async () => {
      let f = await c.request(T.QUERY, { collection: 'p', filters: { nope: { $lt: 1 } } });
      assert.strictEqual(f.type, T.ERROR);
      assert.deepStrictEqual(f.payload, { error: "'<' not supported between instances of 'NoneType' and 'int'" });
      f = await c.request(T.QUERY, { collection: 'p', filters: { age: { $gte: 'x' } } });
      assert.deepStrictEqual(f.payload, { error: "'>=' not supported between instances of 'int' and 'str'" });
    });
  });
});
