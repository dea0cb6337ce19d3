'use strict';
// nexaclient/relay when things fail: relays side by side, killed and
// restarted (child processes, SIGKILL), Redis stopped and restarted, a sink
// that refuses for longer than the relay may stall, and a slow consumer.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const NexaClient = require('..');
const { startDevServer } = require('../lib/dev-server');
const { startRedis } = require('./helpers/redis-server');
const { startFaultProxy } = require('./helpers/fault-proxy');
const { writeChanges, redisFor, readEntries, keyOf, relayRig, nexadbForSuite, memorySink } = require('./helpers/relay-rig');

// Everything a test opens is ended after it, also when it fails.
const { live, relay, consume, Child } = relayRig();
const { waitFor } = require('./fixtures/helpers');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const lastStats = (child) => JSON.parse([...child.lines].reverse().find((l) => l.startsWith('stats ')).slice(6));

describe('relay: faults', function () {
  this.timeout(60000);
  afterEach(() => live.endAll());
  const nexadb = nexadbForSuite();
  let server;
  let client;
  before(() => ({ server, client } = nexadb));

  describe('relays side by side, killed and restarted', () => {
    let redisServer;
    let redis;
    before(async () => {
      redisServer = await startRedis();
      redis = await redisFor(redisServer.url);
    });
    after(async () => {
      if (redis) await redis.close();
      if (redisServer) await redisServer.stop();
    });

    it('two relays: one entry per change; one killed: the other carries on, no gap; the only one killed and restarted: exactly one gap entry', async () => {
      const coll = 'orders-ha';
      const stream = 'ha';
      const arg = { nexadb: { host: server.host, port: server.port }, url: redisServer.url, stream, collection: coll, heartbeatMs: 200 };
      const a = new Child('relay-process.js', arg);
      const b = new Child('relay-process.js', arg);
      // Relaying, and reporting its counts (they follow 'ready' by up to 100 ms).
      await Promise.all([a, b].map((c) => c.waitLine((l) => l.startsWith('stats '), 'relay ready, with stats')));
      const len = async () => Number(await redis.sendCommand(['XLEN', stream]));

      // Both running: 2,000 changes, each appended once.
      await writeChanges(client, coll, { docs: 1000, updates: 1 });
      await waitFor(async () => lastStats(a).appended + lastStats(a).duplicates === 2000 &&
        lastStats(b).appended + lastStats(b).duplicates === 2000, 'both relays through 2,000 changes', 20000);
      let entries = await readEntries(redis, stream);
      assert.strictEqual(entries.length, 2000);
      assert.strictEqual(new Set(entries.map((e) => keyOf(e.event))).size, 2000, 'no duplicate entries');
      const [sa, sb] = [lastStats(a), lastStats(b)];
      assert.strictEqual(sa.appended + sb.appended, 2000);
      assert.strictEqual(sa.duplicates + sb.duplicates, 2000, 'every change was offered twice');

      // A killed: B carries on, no gap.
      await a.kill('SIGKILL');
      await writeChanges(client, coll, { docs: 1000, from: 1000 });
      await waitFor(async () => (await len()) === 3000, '3,000 entries', 20000);
      entries = await readEntries(redis, stream);
      assert.strictEqual(entries.filter((e) => e.op === 'gap').length, 0, 'no gap entry');
      assert.strictEqual(new Set(entries.map((e) => keyOf(e.event))).size, 3000);

      // B, the only one, killed: what is written now is missed...
      await b.kill('SIGKILL');
      const missedFrom = Date.now() / 1000;
      await writeChanges(client, coll, { docs: 300, from: 2000 });
      const missedTo = Date.now() / 1000;
      // ...and C, started, records it as one gap, before what comes next.
      const c = new Child('relay-process.js', arg);
      await c.waitLine((l) => l.startsWith('ready '), 'relay C ready');
      await writeChanges(client, coll, { docs: 300, from: 2300 });
      await waitFor(async () => (await len()) === 3301, '3,000 + a gap + 300 entries', 20000);
      await sleep(300); // nothing more comes
      entries = await readEntries(redis, stream);
      const gaps = entries.filter((e) => e.op === 'gap');
      assert.strictEqual(gaps.length, 1, 'exactly one gap entry');
      const gap = gaps[0];
      assert.strictEqual(entries.indexOf(gap), 3000, 'the gap comes after the changes relayed before it, before the rest');
      assert.strictEqual(gap.reason, 'restart');
      assert.strictEqual(gap.event.operationType, 'gap');
      assert.ok(Number(gap.since) <= missedFrom && Number(gap.until) >= missedTo, `the gap [${gap.since}, ${gap.until}] spans the missed changes [${missedFrom}, ${missedTo}]`);
      assert.ok(Number(gap.until) <= Number(entries[3001].ts), 'and ends before the next change');
      assert.deepStrictEqual(entries.slice(3001).map((e) => e.event.fullDocument.k), Array.from({ length: 300 }, (_, i) => 2300 + i));
      assert.ok(!entries.some((e) => e.op !== 'gap' && e.event.fullDocument.k >= 2000 && e.event.fullDocument.k < 2300), 'the missed changes are missing');
      await c.kill('SIGTERM');
      const sc = lastStats(c);
      console.log(`      two relays: 2,000 changes, appended A ${sa.appended} + B ${sb.appended}, duplicates skipped ${sa.duplicates + sb.duplicates}, ` +
        `entries 2,000; A killed: +1,000, 0 gaps; B killed, 300 missed, C started: 1 gap [${(Number(gap.until) - Number(gap.since)).toFixed(2)} s], C appended ${sc.appended}`);
    });
  });

  it("two relays, one cut off from NexaDB for a while: the other covered its hole, so no gap entry; alone, the same cut is a gap", async () => {
    const redisServer = live.add(await startRedis());
    const proxy = live.add(await startFaultProxy({ targetPort: server.port }));
    const coll = 'orders-covered';
    const opts = { redis: redisServer.url, stream: 'covered', collection: coll, heartbeatMs: 200 };
    const cutOff = relay({ ...opts, nexadb: { host: '127.0.0.1', port: proxy.port } });
    const steady = relay({ ...opts, nexadb: { host: server.host, port: server.port } });
    await Promise.all([cutOff.ready, steady.ready]);
    // The hole (from the last change the cut-off relay saw) must begin after
    // the steady relay's coverage did, with a second of slack for clocks.
    await sleep(1100);
    await writeChanges(client, coll, { docs: 100 });
    await waitFor(() => cutOff.stats().appended + cutOff.stats().duplicates === 100, 'the cut-off relay through 100');
    proxy.refuse();
    proxy.cut();
    await writeChanges(client, coll, { docs: 100, from: 100 });
    proxy.accept();
    await waitFor(() => cutOff.stats().gapsCovered === 1, "the cut-off relay found its hole covered", 15000);
    await writeChanges(client, coll, { docs: 100, from: 200 });
    await waitFor(() => steady.stats().appended + steady.stats().duplicates === 300 &&
      cutOff.stats().appended + cutOff.stats().duplicates === 200, 'both through what they received');
    const redis = await redisFor(redisServer.url);
    let entries = await readEntries(redis, 'covered');
    assert.deepStrictEqual(entries.map((e) => e.event.fullDocument.k), Array.from({ length: 300 }, (_, i) => i), 'every change once, no gap entry');
    assert.strictEqual(cutOff.stats().gaps, 0);

    // The steady one gone (closed): the same cut is a gap.
    await steady.close();
    proxy.refuse();
    proxy.cut();
    await writeChanges(client, coll, { docs: 10, from: 300 });
    proxy.accept();
    await waitFor(() => cutOff.stats().gaps === 1, 'a gap entry', 15000);
    entries = await readEntries(redis, 'covered');
    await redis.close();
    assert.deepStrictEqual(entries.slice(300).map((e) => `${e.op}:${e.reason}`), ['gap:reconnect']);
    assert.strictEqual(cutOff.stats().gapsCovered, 1);
  });

  it('Redis killed and restarted on the same port: the relay and a consumer recover, nothing lost', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexa-relay-redis-'));
    const redisServer = live.add(await startRedis({ dir })); // appendfsync always: a crash loses nothing it acknowledged
    const coll = 'orders-outage';
    const stream = 'outage';
    const r = relay({ nexadb: { host: server.host, port: server.port }, redis: redisServer.url, stream, collection: coll, heartbeatMs: 200 });
    await r.ready;
    const c = consume({ redis: redisServer.url, stream, group: 'g', from: '0', claimIdleMs: 1000, blockMs: 200 });
    const got = [];
    const loop = (async () => { for await (const ch of c) got.push(keyOf(ch)); })();
    // 3,000 changes over ~3 s; Redis is down for 2 s in the middle.
    const writing = (async () => {
      for (let i = 0; i < 30; i++) {
        await writeChanges(client, coll, { docs: 100, from: i * 100 });
        await sleep(100);
      }
    })();
    await sleep(1000);
    await redisServer.kill();
    const downAt = Date.now();
    await sleep(2000);
    await redisServer.start();
    const upAt = Date.now();
    await writing;
    await waitFor(() => new Set(got).size === 3000, 'the consumer has every change', 30000);
    const recoveredMs = Date.now() - upAt;
    await sleep(300);
    const s = r.stats();
    const cs = await c.stats();
    await c.close();
    await loop;
    await r.close();
    const redis = await redisFor(redisServer.url);
    const entries = await readEntries(redis, stream);
    await redis.close();
    await redisServer.stop();
    fs.rmSync(dir, { recursive: true, force: true });

    assert.strictEqual(entries.length, 3000, 'one entry per change');
    assert.strictEqual(new Set(entries.map((e) => keyOf(e.event))).size, 3000);
    assert.strictEqual(s.gaps, 0, 'no gap: the relay held the changes while Redis was down');
    assert.ok(s.redisErrors > 0, 'the relay saw Redis fail');
    console.log(`      Redis down ${upAt - downAt} ms during 3,000 changes: relay appended ${s.appended}, duplicates skipped ${s.duplicates}, ` +
      `Redis errors ${s.redisErrors}, gaps 0; consumer got all ${recoveredMs} ms after Redis was back, ` +
      `deliveries ${got.length} (duplicates ${got.length - new Set(got).size}), claimed ${cs.claimed}`);
  });

  it("the relay's NexaDB connection dropped: one gap entry between the changes before and after", async () => {
    const redisServer = live.add(await startRedis());
    const coll = 'orders-drop';
    const r = relay({ nexadb: { host: server.host, port: server.port }, redis: redisServer.url, stream: 'drop', collection: coll, heartbeatMs: 200 });
    await r.ready;
    await writeChanges(client, coll, { docs: 100 });
    await waitFor(() => r.stats().appended === 100, 'the first 100 appended');
    const before = Date.now() / 1000;
    server.dropConnections(); // the writer's connection too: it reconnects on its next request
    await sleep(50);
    await waitFor(async () => { try { await client.ping(); return true; } catch (_) { return false; } }, 'the writer back');
    await waitFor(() => server.connections >= 2, 'the relay reconnected', 10000);
    await sleep(100);
    await writeChanges(client, coll, { docs: 100, from: 100 });
    await waitFor(() => r.stats().appended === 201, 'a gap and the next 100 appended', 10000);
    const redis = await redisFor(redisServer.url);
    const entries = await readEntries(redis, 'drop');
    await redis.close();
    await r.close();
    await redisServer.stop();
    const gaps = entries.filter((e) => e.op === 'gap');
    assert.strictEqual(gaps.length, 1);
    assert.strictEqual(entries.indexOf(gaps[0]), 100);
    assert.strictEqual(gaps[0].reason, 'reconnect');
    assert.strictEqual(gaps[0].relay, r.id);
    assert.ok(Number(gaps[0].since) >= Number(entries[99].ts) - 1 && Number(gaps[0].since) <= before + 0.001, 'since: the last change seen before the drop');
    assert.ok(Number(gaps[0].until) <= Number(entries[101].ts), 'until: before the next change');
    assert.strictEqual(r.stats().gaps, 1);
  });

  it('catchUp: the documents changed while the relay was cut off follow its gap entry', async () => {
    const redisServer = live.add(await startRedis());
    const proxy = live.add(await startFaultProxy({ targetPort: server.port }));
    const coll = 'orders-catchup';
    const r = relay({ nexadb: { host: '127.0.0.1', port: proxy.port }, redis: redisServer.url, stream: 'catchup', collection: coll, catchUp: true, heartbeatMs: 200 });
    await r.ready;
    const kept = await client.create(coll, { name: 'kept', v: 1 });
    await waitFor(() => r.stats().appended === 1, 'the insert appended');
    await sleep(1100); // past the catch-up's margin: the insert is not read again
    proxy.refuse();
    proxy.cut();
    await client.update(coll, kept.document_id, { v: 2 });
    await client.create(coll, { name: 'new', v: 1 });
    proxy.accept();
    await waitFor(() => r.stats().gaps === 1, 'the gap appended', 15000);
    await client.create(coll, { name: 'live', v: 1 });
    const redis = await redisFor(redisServer.url);
    const entries = await waitFor(async () => {
      const all = await readEntries(redis, 'catchup');
      return all.some((e) => e.op === 'insert' && e.event.fullDocument.name === 'live') && all;
    }, 'the live insert appended');
    await redis.close();
    const ops = entries.map((e) => e.op);
    const n = ops.length - 3; // 'live' is caught up too when written before the catch-up's query ran
    assert.deepStrictEqual(ops, ['insert', 'gap', ...Array(n).fill('catchUp'), 'insert']);
    assert.strictEqual(entries[1].reason, 'reconnect');
    const caught = Object.fromEntries(entries.slice(2, 2 + n).map((e) => [e.event.fullDocument.name, e.event.fullDocument.v]));
    assert.deepStrictEqual({ kept: caught.kept, new: caught.new }, { kept: 2, new: 1 });
    assert.strictEqual(entries[2].id, entries[2].event.documentKey._id);
  });

  it('a sink down for longer than maxStallMs: the relay stops waiting and records what it discards as one gap entry, in its place', async () => {
    // Any object with the Sink methods is a sink (a NATS JetStream one would be): this one is in memory.
    const sink = memorySink();
    const { appended } = sink;
    const coll = 'orders-stall';
    const r = relay({ nexadb: { host: server.host, port: server.port }, sink, stream: 's', collection: coll, maxQueue: 100, maxStallMs: 300, reorderWindowMs: 0 });
    const stalls = [];
    r.on('stall', (e) => stalls.push(e));
    await r.ready;
    await writeChanges(client, coll, { docs: 100 });
    await waitFor(() => appended.length === 100, 'the first 100 appended');
    sink.down = true;
    await writeChanges(client, coll, { docs: 1000, from: 100 });
    await waitFor(() => r.stats().discarded > 0, 'the relay discarding', 10000);
    await waitFor(() => r.stats().queued + r.stats().discarded === 1000, 'every change queued or discarded', 10000);
    sink.down = false;
    // Until its next retry succeeds the relay goes on discarding; then the gap is appended.
    await waitFor(() => r.stats().gaps === 1, 'the gap entry appended', 10000);
    await writeChanges(client, coll, { docs: 10, from: 1100 });
    const itemOf = (e) => JSON.parse(e.fields[e.fields.indexOf('event') + 1]);
    await waitFor(() => appended.some((e) => e.fields[1] !== 'gap' && itemOf(e).fullDocument.k === 1109), 'the last change appended', 10000);
    await r.close();

    const items = appended.map(itemOf);
    const gapAt = items.findIndex((i) => i.operationType === 'gap');
    const gap = items[gapAt];
    assert.strictEqual(items.filter((i) => i.operationType === 'gap').length, 1);
    assert.strictEqual(gap.reason, 'relayStall');
    const kept = items.filter((i) => i.operationType !== 'gap').map((i) => i.fullDocument.k);
    // 0-99 before the outage, then the queue's 100, the gap, then what came after.
    assert.deepStrictEqual(kept.slice(0, gapAt), Array.from({ length: gapAt }, (_, i) => i));
    assert.strictEqual(gapAt, 200, 'the full queue (100) was kept');
    assert.strictEqual(gap.count, 900, 'the rest of the outage is counted in the gap');
    assert.deepStrictEqual(kept.slice(gapAt), Array.from({ length: 10 }, (_, i) => 1100 + i));
    assert.ok(gap.since <= gap.until);
    assert.strictEqual(stalls.length, 1);
    assert.strictEqual(r.stats().discarded, 900);
  });

  describe('a slow consumer (5 ms per change) on a server that stalls for slow subscribers', () => {
    let slowServer;
    let slowClient;
    let redisServer;
    before(async () => {
      slowServer = await startDevServer({ port: 0, blockingDelivery: true });
      slowClient = new NexaClient({ host: slowServer.host, port: slowServer.port });
      redisServer = await startRedis();
    });
    after(async () => {
      if (slowClient) await slowClient.disconnect();
      if (slowServer) await slowServer.close();
      if (redisServer) await redisServer.stop();
    });

    const N = 30000;
    const insertAll = async (coll, pad = '') => {
      for (let i = 0; i < N; i += 1000) await slowClient.batchWrite(coll, Array.from({ length: 1000 }, (_, j) => ({ k: i + j, pad })));
    };
    const count = (stream, onEach) => {
      let n = 0;
      const done = (async () => { for await (const ch of stream) { n++; if (onEach) await onEach(ch); } })();
      return { get n() { return n; }, done };
    };

    it('watching NexaDB directly, it holds a fast watcher back (the server waits on it)', async () => {
      const coll = 'direct';
      const fast = slowClient.watch(coll);
      const slow = slowClient.watch(coll);
      await Promise.all([fast.ready, slow.ready]);
      const f = count(fast);
      const s = count(slow, () => sleep(5));
      const t0 = Date.now();
      // 2 KB events: the socket buffers between the server and the slow
      // watcher (up to ~10 MB on Linux's loopback) fill long before N.
      await insertAll(coll, 'x'.repeat(2048));
      await sleep(1000);
      const heldAt = f.n;
      assert.ok(heldAt < N, `the fast watcher is held back (${heldAt} of ${N} after ${Date.now() - t0} ms; the slow one has handled ${s.n})`);
      await slow.close();
      await waitFor(() => f.n === N, 'the fast watcher gets the rest once the slow one is gone', 20000);
      await fast.close();
      console.log(`      direct: fast watcher held at ${heldAt} of ${N} while the slow one had handled ${s.n}`);
    });

    it('behind the relay, it does not: the fast watcher gets every change while the slow consumer is still at the start', async () => {
      const coll = 'relayed';
      const r = relay({ nexadb: slowClient, redis: redisServer.url, stream: 'slow', collection: coll, heartbeatMs: 200 });
      await r.ready;
      const fast = slowClient.watch(coll);
      await fast.ready;
      const slow = consume({ redis: redisServer.url, stream: 'slow', group: 'slow', from: '0', blockMs: 200 });
      const f = count(fast);
      const s = count(slow, () => sleep(5));
      const t0 = Date.now();
      await insertAll(coll);
      await waitFor(() => f.n === N, 'the fast watcher has every change', 30000);
      const fastMs = Date.now() - t0;
      const slowAt = s.n;
      assert.ok(slowAt < N / 4, `the slow consumer is far behind (${slowAt}) when the fast watcher is done`);
      await waitFor(() => r.stats().appended === N, 'the relay has appended every change', 30000);
      const relayMs = Date.now() - t0;
      await fast.close();
      await slow.close();
      await r.close();
      console.log(`      relayed: fast watcher had all ${N} in ${fastMs} ms (slow consumer at ${slowAt}); relay appended all in ${relayMs} ms`);
    });
  });
});
