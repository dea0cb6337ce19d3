'use strict';

// The dev server's fault injection, over raw sockets: dropConnections() and
// shuffleEvents.

const assert = require('assert');
const { startDevServer } = require('../lib/dev-server');
const { T } = require('./helpers/dev-server-raw');
const { Raw, opened, login, ok, endOpened } = require('./helpers/dev-server-requests');

describe('dev server: fault injection', function () {
  this.timeout(30000);

  afterEach(endOpened);

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
