'use strict';
// nexaclient/relay's close(): what NexaDB already delivered is appended, and
// the relay's last record says it stopped.
const assert = require('assert');
const NexaClient = require('..');
const { startDevServer } = require('../lib/dev-server');
const { writeChanges, relayRig } = require('./helpers/relay-rig');

// Everything a test opens is ended after it, also when it fails.
const { live, relay } = relayRig();
const { waitFor } = require('./fixtures/helpers');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const itemOf = (e) => JSON.parse(e.fields[e.fields.indexOf('event') + 1]);

/** A sink that takes 50 ms an append, keeping what it got and the relays' records. */
function slowSink() {
  const sink = {
    appended: [],
    kept: new Map(), // relay id -> its record
    async open() {},
    async append(entries) {
      await sleep(50);
      sink.appended.push(...entries);
      return { appended: entries.length, duplicates: 0 };
    },
    async putRecord(id, rec) { sink.kept.set(id, rec); },
    async records() { return new Map(sink.kept); },
    async removeRecords(ids) { for (const id of ids) sink.kept.delete(id); },
    async close() {},
  };
  return sink;
}

describe('relay: closing', function () {
  this.timeout(60000);
  afterEach(() => live.endAll());
  let server;
  let client;

  before(async () => {
    server = await startDevServer({ port: 0 });
    client = new NexaClient({ host: server.host, port: server.port });
    await client.connect();
  });

  after(async () => {
    if (client) await client.disconnect();
    if (server) await server.close();
  });

  /**
   * A relay behind a slow sink, 500 changes delivered to it (a watcher of
   * the test's own has them all) and most not appended yet.
   */
  async function relayBehind(coll, sink, more) {
    const r = relay({
      nexadb: { host: server.host, port: server.port }, sink, stream: 's', collection: coll,
      heartbeatMs: 200, batchSize: 10, maxQueue: 20, maxStallMs: 60000, ...more,
    });
    await r.ready;
    const watcher = live.add(client.watch(coll));
    await watcher.ready;
    const delivered = [];
    (async () => { for await (const ev of watcher) delivered.push(ev); })();
    await writeChanges(client, coll, { docs: 500 });
    await waitFor(() => delivered.length === 500, 'the 500 changes delivered');
    // The relay's stream has them too (the same server; a connection of its own), and a
    // while passes: a record that said 'covered until close() less a margin' would be past them.
    await sleep(1000);
    assert.ok(r.stats().appended < 250, 'most not appended yet');
    return { r, delivered };
  }

  it('close() appends what NexaDB had delivered before it, though not appended yet', async () => {
    const sink = slowSink();
    const { r } = await relayBehind('orders-close-drains', sink);
    await r.close();
    const ks = sink.appended.map((e) => itemOf(e).fullDocument.k);
    assert.deepStrictEqual(ks, Array.from({ length: 500 }, (_, i) => i), 'all 500, in order');
    assert.strictEqual(sink.kept.get(r.id).stopped, true);
  });
});
