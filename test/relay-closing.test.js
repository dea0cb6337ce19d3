'use strict';
// nexaclient/relay's close(): what NexaDB already delivered is appended, the
// relay's last record says no more than what was, and close() settles in
// time whatever its sink does. And what it holds while its sink is down.
const assert = require('assert');
const { startRedis } = require('./helpers/redis-server');
const { writeChanges, relayRig, nexadbForSuite, memorySink } = require('./helpers/relay-rig');

// Everything a test opens is ended after it, also when it fails.
const { live, relay } = relayRig();
const { waitFor } = require('./fixtures/helpers');
const { startFaultProxy } = require('./helpers/fault-proxy');
const { MSG } = require('../lib/connection');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** 'settled', or 'pending' if `promise` has not settled within `ms` (for a message better than a test timeout). */
const settles = (promise, ms) => Promise.race([promise.then(() => 'settled', () => 'settled'), sleep(ms).then(() => 'pending')]);
const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);
const itemOf = (e) => JSON.parse(e.fields[e.fields.indexOf('event') + 1]);

describe('relay: closing', function () {
  this.timeout(60000);
  afterEach(() => live.endAll());
  const nexadb = nexadbForSuite();
  let server;
  let client;
  before(() => ({ server, client } = nexadb));

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
    const sink = memorySink({ appendMs: 50 });
    const { r } = await relayBehind('orders-close-drains', sink);
    await r.close();
    const ks = sink.appended.map((e) => itemOf(e).fullDocument.k);
    assert.deepStrictEqual(ks, Array.from({ length: 500 }, (_, i) => i), 'all 500, in order');
    assert.strictEqual(sink.kept.get(r.id).stopped, true);
  });

  it("close() out of time (closeTimeoutMs): its last record's covered stops before the first change not appended, so the next relay's restart gap spans what was dropped", async () => {
    const sink = memorySink({ appendMs: 50 });
    const { r, delivered } = await relayBehind('orders-close-late', sink, { closeTimeoutMs: 300 });
    await r.close();
    const appended = new Set(sink.appended.map((e) => itemOf(e).fullDocument.k));
    const dropped = delivered.filter((ev) => !appended.has(ev.fullDocument.k));
    assert.ok(dropped.length > 0, 'some changes were not appended in time');
    const firstDropped = Math.min(...dropped.map((ev) => ev.timestamp));
    const last = sink.kept.get(r.id);
    assert.strictEqual(last.stopped, true);
    assert.ok(last.covered <= firstDropped * 1000, `covered (${last.covered}) must not pass the first change dropped (${firstDropped * 1000})`);

    const next = relay({ nexadb: { host: server.host, port: server.port }, sink, stream: 's', collection: 'orders-close-late', heartbeatMs: 200 });
    await next.ready;
    await waitFor(() => next.stats().gaps === 1, 'the restart gap appended');
    const gap = itemOf(sink.appended.find((e) => e.fields[1] === 'gap'));
    assert.strictEqual(gap.reason, 'restart');
    assert.deepStrictEqual(dropped.filter((ev) => ev.timestamp < gap.since || ev.timestamp > gap.until), [], 'every dropped change lies within the gap');
  });

  it("close() while the stream's reconnect gap is still queued appends that gap once, not a second for a loss the stream had reported", async () => {
    const sink = memorySink();
    const proxy = live.add(await startFaultProxy({ targetPort: server.port }));
    const coll = 'orders-close-gap-queued';
    const r = relay({ nexadb: { host: '127.0.0.1', port: proxy.port }, sink, stream: 's', collection: coll, heartbeatMs: 200 });
    await r.ready;
    await writeChanges(client, coll, { docs: 5 });
    await waitFor(() => sink.appended.length === 5, 'the first 5 appended');
    sink.down = true;
    proxy.refuse();
    proxy.cut();
    await writeChanges(client, coll, { docs: 5, from: 5 }); // missed
    proxy.accept();
    await waitFor(() => r.stats().queued === 1, "the stream's reconnect gap queued", 15000);
    const closing = r.close();
    sink.down = false;
    await closing;
    assert.deepStrictEqual(sink.appended.map((e) => (e.fields[1] === 'gap' ? `gap:${itemOf(e).reason}` : itemOf(e).fullDocument.k)),
      [0, 1, 2, 3, 4, 'gap:reconnect']);
  });

  it('close() settles when Redis stopped answering (SIGSTOP: no reset, no reply), and so does relay.done', async () => {
    const redisServer = await startRedis();
    const coll = 'orders-redis-hung';
    const r = relay({ nexadb: { host: server.host, port: server.port }, redis: redisServer.url, stream: 'hung', collection: coll, heartbeatMs: 200, closeTimeoutMs: 1000 });
    // Ended before the relay (in reverse order): woken first, so that nothing waits on it.
    live.add({ close: async () => { process.kill(redisServer.proc.pid, 'SIGCONT'); await redisServer.stop(); } });
    await r.ready;
    await writeChanges(client, coll, { docs: 20 });
    await waitFor(() => r.stats().appended === 20, 'the first 20 appended');
    process.kill(redisServer.proc.pid, 'SIGSTOP');
    await writeChanges(client, coll, { docs: 20, from: 20 });
    await waitFor(() => r.stats().queued === 20, 'the next 20 queued, their append hanging');
    assert.strictEqual(await settles(r.close(), 10000), 'settled', 'close() settled');
    assert.strictEqual(await settles(r.done, 1000), 'settled', 'relay.done settled');
  });

  it('a rolling restart: a relay started while the old one still drains its queue takes it for stopped, and records the changes no relay received as a restart gap', async () => {
    const sink = memorySink({ appendMs: 200 });
    const coll = 'rolling';
    const watcher = client.watch(coll);
    await watcher.ready;
    const delivered = [];
    const watching = (async () => { for await (const ev of watcher) delivered.push(ev); })();
    const base = { nexadb: { host: server.host, port: server.port }, sink, stream: 's', collection: coll, heartbeatMs: 200, batchSize: 5 };
    const old = relay({ ...base, relayId: 'old' });
    await old.ready;
    await writeChanges(client, coll, { docs: 40 }); // 8 appends of 200 ms to drain
    await waitFor(() => delivered.length === 40, '40 delivered');
    const closing = old.close();
    await sleep(50);
    await writeChanges(client, coll, { docs: 3, from: 100 }); // while no relay receives
    await waitFor(() => delivered.length === 43, '43 delivered');
    const next = relay({ ...base, relayId: 'next' });
    await next.ready;
    await closing;
    await waitFor(() => next.stats().gaps === 1, 'the restart gap appended', 10000);
    await watcher.close();
    await watching;
    const ks = new Set(sink.appended.filter((e) => e.fields[1] !== 'gap').map((e) => itemOf(e).fullDocument.k));
    const gaps = sink.appended.filter((e) => e.fields[1] === 'gap').map(itemOf);
    const lost = delivered.filter((ev) => !ks.has(ev.fullDocument.k) && !gaps.some((g) => ev.timestamp >= g.since && ev.timestamp <= g.until));
    assert.deepStrictEqual(lost.map((ev) => ev.fullDocument.k), [], 'every change appended or inside a gap entry');
    assert.deepStrictEqual(gaps.map((g) => g.reason), ['restart']);
  });

  it('a rolling restart done quickly (the next relay ready, then the old one closed at once), changes flowing: no gap, every change appended', async () => {
    const sink = memorySink();
    const coll = 'rolling-quick';
    const base = { nexadb: { host: server.host, port: server.port }, sink, stream: 's', collection: coll, heartbeatMs: 200 };
    let current = relay({ ...base, relayId: 'r0' });
    await current.ready;
    let writing = true;
    let k = 0;
    const writer = (async () => {
      while (writing) {
        await writeChanges(client, coll, { docs: 1, from: k++ });
        await sleep(5);
      }
    })();
    for (let i = 1; i <= 2; i++) {
      const next = relay({ ...base, relayId: `r${i}` });
      await next.ready;
      await current.close();
      current = next;
      await sleep(700); // past the old one's stale time: a look for relays gone has seen it
    }
    writing = false;
    await writer;
    const appendedKs = () => new Set(sink.appended.filter((e) => e.fields[1] !== 'gap').map((e) => itemOf(e).fullDocument.k));
    await waitFor(() => appendedKs().size === k, 'every change appended').catch(() => {});
    const missing = range(0, k).filter((i) => !appendedKs().has(i));
    assert.deepStrictEqual(missing, [], 'every change appended');
    assert.deepStrictEqual(sink.appended.filter((e) => e.fields[1] === 'gap').map(itemOf), [], 'no gap');
    assert.deepStrictEqual([...sink.kept.keys()], ['r2'], 'the old records removed');
  });

  it("close() while the relay waits to learn whether another still runs (its record neither fresh nor stale yet): settles at once, decides nothing, writes no record", async () => {
    const sink = memorySink();
    const now = Date.now();
    const other = {
      since: now - 60000, seen: now - 100, covered: now - 5000, coveredFrom: now - 60000, staleMs: 20000, streams: ['s'],
      relaying: { collection: 'orders-close-waiting', operations: ['delete', 'insert', 'update'] },
    };
    sink.kept.set('other', other);
    const r = relay({
      nexadb: { host: server.host, port: server.port }, sink, stream: 's', collection: 'orders-close-waiting', heartbeatMs: 200,
    });
    const ready = r.ready.then(() => 'ready', (err) => err.message);
    await sleep(500); // subscribed, and waiting for the other relay's record to refresh or go stale (20 s)
    assert.strictEqual(await settles(r.close(), 3000), 'settled', 'close() did not wait out the 20 s');
    assert.strictEqual(await ready, 'relay closed while starting');
    assert.deepStrictEqual([...sink.kept.keys()], ['other'], 'no record written, the other left for the next relay to follow');
    assert.deepStrictEqual(sink.kept.get('other'), other);
    assert.deepStrictEqual(sink.appended, [], 'no gap decided');
  });

  it("close() is not held by a NexaDB that stops answering the request for every collection's streams", async () => {
    const proxy = live.add(await startFaultProxy({ targetPort: server.port }));
    const r = relay({ nexadb: { host: '127.0.0.1', port: proxy.port, requestTimeout: 20000 }, sink: memorySink(), stream: 'per:{collection}', collection: null, heartbeatMs: 100, closeTimeoutMs: 1000 });
    await r.ready;
    await writeChanges(client, 'closing-list', { docs: 1 });
    await waitFor(() => r.stats().appended === 1, 'the first change appended');
    proxy.swallow(MSG.LIST_COLLECTIONS); // a hung handler, say
    proxy.cut(); // the reconnect gap concerns every collection: the relay asks which there are
    await sleep(1500);
    assert.strictEqual(await settles(r.close(), 5000), 'settled', 'close() within closeTimeoutMs and its margin, not requestTimeout');
  });

  it('while the sink is down, the queue holds at most maxQueueBytes of entries (big documents), and nothing is lost once it is back', async () => {
    const sink = memorySink();
    sink.down = true;
    const { appended } = sink;
    const coll = 'orders-big';
    const r = relay({ nexadb: { host: server.host, port: server.port }, sink, stream: 's', collection: coll, heartbeatMs: 200, maxQueueBytes: 20000, maxStallMs: Infinity });
    await r.ready;
    // 100 changes of about 1 KB each: far below maxQueue (10,000), far above 20,000 bytes.
    await client.batchWrite(coll, Array.from({ length: 100 }, (_, k) => ({ k, pad: 'x'.repeat(1000) })));
    await waitFor(() => r.stats().queued > 0, 'entries queued');
    await sleep(300); // the reader would go on queueing if it could
    const queued = r.stats().queued;
    assert.ok(queued <= 21, `${queued} entries of about 1 KB queued: 20,000 bytes, and the one that crossed the bound`);
    sink.down = false;
    await waitFor(() => appended.length === 100, 'all 100 appended once the sink is back', 15000);
    assert.deepStrictEqual(appended.map((e) => itemOf(e).fullDocument.k), Array.from({ length: 100 }, (_, i) => i));
  });
});
