'use strict';
// nexaclient/relay: a relay gone without a last record (SIGKILL, a host
// lost) after another relay took it for running. What it had not appended,
// or the hole it was cut off in, was nobody's: the running relay finds the
// dead record and appends the hole as a restart gap.
const assert = require('assert');
const { holes, reachBack } = require('../lib/relay/holes');
const { goneRelays, startGap } = require('../lib/relay/coverage');
const { startRedis } = require('./helpers/redis-server');
const { startFaultProxy } = require('./helpers/fault-proxy');
const { writeChanges, redisFor, readEntries, relayRig, nexadbForSuite, memorySink } = require('./helpers/relay-rig');

// Everything a test opens is ended after it, also when it fails.
const { live, relay, Child } = relayRig();
const { waitFor } = require('./fixtures/helpers');

const itemOf = (e) => JSON.parse(e.fields[e.fields.indexOf('event') + 1]);
const shown = (e) => (e.op === 'gap' ? `gap:${e.reason}` : e.event.fullDocument.k);
const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);

describe('relay: holes of relays gone without a word', function () {
  this.timeout(60000);

  describe('holes(): the spans followed from where a gone relay stopped covering', () => {
    const running = (from) => ({ from, to: Infinity });

    it('a relay that began before the end covers it: no hole', () => {
      assert.deepStrictEqual(holes([running(100), { from: 0, to: 5000 }], [5000]), []);
    });

    it('nobody began before the end: a hole up to where the next span begins', () => {
      assert.deepStrictEqual(holes([running(9000), { from: 0, to: 5000 }], [5000]), [{ since: 5000, until: 9000 }]);
    });

    it('a span that began just after the end is a hole, however short: covered already stays behind for what was on its way', () => {
      assert.deepStrictEqual(holes([running(5001), { from: 0, to: 5000 }], [5000]), [{ since: 5000, until: 5001 }]);
    });

    it('spans are followed one into the next; each hole between them is found once', () => {
      const spans = [running(9000), { from: 0, to: 1000 }, { from: 500, to: 3000 }, { from: 4000, to: 6000 }];
      assert.deepStrictEqual(holes(spans, [1000, 3000, 6000]), [{ since: 3000, until: 4000 }, { since: 6000, until: 9000 }]);
    });

    it('reachBack() goes back through finished pieces without a break, and stops at one', () => {
      assert.strictEqual(reachBack(9000, [{ from: 6000, to: 9000 }, { from: 3000, to: 6000 }, { from: 0, to: 2000 }]), 3000);
    });
  });

  describe('goneRelays(): what a running relay finds in the records', () => {
    const look = (records, self = {}) => goneRelays(new Map(Object.entries(records)),
      { relayId: 'me', coveredFrom: 10000, now: 20000, staleMs: 500, ...self });

    it('a dead relay (not refreshed for staleMs) that covered to before this relay began: its hole, its streams, its record to remove; this relay\'s span then reaches back to it', () => {
      const found = look({ me: { seen: 20000 }, dead: { since: 1000, seen: 6000, covered: 5000, streams: ['s1'] } });
      assert.deepStrictEqual(found, { gone: ['dead'], remove: ['dead'], gaps: [{ since: 5, until: 10 }], coveredFrom: 1000, streams: ['s1'] });
    });

    it('a dead relay another running relay covered throughout: no hole, but its record goes', () => {
      const found = look({ dead: { since: 1000, seen: 6000, covered: 5000 }, peer: { since: 2000, seen: 19900 } });
      assert.deepStrictEqual(found, { gone: ['dead'], remove: ['dead'], gaps: [], coveredFrom: 10000, streams: [] });
    });

    it('a dead relay that covered past where this one began: no hole', () => {
      assert.deepStrictEqual(look({ dead: { since: 1000, seen: 12000, covered: 11000 } }).gaps, []);
    });

    it('nothing while a stopped relay still appends what it received: its covered is not final', () => {
      const found = look({ dead: { since: 1000, seen: 6000, covered: 5000 }, draining: { since: 1000, seen: 19900, covered: 7000, stopped: true } });
      assert.deepStrictEqual(found, { gone: [], remove: [], gaps: [], coveredFrom: 10000, streams: [] });
    });

    it("a stopped relay's last record, gone stale: the hole after what it appended", () => {
      assert.deepStrictEqual(look({ closed: { since: 1000, seen: 8000, covered: 7000, stopped: true } }).gaps, [{ since: 7, until: 10 }]);
    });

    it('a relay that started trusting one that died covers only from its own restart gap on (coveredFrom)', () => {
      // "late" began at 6000 with a restart gap from 3000; "early" died having covered 2000.
      const found = look({ early: { since: 0, seen: 2500, covered: 2000 }, late: { since: 6000, coveredFrom: 3000, seen: 8000, covered: 7000 } });
      assert.deepStrictEqual(found.gaps, [{ since: 2, until: 3 }, { since: 7, until: 10 }]);
    });

    it("this relay's span does not reach back through a running relay's: that one may yet die with a hole of its own", () => {
      // a died having covered 1000; c runs since 4000 (cut off at 6000, covered held there); this relay began at 8000.
      const first = look({ a: { since: 0, seen: 2000, covered: 1000 }, c: { since: 4000, seen: 19900, covered: 6000 } }, { coveredFrom: 8000 });
      assert.deepStrictEqual(first.gaps, [{ since: 1, until: 4 }]);
      assert.strictEqual(first.coveredFrom, 8000);
      // c dies, still cut off: the changes of [6000, 8000] reached nobody.
      const second = look({ c: { since: 4000, seen: 15000, covered: 6000 } }, { coveredFrom: first.coveredFrom });
      assert.deepStrictEqual(second.gaps, [{ since: 6, until: 8 }]);
    });

    it("a relay is judged by its own heartbeat: one of 1 s, last seen 2 s ago, still runs for one whose stale time is 500 ms", () => {
      const found = look({ slow: { since: 0, seen: 18000, covered: 17500, staleMs: 2500 } });
      assert.deepStrictEqual(found.gone, []);
    });

    it('relays of other changes where they overlap with this one: a running one covers nothing; a gone one is followed from, its record kept unless this relay relays all it did', () => {
      const running = look({ dead: { since: 1000, seen: 6000, covered: 5000 }, users: { since: 0, seen: 19900, otherChanges: true, keepRecord: true } });
      assert.deepStrictEqual(running.gaps, [{ since: 5, until: 10 }]);
      const gone = look({ everything: { since: 1000, seen: 6000, covered: 5000, otherChanges: true, keepRecord: true } });
      assert.deepStrictEqual(gone, { gone: ['everything'], remove: [], gaps: [{ since: 5, until: 10 }], coveredFrom: 5000, streams: [] });
    });

    it('gone relays whose gaps are queued already are not followed again', () => {
      const found = look({ dead: { since: 1000, seen: 6000, covered: 5000 } }, { handled: new Set(['dead']) });
      assert.deepStrictEqual(found.gone, []);
    });
  });

  describe('restart gap entries', () => {
    const { toEntry } = require('../lib/relay/entry');
    const { gapItem } = require('../lib/stream/gaps');
    const keyOf = (since, until, relayId) => toEntry(gapItem('orders', 'restart', since, until), 's', relayId).key;

    it('relays that find the same hole give it one key; a hole that ends elsewhere is another entry (the shorter must not stand for the longer)', () => {
      assert.strictEqual(keyOf(100, 200, 'a'), keyOf(100, 200, 'b'));
      assert.notStrictEqual(keyOf(100, 200, 'a'), keyOf(100, 250, 'b'));
    });
  });

  describe("startGap(): a relay started again under its own id, while another runs", () => {
    it('the run before it left a hole (its record is about to be overwritten): the gap is found now', async () => {
      const records = new Map(Object.entries({ me: { since: 0, seen: 4000, covered: 3000 }, peer: { since: 5000, seen: 9000, covered: 8500 } }));
      const found = await startGap({ records: async () => records }, { relayId: 'me', t0: 8000, staleMs: 500, pollMs: 50 });
      assert.deepStrictEqual(found.gaps, [{ since: 3, until: 5 }]);
    });
  });

  describe('relays', () => {
    afterEach(() => live.endAll());
    const nexadb = nexadbForSuite();
    let server;
    let client;
    before(() => ({ server, client } = nexadb));

    it('a relay SIGKILLed while cut off from NexaDB, after a relay started meanwhile took it for running: the running one appends the hole as a restart gap, and removes the dead record', async () => {
      const redisServer = live.add(await startRedis());
      const proxy = live.add(await startFaultProxy({ targetPort: server.port }));
      const coll = 'orders-killed-cut-off';
      const stream = 'killed-cut-off';
      const cutOff = new Child('relay-process.js', { nexadb: { host: '127.0.0.1', port: proxy.port }, url: redisServer.url, stream, collection: coll, heartbeatMs: 200 });
      await cutOff.waitLine((l) => l.startsWith('ready '), 'the first relay ready');
      const deadId = cutOff.lines.find((l) => l.startsWith('ready ')).slice(6);
      await writeChanges(client, coll, { docs: 10 });
      const redis = live.add(await redisFor(redisServer.url));
      await waitFor(async () => (await readEntries(redis, stream)).length === 10, 'the first 10 appended');

      proxy.refuse();
      proxy.cut();
      const missedFrom = Date.now() / 1000;
      await writeChanges(client, coll, { docs: 20, from: 10 }); // nobody receives these
      const missedTo = Date.now() / 1000;
      // Started now, it sees the cut-off relay heartbeat after its start: no restart gap of its own.
      const running = relay({ nexadb: { host: server.host, port: server.port }, redis: redisServer.url, stream, collection: coll, heartbeatMs: 200 });
      await running.ready;
      assert.strictEqual(running.stats().queued + running.stats().gaps, 0, 'it took the cut-off relay for running');
      await cutOff.kill('SIGKILL');
      await writeChanges(client, coll, { docs: 5, from: 30 });

      await waitFor(() => running.stats().gaps === 1, 'the restart gap appended', 10000);
      const entries = await readEntries(redis, stream);
      // The gap is appended when found: 2.5 heartbeats after the dead relay's last one.
      assert.deepStrictEqual(entries.map(shown), [...range(0, 10), ...range(30, 35), 'gap:restart'], 'the 20 nobody relayed are within the gap entry');
      const gap = entries[15];
      assert.ok(Number(gap.since) <= missedFrom && Number(gap.until) >= missedTo, `the gap [${gap.since}, ${gap.until}] spans the missed changes [${missedFrom}, ${missedTo}]`);
      const records = await redis.sendCommand(['HKEYS', `${stream}:relays`]);
      assert.deepStrictEqual(records, [running.id], "the dead relay's record is gone");
      assert.notStrictEqual(deadId, running.id);
    });

    it('a relay killed with entries queued, after a relay started meanwhile took it for running: the running one appends the changes it never had as a restart gap', async () => {
      const shared = memorySink({ appendMs: 100 });
      // The killed relay's view of the sink: once killed, nothing it sends arrives or answers (a process gone).
      let killed = false;
      const gone = new Promise(() => {});
      const viewOfKilled = Object.fromEntries(['open', 'append', 'putRecord', 'records', 'removeRecords', 'close']
        .map((m) => [m, (...args) => (killed ? gone : shared[m](...args))]));
      const coll = 'orders-killed-queued';
      const watcher = client.watch(coll);
      await watcher.ready;
      const delivered = [];
      const watching = (async () => { for await (const ev of watcher) delivered.push(ev); })();
      const base = { nexadb: { host: server.host, port: server.port }, stream: 's', collection: coll, heartbeatMs: 200, batchSize: 5 };
      const killedRelay = relay({ ...base, sink: viewOfKilled, relayId: 'killed', closeTimeoutMs: 200 });
      await killedRelay.ready;
      await writeChanges(client, coll, { docs: 40 }); // 8 appends of 100 ms
      await waitFor(() => delivered.length === 40 && killedRelay.stats().queued > 10, 'the 40 received, most still queued');
      const running = relay({ ...base, sink: shared, relayId: 'running' });
      await running.ready;
      assert.strictEqual(running.stats().queued + running.stats().gaps, 0, 'it took the killed relay for running');
      killed = true;
      await waitFor(() => running.stats().gaps === 1, 'the restart gap appended', 10000);
      await watcher.close();
      await watching;

      const ks = new Set(shared.appended.filter((e) => e.fields[1] !== 'gap').map((e) => itemOf(e).fullDocument.k));
      const gaps = shared.appended.filter((e) => e.fields[1] === 'gap').map(itemOf);
      assert.ok(ks.size < 40, 'the killed relay had not appended them all');
      const lost = delivered.filter((ev) => !ks.has(ev.fullDocument.k) && !gaps.some((g) => ev.timestamp >= g.since && ev.timestamp <= g.until));
      assert.deepStrictEqual(lost.map((ev) => ev.fullDocument.k), [], 'every change appended or inside a gap entry');
      assert.deepStrictEqual(gaps.map((g) => g.reason), ['restart']);
      assert.deepStrictEqual([...shared.kept.keys()], ['running'], "the killed relay's record is gone");
    });

    for (const [change, before, after] of [
      ['other operations', { collection: 'cfg-ops' }, { collection: 'cfg-ops', operations: ['insert', 'update', 'delete', 'dropCollection'] }],
      ['one collection, after every collection', { collection: null }, { collection: 'cfg-coll' }],
    ]) {
      it(`a relay restarted with ${change}: the changes made while none ran are a restart gap`, async () => {
        const sink = memorySink();
        const coll = after.collection;
        const base = { nexadb: { host: server.host, port: server.port }, sink, stream: 'cfg', heartbeatMs: 200 };
        const first = relay({ ...base, ...before, relayId: 'first' });
        await first.ready;
        await writeChanges(client, coll, { docs: 3 });
        await waitFor(() => first.stats().appended === 3, 'the first 3 appended');
        await first.close();
        await writeChanges(client, coll, { docs: 4, from: 3 }); // no relay runs
        const next = relay({ ...base, ...after, relayId: 'next' });
        await next.ready;
        await writeChanges(client, coll, { docs: 2, from: 7 });
        await waitFor(() => next.stats().appended === 3, 'its restart gap and the last 2 appended');
        assert.deepStrictEqual(sink.appended.map((e) => (e.fields[1] === 'gap' ? `gap:${itemOf(e).reason}` : itemOf(e).fullDocument.k)),
          [0, 1, 2, 'gap:restart', 7, 8]);
      });
    }

    it('a relay of other changes on the same stream covers nothing: a relay of `users` started while one of `orders` runs still records the hole since the last `users` relay stopped', async () => {
      const sink = memorySink();
      const base = { nexadb: { host: server.host, port: server.port }, sink, stream: 'shared', heartbeatMs: 200 };
      const users1 = relay({ ...base, collection: 'users-mixed', relayId: 'users-1' });
      await users1.ready;
      await writeChanges(client, 'users-mixed', { docs: 3 });
      await waitFor(() => users1.stats().appended === 3, 'the first 3 users appended');
      await users1.close();
      const orders = relay({ ...base, collection: 'orders-mixed', relayId: 'orders' });
      await orders.ready;
      const missedFrom = Date.now() / 1000;
      await writeChanges(client, 'users-mixed', { docs: 4, from: 3 }); // no relay of users runs
      const missedTo = Date.now() / 1000;
      const users2 = relay({ ...base, collection: 'users-mixed', relayId: 'users-2', operations: ['update', 'insert', 'delete'] });
      await users2.ready;
      await waitFor(() => users2.stats().gaps === 1, "the users relay's restart gap appended");
      const gap = itemOf(sink.appended.find((e) => e.fields[1] === 'gap'));
      assert.strictEqual(gap.reason, 'restart');
      assert.strictEqual(gap.ns.coll, 'users-mixed');
      assert.ok(gap.since <= missedFrom && gap.until >= missedTo, `the gap [${gap.since}, ${gap.until}] spans the missed changes [${missedFrom}, ${missedTo}]`);
      assert.strictEqual(orders.stats().gaps, 0, 'the orders relay found no hole of its own');
      assert.deepStrictEqual(sink.kept.get('users-2').relaying, { collection: 'users-mixed', operations: ['delete', 'insert', 'update'] });
    });
  });
});
