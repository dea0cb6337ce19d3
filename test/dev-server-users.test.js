'use strict';

// The dev server's users, over raw sockets: CREATE_USER, DELETE_USER,
// LIST_USERS, CHANGE_PASSWORD and what non-admins are refused.

const assert = require('assert');
const { T } = require('./helpers/dev-server-raw');
const { Raw, opened, login, ok, error, keys, devServerWithRootPerTest } = require('./helpers/dev-server-requests');

describe('dev server: remaining request types', () => {
  describe('users', function () {
    let server;
    let root;
    devServerWithRootPerTest(this, (s, r) => { server = s; root = r; });

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
});
