'use strict';

// The dev server's databases and per-database permissions, over raw sockets.

const assert = require('assert');
const { startDevServer } = require('../lib/dev-server');
const { T } = require('./helpers/dev-server-raw');
const { login, ok, error, devServerWithRootPerTest } = require('./helpers/dev-server-requests');

describe('dev server: remaining request types', () => {
  describe('databases and permissions', function () {
    let root;
    devServerWithRootPerTest(this, (s, r) => { root = r; });

    it('CREATE_DATABASE, LIST_DATABASES, DROP_DATABASE (both forms)', async () => {
      assert.deepStrictEqual(await ok(root, T.CREATE, { create_database: true, database: 'shop' }),
        { database: 'shop', message: 'Database created' });
      await error(root, T.CREATE, { create_database: true }, "Missing 'database' field");
      const list = await ok(root, T.LIST_DATABASES, {});
      assert.deepStrictEqual(list, { databases: ['default', 'shop'], count: 2 });
      assert.deepStrictEqual(await ok(root, T.LIST_COLLECTIONS, { database: true }), list);

      await ok(root, T.CREATE, { create_database: true, database: 'tmp' });
      assert.deepStrictEqual(await ok(root, T.DROP_DATABASE, { database: 'tmp' }),
        { database: 'tmp', message: "Database 'tmp' dropped successfully" });
      assert.deepStrictEqual(await ok(root, T.DROP_COLLECTION, { drop_database: true, database: 'shop' }),
        { success: true, database: 'shop', message: "Database 'shop' dropped successfully" });
      await error(root, T.DROP_DATABASE, { database: 'shop' }, "Database 'shop' not found");
      await error(root, T.DROP_DATABASE, { database: 'default' }, "Cannot drop 'default' database");
      await error(root, T.DROP_DATABASE, {}, "Missing 'database' field");
      assert.deepStrictEqual(await ok(root, T.LIST_DATABASES, {}), { databases: ['default'], count: 1 });
    });

    it('a database is created by any operation that reaches it, as on the reference', async () => {
      await ok(root, T.QUERY, { collection: 'c', database: 'touched' });
      assert.deepStrictEqual((await ok(root, T.LIST_DATABASES, {})).databases, ['default', 'touched']);
    });

    it('keeps databases apart', async () => {
      const a = await ok(root, T.CREATE, { collection: 'orders', data: { n: 1 }, database: 'east' });
      assert.strictEqual(a.database, 'east');
      await ok(root, T.CREATE, { collection: 'orders', data: { n: 2 }, database: 'west' });
      const east = await ok(root, T.QUERY, { collection: 'orders', database: 'east' });
      assert.deepStrictEqual(east.documents.map((d) => d.n), [1]);
      assert.strictEqual((await ok(root, T.QUERY, { collection: 'orders' })).count, 0);
      assert.strictEqual((await root.request(T.READ, { collection: 'orders', key: a.document_id })).type, T.NOT_FOUND);
      assert.strictEqual((await root.request(T.READ, { collection: 'orders', key: a.document_id, database: 'west' })).type, T.NOT_FOUND);
      await ok(root, T.READ, { collection: 'orders', key: a.document_id, database: 'east' });
      await ok(root, T.UPDATE, { collection: 'orders', key: a.document_id, updates: { n: 5 }, database: 'east' });
      assert.deepStrictEqual(await ok(root, T.LIST_COLLECTIONS, { database: 'west' }),
        { database: 'west', collections: ['orders'], count: 1 });
      await ok(root, T.DROP_DATABASE, { database: 'west' });
      assert.strictEqual((await ok(root, T.QUERY, { collection: 'orders', database: 'east' })).documents[0].n, 5);
      await ok(root, T.DELETE, { collection: 'orders', key: a.document_id, database: 'east' });
      assert.strictEqual((await ok(root, T.QUERY, { collection: 'orders', database: 'east' })).count, 0);
    });

    it('option users may carry database permissions', async () => {
      const s = await startDevServer({
        port: 0,
        users: { root: 'nexadb123', bob: { password: 'pw', databases: { shop: 'read', lab: 'write' } }, wendy: 'pw' },
      });
      try {
        const admin = await login(s);
        await ok(admin, T.CREATE, { collection: 'items', data: { a: 1 }, database: 'shop' });
        const bob = await login(s, 'bob', 'pw');
        assert.strictEqual((await ok(bob, T.QUERY, { collection: 'items', database: 'shop' })).count, 1);
        await error(bob, T.CREATE, { collection: 'items', data: { a: 2 }, database: 'shop' },
          "Permission denied: You don't have 'write' access to database 'shop'");
        await ok(bob, T.CREATE, { collection: 'items', data: { a: 2 }, database: 'lab' });
        await error(bob, T.QUERY, { collection: 'items' }, "Permission denied: You don't have 'read' access to database 'default'");
        // without `databases`, a user given in the options uses every database at its role's level
        const wendy = await login(s, 'wendy', 'pw');
        await ok(wendy, T.CREATE, { collection: 'items', data: { a: 3 } });
        await error(wendy, T.DROP_COLLECTION, { collection: 'items' },
          "Permission denied: You need 'admin' access to drop collections in database 'default'");
      } finally {
        await s.close();
      }
    });
  });
});
