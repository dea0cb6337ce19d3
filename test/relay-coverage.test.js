'use strict';
// nexaclient/relay: what a relay says it covered (its record in Redis) never
// runs ahead of what it appended, so that no hole goes without a gap entry:
// relays cut off from NexaDB, a relay whose NexaDB stream failed for good, a
// reconnect while the relay discards.
const assert = require('assert');
const dc = require('diagnostics_channel');
const NexaClient = require('..');
const { startRedis } = require('./helpers/redis-server');
const { startFaultProxy } = require('./helpers/fault-proxy');
const { writeChanges, redisFor, readEntries, relayRig, nexadbForSuite, memorySink } = require('./helpers/relay-rig');

// Everything a test opens is ended after it, also when it fails.
const { live, relay } = relayRig();
const { waitFor } = require('./fixtures/helpers');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** An entry as the tests compare them: a change's k, or "gap:<reason>". */
const itemOf = (e) => JSON.parse(e.fields[e.fields.indexOf('event') + 1]);
const shown = (e) => (e.op === 'gap' ? `gap:${e.reason}` : e.event.fullDocument.k);
const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);

describe('relay: coverage', function () {
  this.timeout(60000);
  afterEach(() => live.endAll());
  const nexadb = nexadbForSuite();
  let server;
  let client;
  before(() => ({ server, client } = nexadb));

  it('two relays cut off from NexaDB at once: the one still reconnecting does not cover the other\'s hole, so the first back appends its gap', async () => {
    const redisServer = live.add(await startRedis());
    const proxyA = live.add(await startFaultProxy({ targetPort: server.port }));
    const proxyB = live.add(await startFaultProxy({ targetPort: server.port }));
    const coll = 'orders-both-cut';
    const opts = { redis: redisServer.url, stream: 'both-cut', collection: coll, heartbeatMs: 200 };
    const a = relay({ ...opts, nexadb: { host: '127.0.0.1', port: proxyA.port } });
    const b = relay({ ...opts, nexadb: { host: '127.0.0.1', port: proxyB.port } });
    await Promise.all([a.ready, b.ready]);
    await sleep(1200); // both covered since well before the hole, with a second of slack for clocks
    await writeChanges(client, coll, { docs: 100 });
    const through = (r, n) => r.stats().appended + r.stats().duplicates === n;
    await waitFor(() => through(a, 100) && through(b, 100), 'both relays through the first 100');

    // NexaDB goes away for both (as a restart of it would): 50 changes are missed by both.
    for (const p of [proxyA, proxyB]) { p.refuse(); p.cut(); }
    await sleep(100);
    await writeChanges(client, coll, { docs: 50, from: 100 });
    // B is back; A is still reconnecting, and then closed before it ever is.
    proxyB.accept();
    await waitFor(() => b.stats().gaps + b.stats().gapsCovered === 1, 'B decided about its hole', 15000);
    await a.close();
    await writeChanges(client, coll, { docs: 10, from: 150 });
    const redis = live.add(await redisFor(redisServer.url));
    const entries = await waitFor(async () => {
      const all = (await readEntries(redis, 'both-cut')).map(shown);
      return all.includes(159) && all;
    }, 'the last change appended', 10000);
    assert.strictEqual(b.stats().gapsCovered, 0, 'A, reconnecting, covered nothing of the hole');
    // B's gap, then A's, written as it closed still cut off (see the next test).
    assert.deepStrictEqual(entries, [...range(0, 100), 'gap:reconnect', 'gap:reconnect', ...range(150, 160)], 'the missed 50 are gap entries, in their place');
  });

  it('a relay closed while cut off from NexaDB writes the gap its stream never reported, though a relay started meanwhile took it for running', async () => {
    const redisServer = live.add(await startRedis());
    const proxy = live.add(await startFaultProxy({ targetPort: server.port }));
    const coll = 'orders-closed-cut-off';
    const opts = { redis: redisServer.url, stream: 'closed-cut-off', collection: coll, heartbeatMs: 200 };
    const cutOff = relay({ ...opts, nexadb: { host: '127.0.0.1', port: proxy.port } });
    await cutOff.ready;
    await writeChanges(client, coll, { docs: 10 });
    await waitFor(() => cutOff.stats().appended === 10, 'the first 10 appended');
    proxy.refuse();
    proxy.cut();
    await writeChanges(client, coll, { docs: 20, from: 10 }); // missed
    // Started now, it sees the cut-off relay heartbeat after its start: no restart gap of its own.
    const next = relay({ ...opts, nexadb: { host: server.host, port: server.port } });
    await next.ready;
    await cutOff.close();
    await writeChanges(client, coll, { docs: 5, from: 30 });
    const redis = live.add(await redisFor(redisServer.url));
    const entries = await waitFor(async () => {
      const all = (await readEntries(redis, 'closed-cut-off')).map(shown);
      return all.includes(34) && all;
    }, 'the last change appended', 10000);
    assert.deepStrictEqual(entries, [...range(0, 10), 'gap:reconnect', ...range(30, 35)], 'the missed 20 are a gap entry, in their place');
  });

  it("a relay whose NexaDB stream failed for good stops heartbeating: a relay started later records the changes since as a restart gap", async () => {
    const redisServer = live.add(await startRedis());
    const proxy = live.add(await startFaultProxy({ targetPort: server.port }));
    const coll = 'orders-failed';
    const opts = { redis: redisServer.url, stream: 'failed', collection: coll, heartbeatMs: 200 };
    // A client of yours that gives up reconnecting.
    const mine = new NexaClient({ host: '127.0.0.1', port: proxy.port, reconnectAttempts: 2 });
    live.add({ close: () => mine.disconnect() });
    await mine.connect();
    const failing = relay({ ...opts, nexadb: mine });
    const errors = [];
    failing.on('error', (err) => errors.push(err));
    await failing.ready;
    await writeChanges(client, coll, { docs: 10 });
    await waitFor(() => failing.stats().appended === 10, 'the first 10 appended');

    proxy.refuse();
    proxy.cut();
    await failing.done;
    assert.strictEqual(errors.length, 1, "'error': the stream ended for good");
    const redis = live.add(await redisFor(redisServer.url));
    const recordOf = async (id) => JSON.parse(await redis.sendCommand(['HGET', 'failed:relays', id]));
    const last = await recordOf(failing.id);
    assert.strictEqual(last.stopped, true, 'its last record says it stopped');
    await writeChanges(client, coll, { docs: 20, from: 10 }); // nobody relays these
    await sleep(600); // more than two of its heartbeats
    assert.deepStrictEqual(await recordOf(failing.id), last, 'and it wrote no more');

    const next = relay({ ...opts, nexadb: { host: server.host, port: server.port } });
    await next.ready;
    await writeChanges(client, coll, { docs: 5, from: 30 });
    const entries = await waitFor(async () => {
      const all = (await readEntries(redis, 'failed')).map(shown);
      return all.includes(34) && all;
    }, 'the last change appended', 10000);
    // Its own gap (cut off until it gave up), then the next relay's (from then to its start).
    assert.deepStrictEqual(entries, [...range(0, 10), 'gap:reconnect', 'gap:restart', ...range(30, 35)], 'the 20 nobody relayed are within gap entries, in their place');
  });

  it('a reconnect while the relay discards (its sink down past maxStallMs): the reconnect gap is appended once the sink is back', async () => {
    const sink = memorySink();
    const { appended } = sink;
    const shownItem = (e) => (e.fields[1] === 'gap' ? `gap:${itemOf(e).reason}` : itemOf(e).fullDocument.k);
    const proxy = live.add(await startFaultProxy({ targetPort: server.port }));
    const coll = 'orders-discarding';
    const r = relay({ nexadb: { host: '127.0.0.1', port: proxy.port }, sink, stream: 's', collection: coll, maxQueue: 10, maxStallMs: 300, heartbeatMs: 200 });
    const stalls = [];
    r.on('stall', (e) => stalls.push(e));
    const streamGaps = [];
    const onGap = ({ gap }) => streamGaps.push(gap.reason);
    dc.subscribe('nexaclient:stream:gap', onGap);
    try {
      await r.ready;
      await writeChanges(client, coll, { docs: 5 });
      await waitFor(() => appended.length === 5, 'the first 5 appended');
      sink.down = true;
      await writeChanges(client, coll, { docs: 10, from: 5 }); // fills the queue
      await waitFor(() => stalls.length === 1, 'the relay stalled, and discards from now on');

      // Cut off from NexaDB meanwhile: the changes of the hole never reach the relay, so it discards none.
      proxy.refuse();
      proxy.cut();
      await writeChanges(client, coll, { docs: 20, from: 15 });
      proxy.accept();
      await waitFor(() => streamGaps.includes('reconnect'), "the relay's stream back, with its reconnect gap", 15000);
      sink.down = false;
      // Until its next retry succeeds the relay goes on discarding.
      await waitFor(() => appended.length >= 15 && r.stats().queued === 0, 'the queue appended once the sink is back', 15000);
      await writeChanges(client, coll, { docs: 5, from: 35 });
      await waitFor(() => appended.some((e) => shownItem(e) === 39), 'the last change appended', 15000);
    } finally {
      dc.unsubscribe('nexaclient:stream:gap', onGap);
    }
    assert.strictEqual(r.stats().discarded, 0);
    assert.deepStrictEqual(appended.map(shownItem), [...range(0, 15), 'gap:reconnect', ...range(35, 40)], 'the hole is a gap entry, in its place');
  });

  it("catchUp: while the catch-up's documents wait in the queue, covered stays before the live changes queued behind them", async () => {
    const sink = memorySink({ appendMs: 100 });
    const proxy = live.add(await startFaultProxy({ targetPort: server.port }));
    const coll = 'orders-catch-up-covered';
    const watcher = client.watch(coll);
    await watcher.ready;
    const delivered = [];
    const watching = (async () => { for await (const ev of watcher) delivered.push(ev); })();
    const r = relay({ nexadb: { host: '127.0.0.1', port: proxy.port }, sink, stream: 's', collection: coll, catchUp: true, heartbeatMs: 100, maxQueue: 3, batchSize: 1 });
    await r.ready;
    const ids = await writeChanges(client, coll, { docs: 10 });
    await waitFor(() => sink.appended.length === 10, 'the first 10 appended');
    proxy.refuse();
    proxy.cut();
    await Promise.all(ids.map((id) => client.update(coll, id, { v: 1 }))); // the catch-up reads these 10 again
    proxy.accept();
    await waitFor(() => r.stats().queued > 0, 'the gap and the catch-up queued', 15000);
    await writeChanges(client, coll, { docs: 10, from: 10 }); // live, behind the catch-up in the queue
    // Appended one at a time, 100 ms each: the catch-up's documents are pulled late, after the live changes were made.
    const ran = [];
    while (sink.appended.length < 10 + 1 + 10 + 10) {
      const record = sink.kept.get(r.id);
      const appended = new Set(sink.appended.filter((e) => e.fields[1] === 'insert').map((e) => itemOf(e).fullDocument.k));
      const waiting = delivered.filter((ev) => ev.fullDocument.k >= 10 && !appended.has(ev.fullDocument.k));
      if (record && waiting.length > 0) ran.push(record.covered - Math.min(...waiting.map((ev) => ev.timestamp * 1000)));
      await sleep(20);
    }
    await watcher.close();
    await watching;
    assert.ok(ran.length > 10, 'looked while live changes waited');
    assert.ok(ran.every((ahead) => ahead <= 0), `covered ran ahead of a live change not appended, by up to ${Math.max(...ran)} ms`);
  });

  it("'{collection}' streams, every collection: a reconnect gap also reaches the stream of a collection first written in the hole", async () => {
    const redisServer = live.add(await startRedis());
    const proxy = live.add(await startFaultProxy({ targetPort: server.port }));
    const r = relay({ nexadb: { host: '127.0.0.1', port: proxy.port }, redis: redisServer.url, stream: 'per:{collection}', collection: null, heartbeatMs: 200 });
    await r.ready;
    await writeChanges(client, 'known', { docs: 2 });
    await waitFor(() => r.stats().appended === 2, 'the first 2 appended');
    proxy.refuse();
    proxy.cut();
    await writeChanges(client, 'known', { docs: 3, from: 2 }); // missed
    await writeChanges(client, 'fresh', { docs: 3 }); // missed, in a collection the relay has not seen
    proxy.accept();
    await waitFor(() => r.stats().gaps >= 1, 'the relay back, its gap appended', 15000);
    await writeChanges(client, 'known', { docs: 1, from: 5 });
    await writeChanges(client, 'fresh', { docs: 1, from: 3 });
    const redis = live.add(await redisFor(redisServer.url));
    const entriesOf = async (coll) => (await readEntries(redis, `per:${coll}`)).map(shown);
    await waitFor(async () => (await entriesOf('known')).includes(5) && (await entriesOf('fresh')).includes(3), 'the changes after the hole appended', 15000);
    assert.deepStrictEqual(await entriesOf('known'), [0, 1, 'gap:reconnect', 5]);
    assert.deepStrictEqual(await entriesOf('fresh'), ['gap:reconnect', 3]);
  });
  it('a relay whose full queue held only a gap another relay covered reads on, instead of discarding with its sink healthy', async () => {
    const sink = memorySink();
    const coll = 'covered-head';
    const proxy = live.add(await startFaultProxy({ targetPort: server.port }));
    const base = { sink, stream: 's', collection: coll, heartbeatMs: 200 };
    const steady = relay({ ...base, nexadb: { host: server.host, port: server.port }, relayId: 'steady' });
    await steady.ready;
    await sleep(1200);
    const small = relay({ ...base, nexadb: { host: '127.0.0.1', port: proxy.port }, relayId: 'small', maxQueue: 1, maxStallMs: 300 });
    await small.ready;
    await sleep(1200); // the steady relay has had no hole for over a second before the small one's
    await writeChanges(client, coll, { docs: 2 });
    await sleep(500);
    proxy.refuse();
    proxy.cut();
    await sleep(300);
    await writeChanges(client, coll, { docs: 2, from: 2 }); // the small relay misses these; the steady one appends them
    proxy.accept();
    await waitFor(() => small.stats().gapsCovered === 1, 'its gap covered by the steady relay', 15000);
    const before = small.stats().appended;
    await writeChanges(client, coll, { docs: 3, from: 4 });
    await waitFor(() => small.stats().appended === before + 3, 'the small relay appends what comes next', 10000);
    assert.strictEqual(small.stats().discarded, 0, 'nothing discarded: its sink was healthy');
  });
  it("'{collection}' streams, every collection: changes discarded in a stall get the relayStall gap in their own stream, a collection new in the stall too, and the gap spans them", async () => {
    const sink = memorySink();
    const r = relay({ nexadb: { host: server.host, port: server.port }, sink, stream: 'stall:{collection}', collection: null, heartbeatMs: 100, maxQueue: 1, maxStallMs: 300 });
    await r.ready;
    await writeChanges(client, 'stall-known', { docs: 1 });
    await waitFor(() => r.stats().appended === 1, 'the first change appended');
    sink.down = true;
    await writeChanges(client, 'stall-known', { docs: 2, from: 1 });
    await waitFor(() => r.stats().discarded >= 1, 'discarding', 5000);
    await writeChanges(client, 'stall-fresh', { docs: 3 }); // a collection the relay never saw: discarded
    await waitFor(() => r.stats().discarded === 4, 'all four discarded', 5000);
    sink.down = false;
    await waitFor(() => sink.appended.some((e) => e.stream === 'stall:stall-fresh'), 'the gap in the new collection\'s stream', 10000);
    const gap = itemOf(sink.appended.find((e) => e.stream === 'stall:stall-fresh'));
    assert.deepStrictEqual([gap.operationType, gap.reason, gap.count], ['gap', 'relayStall', 4]);
    assert.ok(gap.since <= gap.until, `since ${gap.since} is not after until ${gap.until}`);
  });
});
