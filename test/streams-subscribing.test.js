'use strict';
// Change streams: the forms of watch() and what each subscribes to; ready,
// which settles once the subscription is made or refused.
const assert = require('assert');

const NexaClient = require('..');
const { ChangeStream, NexaConnectionError, NexaAuthError } = NexaClient;
const { closedPort, devServerSuite, rejection } = require('./fixtures/helpers');

const DEFAULT_OPS = ['insert', 'update', 'delete'];

describe('change streams', function () {
  this.timeout(10000);

  const suite = devServerSuite();
  const { client } = suite;

  describe('watch() forms', () => {
    const forms = [
      ['watch()', (c) => c.watch(), null, DEFAULT_OPS, 'all collections'],
      ['watch(null)', (c) => c.watch(null), null, DEFAULT_OPS, 'all collections'],
      ["watch(null, {operations: ['insert']})", (c) => c.watch(null, { operations: ['insert'] }), null, ['insert'], 'all collections'],
      ["watch('orders')", (c) => c.watch('orders'), 'orders', DEFAULT_OPS, 'orders'],
      ["watch('orders', {operations: ['insert']})", (c) => c.watch('orders', { operations: ['insert'] }), 'orders', ['insert'], 'orders'],
      ["watch('orders', ['insert'])", (c) => c.watch('orders', ['insert']), 'orders', ['insert'], 'orders'],
      ["watch('orders', ['delete', 'dropCollection'])", (c) => c.watch('orders', ['delete', 'dropCollection']), 'orders', ['delete', 'dropCollection'], 'orders'],
    ];
    for (const [name, make, coll, ops, what] of forms) {
      it(`${name} subscribes to ${coll === null ? 'every collection' : coll} for ${ops.join(', ')}`, async () => {
        const c = client();
        const s = make(c);
        assert.ok(s instanceof ChangeStream);
        assert.strictEqual(s.collection, coll);
        assert.deepStrictEqual(s.operations, ops);
        assert.strictEqual(typeof s[Symbol.asyncIterator], 'function');
        assert.strictEqual(s[Symbol.asyncIterator](), s);
        const ack = await s.ready;
        assert.deepStrictEqual(ack, {
          subscribed: true,
          collection: coll,
          operations: ops,
          message: `Subscribed to change stream for ${what}`,
        });
        assert.deepStrictEqual(Object.keys(ack), ['subscribed', 'collection', 'operations', 'message']);
      });
    }

    it('subscribes at once, without connect() and without next()', async () => {
      const c = client();
      const before = suite.srv.connections;
      const s = c.watch('eager');
      await s.ready;
      assert.strictEqual(suite.srv.connections, before + 1, 'the stream has a connection of its own');
      assert.strictEqual(c.connected, false, 'the request connection is not opened by watch()');
    });

    it('ready rejects when the subscription cannot be made (wrong password), and the iterator reports it', async () => {
      const c = client({ password: 'wrong' });
      const s = c.watch('x');
      const err = await rejection(s.ready, 'ready');
      assert.ok(err instanceof NexaAuthError);
      assert.strictEqual(err.message, 'Invalid username or password');
      await assert.rejects(s.next(), (e) => e === err);
      assert.deepStrictEqual(await s.next(), { value: undefined, done: true });
    });

    it('ready rejects with ECONNREFUSED against a closed port, with no unhandled rejection', async () => {
      const port = await closedPort();
      const seen = [];
      const onRej = (r) => seen.push(r);
      process.on('unhandledRejection', onRej);
      try {
        const c = new NexaClient({ host: '127.0.0.1', port });
        suite.clients.push(c);
        const s = c.watch('x');
        const s2 = c.watch('y'); // nobody looks at this one's ready
        const err = await rejection(s.ready, 'ready');
        assert.ok(err instanceof NexaConnectionError);
        assert.strictEqual(err.code, 'ECONNREFUSED');
        await s2.ready.catch(() => {});
        for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10));
        assert.deepStrictEqual(seen, []);
      } finally {
        process.removeListener('unhandledRejection', onRej);
      }
    });
  });
});
