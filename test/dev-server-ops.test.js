'use strict';

// Tests of the dev server's remaining request types (vectors, TOON, users,
// databases, permissions) and its fault-injection helpers, over raw sockets.

const assert = require('assert');
const { startDevServer } = require('../lib/dev-server');
const { encodeFrame } = require('../lib/dev-server/protocol');
const { RawClient } = require('./fixtures/helpers');

const T = {
  CONNECT: 0x01, CREATE: 0x02, READ: 0x03, UPDATE: 0x04, DELETE: 0x05, QUERY: 0x06, VECTOR_SEARCH: 0x07,
  BATCH_WRITE: 0x08, PING: 0x09, QUERY_TOON: 0x0b, EXPORT_TOON: 0x0c, IMPORT_TOON: 0x0d,
  CREATE_USER: 0x0e, DELETE_USER: 0x0f, LIST_USERS: 0x10, CHANGE_PASSWORD: 0x11,
  LIST_COLLECTIONS: 0x20, DROP_COLLECTION: 0x21, GET_VECTORS: 0x23, SUBSCRIBE: 0x30,
  LIST_DATABASES: 0x40, DROP_DATABASE: 0x42, BUILD_HNSW_INDEX: 0x45,
  SUCCESS: 0x81, ERROR: 0x82, NOT_FOUND: 0x83, PONG: 0x88, EVENT: 0x90,
};

const ID = /^[0-9a-f]{16}$/;

const frame = encodeFrame;

/** A raw protocol client: answers and change events taken apart, each in arrival order. */
class Raw extends RawClient {
  request(type, payload) {
    this.socket.write(frame(type, payload));
    return this.take((f) => f.type !== T.EVENT, 'an answer', 5000);
  }

  eventsCount(n, ms = 5000) {
    return this.until(() => {
      const evs = this.frames.filter((f) => f.type === T.EVENT);
      if (evs.length < n) return undefined;
      const taken = evs.slice(0, n);
      this.frames = this.frames.filter((f) => !taken.includes(f));
      return taken;
    }, `${n} events`, ms);
  }
}

const opened = [];
async function login(server, username = 'root', password = 'nexadb123') {
  const c = await Raw.open(server);
  opened.push(c);
  const f = await c.request(T.CONNECT, { username, password });
  assert.strictEqual(f.type, T.SUCCESS, JSON.stringify(f.payload));
  return c;
}

async function ok(c, type, payload) {
  const f = await c.request(type, payload);
  assert.strictEqual(f.type, T.SUCCESS, `expected SUCCESS, got ${f.type} ${JSON.stringify(f.payload)}`);
  return f.payload;
}

async function error(c, type, payload, text) {
  const f = await c.request(type, payload);
  assert.strictEqual(f.type, T.ERROR, `expected ERROR, got ${f.type} ${JSON.stringify(f.payload)}`);
  assert.deepStrictEqual(f.payload, { error: text });
}

function keys(o) {
  return Object.keys(o);
}

describe('dev server: remaining request types', function () {
  this.timeout(20000);
  let server;
  let root;

  beforeEach(async () => {
    server = await startDevServer({ port: 0 });
    root = await login(server);
  });

  afterEach(async () => {
    while (opened.length) opened.pop().end();
    await server.close();
  });

  describe('VECTOR_SEARCH, GET_VECTORS, BUILD_HNSW_INDEX', () => {
    async function seed(c, database) {
      const ids = {};
      for (const [name, vector] of [['x', [1, 0, 0]], ['xy', [0.7, 0.7, 0]], ['z', [0, 0, 1]], ['mostly-x', [0.9, 0.1, 0]]]) {
        const data = { name, vector, price: name.length };
        const a = await ok(c, T.CREATE, database ? { collection: 'vecs', data, database } : { collection: 'vecs', data });
        ids[name] = a.document_id;
      }
      return ids;
    }

    it('ranks the nearest first, with the reference answer shape', async () => {
      const ids = await seed(root);
      const a = await ok(root, T.VECTOR_SEARCH, { collection: 'vecs', vector: [1, 0, 0], limit: 3, dimensions: 3 });
      assert.deepStrictEqual(keys(a), ['database', 'collection', 'results', 'count']);
      assert.strictEqual(a.database, 'default');
      assert.strictEqual(a.count, 3);
      assert.deepStrictEqual(a.results.map((r) => r.document.name), ['x', 'mostly-x', 'xy']);
      for (const r of a.results) {
        assert.deepStrictEqual(keys(r), ['document_id', 'similarity', 'document']);
        assert.strictEqual(r.document_id, ids[r.document.name]);
        assert.ok(!('vector' in r.document), 'the stored document does not hold its vector');
        assert.deepStrictEqual(keys(r.document), ['_id', '_created_at', '_updated_at', 'name', 'price']);
      }
      assert.ok(a.results[0].similarity > 0.999 && a.results[0].similarity <= 1);
      assert.ok(a.results[0].similarity > a.results[1].similarity);
      assert.ok(a.results[1].similarity > a.results[2].similarity);
      // READ shows no vector either
      const read = await ok(root, T.READ, { collection: 'vecs', key: ids.x });
      assert.ok(!('vector' in read.document));
    });

    it('defaults: limit 10, dimensions 768 (a shorter vector is refused)', async () => {
      await seed(root);
      await error(root, T.VECTOR_SEARCH, { collection: 'vecs', vector: [1, 0, 0] }, 'Query vector must have 768 dimensions');
      const a = await ok(root, T.VECTOR_SEARCH, { collection: 'vecs', vector: [0, 0, 1], dimensions: 3 });
      assert.strictEqual(a.count, 4);
      assert.strictEqual(a.results[0].document.name, 'z');
      await error(root, T.VECTOR_SEARCH, { collection: 'vecs' }, "Missing 'collection' or 'vector' field");
      await error(root, T.VECTOR_SEARCH, { vector: [1] }, "Missing 'collection' or 'vector' field");
    });

    it('applies the filters to the nearest `limit`', async () => {
      await seed(root);
      const a = await ok(root, T.VECTOR_SEARCH, {
        collection: 'vecs', vector: [1, 0, 0], dimensions: 3, limit: 10, filters: { price: { $gte: 2 } },
      });
      assert.deepStrictEqual(a.results.map((r) => r.document.name), ['mostly-x', 'xy']);
      const b = await ok(root, T.VECTOR_SEARCH, {
        collection: 'vecs', vector: [1, 0, 0], dimensions: 3, limit: 1, filters: { name: 'xy' },
      });
      assert.deepStrictEqual(b, { database: 'default', collection: 'vecs', results: [], count: 0 });
    });

    it('refuses a vector whose length differs from the collection\'s', async () => {
      await seed(root);
      await error(root, T.CREATE, { collection: 'vecs', data: { vector: [1, 2] } },
        'Vector dimension mismatch: collection expects 3 dimensions, got 2');
    });

    it('keeps vectors per database', async () => {
      await seed(root, 'lab');
      const a = await ok(root, T.VECTOR_SEARCH, { collection: 'vecs', vector: [1, 0, 0], dimensions: 3 });
      assert.strictEqual(a.count, 0);
      const b = await ok(root, T.VECTOR_SEARCH, { collection: 'vecs', vector: [1, 0, 0], dimensions: 3, database: 'lab' });
      assert.strictEqual(b.database, 'lab');
      assert.strictEqual(b.count, 4);
    });

    it('BATCH_WRITE stores vectors too', async () => {
      const a = await ok(root, T.BATCH_WRITE, {
        collection: 'bv', documents: [{ n: 1, vector: [1, 0] }, { n: 2 }, { n: 3, vector: [0, 1] }],
      });
      assert.strictEqual(a.count, 3);
      const s = await ok(root, T.VECTOR_SEARCH, { collection: 'bv', vector: [0, 1], dimensions: 2 });
      assert.deepStrictEqual(s.results.map((r) => r.document.n), [3, 1]);
    });

    it('GET_VECTORS reports vectors per collection', async () => {
      const ids = await seed(root);
      const a = await ok(root, T.GET_VECTORS, {});
      assert.deepStrictEqual(keys(a), ['database', 'status', 'total_vectors', 'collections']);
      assert.strictEqual(a.status, 'success');
      assert.strictEqual(a.total_vectors, 4);
      assert.deepStrictEqual(keys(a.collections), ['vecs']);
      assert.deepStrictEqual(keys(a.collections.vecs), ['count', 'documents', 'dimensions']);
      assert.strictEqual(a.collections.vecs.count, 4);
      assert.strictEqual(a.collections.vecs.dimensions, 3);
      assert.deepStrictEqual(a.collections.vecs.documents.map((d) => d.doc_id).sort(), Object.values(ids).sort());
      assert.deepStrictEqual(keys(a.collections.vecs.documents[0]), ['doc_id', 'dimensions']);
      const other = await ok(root, T.GET_VECTORS, { database: 'elsewhere' });
      assert.deepStrictEqual(other, { database: 'elsewhere', status: 'success', total_vectors: 0, collections: {} });
    });

    it('BUILD_HNSW_INDEX answers as the reference', async () => {
      await seed(root);
      const a = await ok(root, T.BUILD_HNSW_INDEX, { collection: 'vecs', M: 32, ef_construction: 100 });
      assert.deepStrictEqual(a, {
        status: 'success', collection: 'vecs', database: 'default', num_vectors: 4,
        message: 'HNSW index built with 4 vectors',
      });
      await error(root, T.BUILD_HNSW_INDEX, { collection: 'plain' }, "No vectors found in collection 'plain'");
      await error(root, T.BUILD_HNSW_INDEX, {}, "Missing 'collection' field");
    });
  });

  describe('QUERY_TOON, EXPORT_TOON, IMPORT_TOON', () => {
    async function people() {
      await ok(root, T.CREATE, { collection: 'people', data: { name: 'Ada', age: 36, active: true } });
      await ok(root, T.CREATE, { collection: 'people', data: { name: 'Bob, Jr', age: 40.5, active: false } });
      await ok(root, T.CREATE, { collection: 'people', data: { name: 'Cy', note: null } });
      return (await ok(root, T.QUERY, { collection: 'people' })).documents;
    }

    it('QUERY_TOON answers TOON text and token stats', async () => {
      const docs = await people();
      const a = await ok(root, T.QUERY_TOON, { collection: 'people', filters: {}, limit: 100 });
      assert.deepStrictEqual(keys(a), ['database', 'collection', 'format', 'data', 'count', 'token_stats']);
      assert.strictEqual(a.format, 'TOON');
      assert.strictEqual(a.count, 3);
      const cell = (v) => (v === undefined || v === null ? 'null' : typeof v === 'string' && v.includes(',') ? JSON.stringify(v) : String(v));
      // the columns: every document's keys, in first-seen order over the documents (sorted by _id)
      const fields = [];
      for (const d of docs) for (const k of Object.keys(d)) if (!fields.includes(k)) fields.push(k);
      assert.deepStrictEqual([...fields].sort(), ['_created_at', '_id', '_updated_at', 'active', 'age', 'name', 'note']);
      const expected = [
        'collection: people',
        `documents[3]{${fields.join(',')}}:`,
        ...docs.map((d) => `  ${fields.map((f) => cell(d[f])).join(',')}`),
        'count: 3',
      ].join('\n');
      assert.strictEqual(a.data, expected);
      assert.deepStrictEqual(keys(a.token_stats), ['json_size', 'toon_size', 'reduction_percent']);
      assert.strictEqual(a.token_stats.toon_size, a.data.length);
      // Python's json.dumps({'documents': docs}): ", " and ": " separators
      const pyJson = JSON.stringify({ documents: docs }).replace(/","/g, '", "').replace(/":/g, '": ')
        .replace(/,"/g, ', "').replace(/\},\{/g, '}, {');
      assert.strictEqual(a.token_stats.json_size, pyJson.length);
      const pct = Math.round(((pyJson.length - a.data.length) / pyJson.length) * 1000) / 10;
      assert.strictEqual(a.token_stats.reduction_percent, pct);
    });

    it('QUERY_TOON honours filters, limit and database', async () => {
      await people();
      const a = await ok(root, T.QUERY_TOON, { collection: 'people', filters: { name: 'Ada' } });
      assert.strictEqual(a.count, 1);
      assert.ok(a.data.startsWith('collection: people\ndocuments[1]{_id,_created_at,_updated_at,name,age,active}:\n'));
      const b = await ok(root, T.QUERY_TOON, { collection: 'people', database: 'other' });
      assert.strictEqual(b.database, 'other');
      assert.strictEqual(b.data, 'collection: people\ndocuments[0]:\ncount: 0');
      await error(root, T.QUERY_TOON, {}, "Missing 'collection' field");
    });

    it('EXPORT_TOON then IMPORT_TOON round-trips the documents', async () => {
      const docs = await people();
      const e = await ok(root, T.EXPORT_TOON, { collection: 'people' });
      assert.deepStrictEqual(keys(e), ['database', 'collection', 'format', 'data', 'count', 'token_stats']);
      assert.deepStrictEqual(keys(e.token_stats), ['json_size', 'toon_size', 'reduction_percent', 'estimated_cost_savings']);
      assert.match(e.token_stats.estimated_cost_savings, /^~-?\d+\.0% less tokens for LLM processing$/);
      assert.match(e.data, /\ncount: 3\nexported_at: \d+\.\d+$/);

      const i = await ok(root, T.IMPORT_TOON, { collection: 'copy', toon_data: e.data, database: 'backup' });
      assert.deepStrictEqual(keys(i), ['database', 'collection', 'imported', 'replaced', 'document_ids', 'message']);
      assert.strictEqual(i.imported, 3);
      assert.strictEqual(i.replaced, false);
      assert.strictEqual(i.message, 'Successfully imported 3 documents from TOON format');
      i.document_ids.forEach((id) => assert.match(id, ID));
      const copied = (await ok(root, T.QUERY, { collection: 'copy', database: 'backup' })).documents;
      const strip = ({ name, age, active, note }) => ({ name, age, active, note });
      const norm = (d) => JSON.stringify(strip(d), (k, v) => (v === undefined ? null : v));
      assert.deepStrictEqual(copied.map(norm).sort(), docs.map(norm).sort());
      // the default database is untouched
      assert.strictEqual((await ok(root, T.QUERY, { collection: 'copy' })).count, 0);
    });

    it('IMPORT_TOON replace empties the collection first', async () => {
      await people();
      const i = await ok(root, T.IMPORT_TOON, {
        collection: 'people', replace: true, toon_data: 'documents[2]{name,age}:\n  Zed,1\n  Yan,2',
      });
      assert.strictEqual(i.imported, 2);
      assert.strictEqual(i.replaced, true);
      const docs = (await ok(root, T.QUERY, { collection: 'people' })).documents;
      assert.deepStrictEqual(docs.map((d) => d.name).sort(), ['Yan', 'Zed']);
      const single = await ok(root, T.IMPORT_TOON, { collection: 'one', toon_data: 'name: Solo\nn: 3' });
      assert.strictEqual(single.imported, 1);
      const one = (await ok(root, T.QUERY, { collection: 'one' })).documents[0];
      assert.strictEqual(one.name, 'Solo');
      assert.strictEqual(one.n, 3);
      await error(root, T.IMPORT_TOON, { collection: 'x' }, "Missing 'toon_data' field");
      await error(root, T.IMPORT_TOON, { toon_data: 'a: 1' }, "Missing 'collection' field");
      await error(root, T.IMPORT_TOON, { collection: 'x', toon_data: 'rows[two]{a}:\n  1' },
        "Failed to import TOON data: invalid literal for int() with base 10: 'two'");
    });
  });

  describe('users', () => {
    it('lifecycle: create, connect, change password, old one refused, delete', async () => {
      const created = await ok(root, T.CREATE_USER, { username: 'ann', password: 'pw1', role: 'write' });
      assert.deepStrictEqual(keys(created), ['message', 'username', 'password', 'api_key', 'role', 'note']);
      assert.strictEqual(created.message, "User 'ann' created successfully");
      assert.strictEqual(created.password, 'pw1');
      assert.strictEqual(created.role, 'write');
      assert.match(created.api_key, /^nxdb_[A-Za-z0-9_-]{43}$/);
      assert.strictEqual(created.note, '\u26a0\ufe0f Save these credentials! Password and API key are only shown once.');

      const ann = await Raw.open(server);
      opened.push(ann);
      const hello = await ann.request(T.CONNECT, { username: 'ann', password: 'pw1' });
      assert.strictEqual(hello.type, T.SUCCESS);
      assert.strictEqual(hello.payload.username, 'ann');
      assert.strictEqual(hello.payload.role, 'write');

      const changed = await ok(ann, T.CHANGE_PASSWORD, { username: 'ann', new_password: 'pw2' });
      assert.deepStrictEqual(changed, { message: "Password changed successfully for user 'ann'" });
      await error(ann, T.CHANGE_PASSWORD, { username: 'root', new_password: 'x' },
        'Permission denied. You can only change your own password.');

      const again = await Raw.open(server);
      opened.push(again);
      await error(again, T.CONNECT, { username: 'ann', password: 'pw1' }, 'Invalid username or password');
      assert.strictEqual((await again.request(T.CONNECT, { username: 'ann', password: 'pw2' })).type, T.SUCCESS);

      // an admin may change anyone's password
      await ok(root, T.CHANGE_PASSWORD, { username: 'ann', new_password: 'pw3' });
      await error(again, T.CONNECT, { username: 'ann', password: 'pw2' }, 'Invalid username or password');

      assert.deepStrictEqual(await ok(root, T.DELETE_USER, { username: 'ann' }), { message: "User 'ann' deleted successfully" });
      const gone = await Raw.open(server);
      opened.push(gone);
      await error(gone, T.CONNECT, { username: 'ann', password: 'pw3' }, 'Invalid username or password');
    });

    it('LIST_USERS answers a map of users', async () => {
      await ok(root, T.CREATE_USER, { username: 'reader', password: 'pw' });
      const a = await ok(root, T.LIST_USERS, {});
      assert.deepStrictEqual(keys(a), ['users', 'count']);
      assert.strictEqual(a.count, 2);
      assert.deepStrictEqual(keys(a.users), ['root', 'reader']);
      assert.deepStrictEqual(keys(a.users.reader), ['role', 'api_key_prefix', 'created_at', 'last_login', 'password_changed_at']);
      assert.strictEqual(a.users.reader.role, 'read'); // the default role
      assert.match(a.users.reader.api_key_prefix, /^nxdb_[A-Za-z0-9_-]{10}\.\.\.$/);
      assert.strictEqual(typeof a.users.reader.created_at, 'number');
      assert.strictEqual(a.users.reader.last_login, null);
      assert.strictEqual(a.users.reader.password_changed_at, null);
      assert.strictEqual(typeof a.users.root.last_login, 'number');
    });

    it('refuses non-admins, with the reference texts', async () => {
      await ok(root, T.CREATE_USER, { username: 'rita', password: 'pw', role: 'read' });
      const rita = await login(server, 'rita', 'pw');
      await error(rita, T.CREATE_USER, { username: 'x', password: 'y' }, 'Permission denied. Only admins can create users.');
      await error(rita, T.DELETE_USER, { username: 'root' }, 'Permission denied. Only admins can delete users.');
      await error(rita, T.LIST_USERS, {}, 'Permission denied. Only admins can list users.');
      await error(rita, T.CREATE, { create_database: true, database: 'x' }, 'Permission denied. Only admins can create databases.');
      await error(rita, T.DROP_COLLECTION, { drop_database: true, database: 'x' }, 'Permission denied. Only admins can drop databases.');
      // A user made by CREATE_USER has no database permissions: refused everywhere.
      await error(rita, T.QUERY, { collection: 'c' }, "Permission denied: You don't have 'read' access to database 'default'");
      await error(rita, T.READ, { collection: 'c', key: 'k' }, "Permission denied: You don't have 'read' access to database 'default'");
      await error(rita, T.CREATE, { collection: 'c', data: { a: 1 }, database: 'shop' },
        "Permission denied: You don't have 'write' access to database 'shop'");
      await error(rita, T.BATCH_WRITE, { collection: 'c', documents: [{ a: 1 }] },
        "Permission denied: You don't have 'write' access to database 'default'");
      await error(rita, T.VECTOR_SEARCH, { collection: 'c', vector: [1] },
        "Permission denied: You don't have 'read' access to database 'default'");
      await error(rita, T.DROP_COLLECTION, { collection: 'c' },
        "Permission denied: You need 'admin' access to drop collections in database 'default'");
      await error(rita, T.BUILD_HNSW_INDEX, { collection: 'c' },
        "Permission denied: You need 'write' access to build indexes in database 'default'");
      // missing fields are reported before the permission check, as on the reference
      await error(rita, T.QUERY, {}, "Missing 'collection' field");
      // not checked by the reference: TOON, GET_VECTORS, LIST_DATABASES
      await ok(rita, T.QUERY_TOON, { collection: 'c' });
      await ok(rita, T.GET_VECTORS, {});
      await ok(rita, T.LIST_DATABASES, {});
    });

    it('refuses bad requests', async () => {
      await error(root, T.CREATE_USER, { username: 'x' }, "Missing 'username' or 'password' field");
      await error(root, T.CREATE_USER, { username: 'x', password: 'y', role: 'boss' },
        'Invalid role. Must be one of: admin, write, read, guest');
      await ok(root, T.CREATE_USER, { username: 'x', password: 'y' });
      await error(root, T.CREATE_USER, { username: 'x', password: 'z' }, "User 'x' already exists");
      await error(root, T.DELETE_USER, {}, "Missing 'username' field");
      await error(root, T.DELETE_USER, { username: 'root' }, 'Cannot delete root user');
      await error(root, T.DELETE_USER, { username: 'nobody' }, "User 'nobody' not found");
      await error(root, T.CHANGE_PASSWORD, { username: 'x' }, "Missing 'username' or 'new_password' field");
      await error(root, T.CHANGE_PASSWORD, { username: 'nobody', new_password: 'p' }, "Failed to change password for user 'nobody'");
    });

    it('an admin user made by CREATE_USER can do admin work', async () => {
      await ok(root, T.CREATE_USER, { username: 'boss', password: 'pw', role: 'admin' });
      const boss = await login(server, 'boss', 'pw');
      await ok(boss, T.CREATE, { collection: 'c', data: { a: 1 } });
      await ok(boss, T.LIST_USERS, {});
    });
  });

  describe('databases and permissions', () => {
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

describe('dev server: fault injection', function () {
  this.timeout(30000);

  afterEach(() => {
    while (opened.length) opened.pop().end();
  });

  it('dropConnections() destroys every client socket and keeps listening', async () => {
    const server = await startDevServer({ port: 0 });
    try {
      const a = await login(server);
      const b = await Raw.open(server);
      opened.push(b);
      assert.strictEqual(server.connections, 2);
      assert.strictEqual(server.dropConnections(), 2);
      await a.waitClosed();
      await b.waitClosed();
      assert.strictEqual(server.connections, 0);
      const c = await login(server);
      assert.strictEqual((await c.request(T.PING, {})).type, T.PONG);
      assert.strictEqual(server.connections, 1);
    } finally {
      await server.close();
    }
  });

  /** Inserts `n` documents in one BATCH_WRITE and collects the subscriber's events. */
  async function burst(server, watcher, writer, n) {
    const documents = Array.from({ length: n }, (_, i) => ({ i }));
    const a = await ok(writer, T.BATCH_WRITE, { collection: 'burst', documents });
    const events = (await watcher.eventsCount(n)).map((e) => e.payload);
    return { ids: a.document_ids, events };
  }

  function inTimestampOrder(events) {
    for (let i = 1; i < events.length; i++) if (events[i].timestamp < events[i - 1].timestamp) return false;
    return true;
  }

  it('without shuffleEvents, a burst arrives in timestamp order', async () => {
    const server = await startDevServer({ port: 0 });
    try {
      const watcher = await login(server);
      await ok(watcher, T.SUBSCRIBE, { collection: 'burst' });
      const writer = await login(server);
      const { ids, events } = await burst(server, watcher, writer, 200);
      assert.deepStrictEqual(events.map((e) => e.documentKey._id), ids);
      assert.ok(inTimestampOrder(events));
    } finally {
      await server.close();
    }
  });

  it('shuffleEvents: a burst is complete, in a shuffled order', async () => {
    const server = await startDevServer({ port: 0, shuffleEvents: true });
    try {
      const watcher = await login(server);
      await ok(watcher, T.SUBSCRIBE, { collection: 'burst' });
      const writer = await login(server);
      let shuffled = 0;
      for (let round = 0; round < 5; round++) {
        const { ids, events } = await burst(server, watcher, writer, 200);
        const got = events.map((e) => e.documentKey._id);
        assert.strictEqual(new Set(got).size, 200, 'no event twice');
        assert.deepStrictEqual([...got].sort(), [...ids].sort(), 'every insert has its event');
        events.forEach((e) => assert.strictEqual(e.operationType, 'insert'));
        // timestamps still tell the order of the changes
        const byTime = [...events].sort((x, y) => x.timestamp - y.timestamp).map((e) => e.documentKey._id);
        assert.deepStrictEqual(byTime, ids);
        if (!inTimestampOrder(events)) shuffled++;
      }
      // 200! orders: the chance of one sorted shuffle is nil; allow for it anyway
      assert.ok(shuffled >= 1, 'the order differs from timestamp order');
      // the writer's answers are unaffected, and nothing else is pending
      assert.strictEqual((await writer.request(T.PING, {})).type, T.PONG);
      assert.strictEqual(watcher.frames.filter((f) => f.type === T.EVENT).length, 0);
    } finally {
      await server.close();
    }
  });
});
