'use strict';
// The user requests (lib/user-requests.js), without a server: they are
// NexaClient's own methods, and each sends its request server-wide (no
// database) with the arguments checked first.
const assert = require('assert');

const NexaClient = require('..');
const { MSG } = require('../lib/connection');
const { UserRequests } = require('../lib/user-requests');

const NAMES = ['createUser', 'deleteUser', 'listUsers', 'changePassword'];

/** A client whose requests are recorded and answered with `answer` instead of sent. */
function recording(answer = { message: 'ok' }) {
  const client = new NexaClient();
  const calls = [];
  client._call = (...args) => {
    calls.push(args);
    return Promise.resolve(answer);
  };
  return { client, calls };
}

describe('user requests', () => {
  it('are methods of NexaClient.prototype like the others: the same functions, not enumerable', () => {
    for (const name of NAMES) {
      const own = Object.getOwnPropertyDescriptor(NexaClient.prototype, name);
      assert.ok(own, name);
      assert.strictEqual(own.value, UserRequests.prototype[name]);
      assert.deepStrictEqual([own.enumerable, own.writable, own.configurable], [false, true, true], name);
    }
    assert.deepStrictEqual(Object.keys(NexaClient.prototype), []);
    assert.notStrictEqual(NexaClient.prototype.constructor, UserRequests);
  });

  it('each sends its request without a database; createUser takes the options in place of the role', async () => {
    const { client, calls } = recording();
    const o = { timeout: 5 };
    await client.createUser('bob', 'secret', 'write', o);
    await client.createUser('ann', 'secret', o);
    await client.deleteUser('bob', o);
    await client.changePassword('bob', 'new-secret', o);
    assert.deepStrictEqual(calls, [
      [MSG.CREATE_USER, { username: 'bob', password: 'secret', role: 'write' }, o, { operation: 'createUser', username: 'bob' }, false],
      [MSG.CREATE_USER, { username: 'ann', password: 'secret', role: 'read' }, o, { operation: 'createUser', username: 'ann' }, false],
      [MSG.DELETE_USER, { username: 'bob' }, o, { operation: 'deleteUser', username: 'bob' }, false],
      [MSG.CHANGE_PASSWORD, { username: 'bob', new_password: 'new-secret' }, o, { operation: 'changePassword', username: 'bob' }, false],
    ]);
  });

  it("listUsers resolves with the server's users map, {} when it has none", async () => {
    const users = { root: { role: 'admin' } };
    const withUsers = recording({ users });
    assert.strictEqual(await withUsers.client.listUsers(), users);
    assert.deepStrictEqual(withUsers.calls, [[MSG.LIST_USERS, {}, undefined, { operation: 'listUsers' }, false]]);
    assert.deepStrictEqual(await recording({}).client.listUsers(), {});
  });

  it('bad names reject with a TypeError before anything is sent', async () => {
    const { client, calls } = recording();
    await assert.rejects(client.createUser('', 'secret'), TypeError);
    await assert.rejects(client.createUser('bob', 7), TypeError);
    await assert.rejects(client.deleteUser(null), TypeError);
    await assert.rejects(client.changePassword('bob', ''), TypeError);
    assert.strictEqual(calls.length, 0);
  });
});
