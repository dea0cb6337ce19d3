'use strict';
// nexaclient/relay against a real redis-server (started here on a free
// loopback port, no persistence) and the dev server: one relay into a
// stream, consumer groups reading it.
const assert = require('assert');
const path = require('path');
const { spawnSync } = require('child_process');
const NexaClient = require('..');
const { startDevServer } = require('../lib/dev-server');
const relayModule = require('../lib/relay');
const { startRedis } = require('./helpers/redis-server');
const { writeChanges, redisFor, readEntries, keyOf, relayRig } = require('./helpers/relay-rig');

// Everything a test opens is ended after it, also when it fails.
const { live, relay, consume, Child } = relayRig();
const { waitFor } = require('./fixtures/helpers');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs `consumer` in a loop, handing each change to `onChange`; resolves when the loop ends. */
async function drain(consumer, onChange) {
  for await (const change of consumer) await onChange(change);
}

describe('relay: NexaDB into Redis Streams', function () {
  this.timeout(60000);
  afterEach(() => live.endAll());
  let redisServer;
  let server;
  let client;
  let redis;
  let n = 0;
  const fresh = (what) => `${what}-${++n}`;

  before(async () => {
    redisServer = await startRedis();
    server = await startDevServer({ port: 0 });
    client = new NexaClient({ host: server.host, port: server.port });
    await client.connect();
    redis = await redisFor(redisServer.url);
  });

  after(async () => {
    if (redis) await redis.close();
    if (client) await client.disconnect();
    if (server) await server.close();
    if (redisServer) await redisServer.stop();
  });

  const relayTo = (stream, coll, more) => relay({
    nexadb: { host: server.host, port: server.port }, redis: redisServer.url, stream, collection: coll, heartbeatMs: 200, ...more,
  });

  it('without the redis package, require says "npm install redis" in one line', () => {
    const hide = "const M=require('module');const r=M._resolveFilename;M._resolveFilename=function(q,...a){if(q==='redis'){const e=new Error(\"Cannot find module 'redis'\");e.code='MODULE_NOT_FOUND';throw e;}return r.call(this,q,...a);};";
    const entry = path.join(__dirname, '..', 'lib', 'relay');
    const run = spawnSync(process.execPath, ['-e', `${hide}try{require(${JSON.stringify(entry)})}catch(e){console.log(e.message)}`], { encoding: 'utf8' });
    assert.strictEqual(run.stdout.trim(), 'nexaclient/relay needs the redis package: npm install redis');
    assert.doesNotMatch(run.stdout.trim(), /\n/);
  });

  it("is 'nexaclient/relay', from CommonJS and from ESM", () => {
    assert.strictEqual(require('nexaclient/relay'), relayModule);
    const run = spawnSync(process.execPath, ['--input-type=module', '-e',
      "import { relay, consume, RedisSink } from 'nexaclient/relay'; import m from 'nexaclient/relay';" +
      'console.log([typeof relay, typeof consume, typeof RedisSink, m.relay === relay].join())'], { encoding: 'utf8', cwd: path.join(__dirname, '..') });
    assert.strictEqual(run.stdout.trim(), 'function,function,function,true', run.stderr);
  });

  it('refuses bad options with a TypeError naming the option', () => {
    const base = { nexadb: { port: 1 }, redis: 'redis://127.0.0.1:1' };
    assert.throws(() => relay({ ...base, nexadb: undefined }), { name: 'TypeError', message: /nexadb/ });
    assert.throws(() => relay({ ...base, redis: undefined }), { name: 'TypeError', message: /redis/ });
    assert.throws(() => relay({ ...base, maxLen: 10, retention: 1000 }), { name: 'TypeError', message: /maxLen or retention/ });
    assert.throws(() => relay({ ...base, maxQueue: 0 }), { name: 'TypeError', message: /maxQueue/ });
    assert.throws(() => relay({ ...base, maxQueueBytes: 1.5 }), { name: 'TypeError', message: /maxQueueBytes/ });
    assert.throws(() => relay({ ...base, reorderWindowMs: -1 }), { name: 'TypeError', message: /reorderWindowMs/ });
    // As watch() refuses them: before connecting anywhere.
    assert.throws(() => relay({ ...base, operations: ['insert', 'upsert'] }), { name: 'TypeError', message: /^unknown operation "upsert": expected one of insert, update, delete, dropCollection$/ });
    assert.throws(() => relay({ ...base, operations: [] }), { name: 'TypeError', message: /^operations must be a non-empty array$/ });
    assert.throws(() => consume({ redis: 'redis://x', stream: 's', group: 'g', from: 'yesterday' }), { name: 'TypeError', message: /from/ });
    assert.throws(() => consume({ redis: 'redis://x', stream: 's', group: 'g', claimIdleMs: 0 }), { name: 'TypeError', message: /claimIdleMs/ });
    assert.throws(() => consume({ redis: 'redis://x', stream: 's' }), { name: 'TypeError', message: /group/ });
  });

  it('10,000 changes through one relay to a group of three: each processed once, spread over the three, in order per document', async () => {
    const coll = fresh('orders');
    const stream = fresh('stream');
    const r = relayTo(stream, coll);
    await r.ready;
    const consumers = ['a', 'b', 'c'].map((name) => consume({ redis: redisServer.url, stream, group: 'workers', consumer: name, from: '0', blockMs: 500 }));
    const seen = { a: [], b: [], c: [] };
    const loops = consumers.map((c) => drain(c, (change) => { seen[c.name].push(change); }));
    const t0 = Date.now();
    await writeChanges(client, coll, { docs: 2000, updates: 4 });
    const written = Date.now() - t0;
    const total = () => seen.a.length + seen.b.length + seen.c.length;
    await waitFor(() => total() >= 10000, '10,000 changes consumed', 50000);
    const consumedMs = Date.now() - t0;
    await sleep(300); // anything delivered twice would arrive now
    await Promise.all(consumers.map((c) => c.close()));
    await Promise.all(loops);

    const all = [...seen.a, ...seen.b, ...seen.c].map(keyOf);
    assert.strictEqual(all.length, 10000);
    assert.strictEqual(new Set(all).size, 10000, 'each change processed once');
    for (const name of ['a', 'b', 'c']) assert.ok(seen[name].length > 0, `consumer ${name} got a share`);
    // Each consumer sees the changes of a document in their order...
    for (const name of ['a', 'b', 'c']) {
      const last = new Map();
      for (const ch of seen[name]) {
        const k = ch.fullDocument.k;
        assert.ok(!(last.get(k) >= ch.fullDocument.v), `consumer ${name}: document ${k} out of order`);
        last.set(k, ch.fullDocument.v);
      }
    }
    // ...because the stream holds them in order: per document, and by timestamp.
    const entries = await readEntries(redis, stream);
    assert.strictEqual(entries.length, 10000);
    const version = new Map();
    let prevTs = 0;
    for (const e of entries) {
      const { k, v } = e.event.fullDocument;
      assert.strictEqual(v, (version.has(k) ? version.get(k) + 1 : 0), `document ${k}: v ${v} after ${version.get(k)}`);
      version.set(k, v);
      assert.ok(Number(e.ts) >= prevTs, 'entries in timestamp order');
      prevTs = Number(e.ts);
      assert.strictEqual(e.op, v === 0 ? 'insert' : 'update');
      assert.strictEqual(e.coll, coll);
      assert.strictEqual(e.id, e.event.documentKey._id);
    }
    const s = r.stats();
    await r.close();
    assert.deepStrictEqual([s.appended, s.duplicates, s.gaps, s.discarded], [10000, 0, 0, 0]);
    console.log(`      10,000 changes: written in ${written} ms, all consumed ${consumedMs} ms after the first write; ` +
      `split a/b/c ${seen.a.length}/${seen.b.length}/${seen.c.length}; duplicates 0`);
  });

  it('a consumer SIGKILLed mid-run: its pending messages are claimed by the others, nothing is lost, duplicates only among what it had not acknowledged', async () => {
    const coll = fresh('orders');
    const stream = fresh('stream');
    const r = relayTo(stream, coll);
    await r.ready;
    const N = 3000;
    await writeChanges(client, coll, { docs: 1000, updates: 2 });
    await waitFor(() => r.stats().appended === N, 'the relay appended every change', 20000);
    const arg = { url: redisServer.url, stream, group: 'g', claimIdleMs: 1000, handleMs: 1, count: 50 };
    const kids = ['c1', 'c2', 'victim'].map((consumer) => new Child('relay-consumer.js', { ...arg, consumer, hangAfter: consumer === 'victim' ? 120 : undefined }));
    const [c1, c2, victim] = kids;
    const handled = (c) => c.lines.filter((l) => /^\d+:\d+$/.test(l));
    // It handles 120 changes and stops before acknowledging the 120th: killed there.
    await victim.waitLine(() => handled(victim).length === 120, 'the victim handling changes');
    await victim.kill('SIGKILL');
    const t0 = Date.now();
    // What it had been given and not acknowledged:
    const pending = new Set((await redis.sendCommand(['XPENDING', stream, 'g', '-', '+', '1000', 'victim'])).map((p) => p[0]));
    const victimDone = handled(victim);
    await waitFor(() => new Set([...handled(c1), ...handled(c2), ...victimDone]).size === N, 'every change handled', 30000);
    const recoveredMs = Date.now() - t0;
    await Promise.all([c1.kill('SIGTERM'), c2.kill('SIGTERM')]);

    const all = [...handled(c1), ...handled(c2), ...victimDone];
    const counts = new Map();
    for (const k of all) counts.set(k, (counts.get(k) || 0) + 1);
    const duplicated = [...counts].filter(([, c]) => c > 1).map(([k]) => k);
    assert.strictEqual(counts.size, N, 'nothing lost');
    assert.ok(duplicated.every((k) => victimDone.includes(k)), 'a duplicate is a change the victim had handled');
    // Each duplicate was among the victim's pending entries: look the keys up in the stream.
    const byKey = new Map((await readEntries(redis, stream)).map((e) => [keyOf(e.event), e.streamId]));
    assert.ok(duplicated.every((k) => pending.has(byKey.get(k))), 'duplicates only among what it had not acknowledged');
    const claimed = [...pending].filter((id) => ![...victimDone].some((k) => byKey.get(k) === id));
    assert.ok(pending.has(byKey.get(victimDone[119])), 'the change it handled last was pending');
    assert.strictEqual(duplicated.length, 1, 'that one change, handled again by another consumer');
    const leftPending = await redis.sendCommand(['XPENDING', stream, 'g']);
    assert.strictEqual(Number(leftPending[0]), 0, 'nothing left pending');
    await r.close();
    console.log(`      ${N} changes, victim handled ${victimDone.length} and left ${pending.size} pending ` +
      `(${claimed.length} never handled by it), all handled ${recoveredMs} ms after the kill ` +
      `(claimIdleMs 1000); c1 ${handled(c1).length}, c2 ${handled(c2).length}; duplicates ${duplicated.length}`);
  });

  it('replay: a new group from "0" reads every retained change; from a Date starts there', async () => {
    const coll = fresh('orders');
    const stream = fresh('stream');
    const r = relayTo(stream, coll);
    await r.ready;
    await writeChanges(client, coll, { docs: 300 });
    await waitFor(() => r.stats().appended === 300, 'the first 300 appended');
    await sleep(20);
    const middle = new Date();
    await sleep(20);
    await writeChanges(client, coll, { docs: 200, from: 300 });
    await waitFor(() => r.stats().appended === 500, 'the next 200 appended');
    await r.close();

    const readAll = async (group, from, expect) => {
      const c = consume({ redis: redisServer.url, stream, group, from, blockMs: 200 });
      const got = [];
      let s;
      for await (const change of c) {
        got.push(change.fullDocument.k);
        if (got.length === expect) {
          s = await c.stats();
          break;
        }
      }
      return { got, lag: s.lag, pending: s.pending };
    };
    const zero = await readAll('replay-all', '0', 500);
    assert.deepStrictEqual(zero.got, Array.from({ length: 500 }, (_, i) => i));
    assert.strictEqual(zero.lag, 0, 'the group has read everything');
    assert.strictEqual(zero.pending, 1, 'the last one is acknowledged when the loop ends');
    assert.deepStrictEqual((await redis.sendCommand(['XPENDING', stream, 'replay-all']))[0], 0);
    const dated = await readAll('since-middle', middle, 200);
    assert.deepStrictEqual(dated.got, Array.from({ length: 200 }, (_, i) => 300 + i));
    // '$': only what comes after the group is made.
    const late = consume({ redis: redisServer.url, stream, group: 'new-only', from: '$', blockMs: 200 });
    const firstLate = late.next();
    await sleep(300);
    await redis.sendCommand(['XADD', stream, '*', 'op', 'insert', 'event', JSON.stringify({ operationType: 'insert', fullDocument: { k: 'late' } })]);
    assert.strictEqual((await firstLate).value.fullDocument.k, 'late');
    await late.close();
  });

  it("'{collection}' in the stream name: one stream per collection; a restart gap goes to each", async () => {
    const template = `${fresh('per')}:{collection}`;
    const [c1, c2] = [fresh('coll'), fresh('coll')];
    const first = relayTo(template, null);
    await first.ready;
    await writeChanges(client, c1, { docs: 3 });
    await writeChanges(client, c2, { docs: 2 });
    await waitFor(() => first.stats().appended === 5, 'five appended');
    await first.close();
    await writeChanges(client, c1, { docs: 1, from: 3 }); // missed: no relay runs
    const second = relayTo(template, null);
    await second.ready;
    await writeChanges(client, c2, { docs: 1, from: 2 });
    const ops = async (coll) => (await readEntries(redis, template.replace('{collection}', coll))).map((e) => (e.op === 'gap' ? `gap:${e.reason}:${e.coll}` : `${e.op}:${e.event.fullDocument.k}`));
    await waitFor(async () => (await ops(c2)).length === 4, "the gap entries and c2's change appended");
    await second.close();
    assert.deepStrictEqual(await ops(c1), ['insert:0', 'insert:1', 'insert:2', 'gap:restart:']);
    assert.deepStrictEqual(await ops(c2), ['insert:0', 'insert:1', 'gap:restart:', 'insert:2']);
  });

  it('maxLen trims the stream to about that many entries; retention by age', async () => {
    const coll = fresh('orders');
    const capped = fresh('stream');
    const aged = fresh('stream');
    const r1 = relayTo(capped, coll, { maxLen: 100 });
    const r2 = relayTo(aged, coll, { retention: 300 });
    await Promise.all([r1.ready, r2.ready]);
    await writeChanges(client, coll, { docs: 1000 });
    await waitFor(() => r1.stats().appended === 1000 && r2.stats().appended === 1000, 'both appended 1000');
    const len1 = Number(await redis.sendCommand(['XLEN', capped]));
    assert.ok(len1 >= 100 && len1 < 1000, `MAXLEN ~ 100 keeps about 100 (${len1})`);
    await sleep(400);
    await writeChanges(client, coll, { docs: 1, from: 1000 });
    await waitFor(() => r2.stats().appended === 1001, 'one more');
    const entries = await readEntries(redis, aged);
    assert.ok(entries.length < 1001, `MINID ~ trims what is older than 300 ms (${entries.length} left)`);
    assert.strictEqual(entries[entries.length - 1].event.fullDocument.k, 1000);
    await Promise.all([r1.close(), r2.close()]);
  });

  it('a consumer ends promptly on break, close() and its AbortSignal, mid-blocking-read', async () => {
    const stream = fresh('stream');
    const c1 = consume({ redis: redisServer.url, stream, group: 'g', blockMs: 5000 });
    const p1 = c1.next();
    await sleep(200);
    let t = Date.now();
    await c1.close();
    assert.deepStrictEqual(await p1, { value: undefined, done: true });
    assert.ok(Date.now() - t < 1000, 'close() cut the blocking read');

    const ac = new AbortController();
    const c2 = consume({ redis: redisServer.url, stream, group: 'g', blockMs: 5000, signal: ac.signal });
    const p2 = c2.next();
    await sleep(200);
    t = Date.now();
    ac.abort();
    await assert.rejects(p2, { name: 'AbortError', code: 'ABORT_ERR' });
    assert.ok(Date.now() - t < 1000, 'abort cut the blocking read');
  });

  it('a consumer whose Redis went away ends at close() at once, its retry backoff cut short', async () => {
    const own = await startRedis();
    const stream = fresh('stream');
    const c = consume({ redis: own.url, stream, group: 'g', blockMs: 100 });
    const loop = drain(c, () => {});
    await sleep(300); // reading
    await own.stop();
    await sleep(3500); // retrying, with a backoff grown past a second
    const t = Date.now();
    await c.close();
    await loop;
    assert.ok(Date.now() - t < 1000, `the loop ended ${Date.now() - t} ms after close()`);
  });

  for (const how of ['close()', 'its AbortSignal']) {
    it(`a consumer's loop ends at ${how} with messages read ahead: nothing more is handed out, the rest stay pending for the group`, async () => {
      const stream = fresh('stream');
      for (let k = 0; k < 50; k++) await redis.sendCommand(['XADD', stream, '*', 'event', JSON.stringify({ operationType: 'insert', fullDocument: { k } })]);
      const ac = new AbortController();
      const c = consume({ redis: redisServer.url, stream, group: 'g', consumer: 'first', from: '0', signal: ac.signal });
      const handled = [];
      let ended = 'done';
      try {
        for await (const change of c) {
          handled.push(change.fullDocument.k);
          if (how === 'close()') await c.close();
          else ac.abort();
        }
      } catch (err) {
        ended = err.name;
      }
      assert.deepStrictEqual(handled, [0], 'the loop ended after the message being handled');
      assert.strictEqual(ended, how === 'close()' ? 'done' : 'AbortError');
      const [pending] = await redis.sendCommand(['XPENDING', stream, 'g']);
      assert.strictEqual(Number(pending), 50, 'what it read and did not acknowledge is pending: another consumer claims it');
      const next = consume({ redis: redisServer.url, stream, group: 'g', consumer: 'second', claimIdleMs: 1 });
      const again = [];
      for await (const change of next) if (again.push(change.fullDocument.k) === 50) break;
      assert.deepStrictEqual(again, Array.from({ length: 50 }, (_, k) => k), 'all 50, in order');
    });
  }

  it('two healthy consumers with slow handlers and read-ahead: no message is claimed from under the other, none handled twice', async () => {
    const stream = fresh('stream');
    const N = 60;
    for (let k = 0; k < N; k++) await redis.sendCommand(['XADD', stream, '*', 'event', JSON.stringify({ operationType: 'insert', fullDocument: { k } })]);
    // 20 read ahead at 50 ms each is 1 s of work: past claimIdleMs for the last of them.
    const cs = ['a', 'b'].map((name) => consume({ redis: redisServer.url, stream, group: 'g', consumer: name, from: '0', blockMs: 100, count: 20, claimIdleMs: 300 }));
    const handled = [];
    const loops = cs.map((c) => drain(c, async (change) => {
      handled.push(change.fullDocument.k);
      await sleep(50);
    }));
    await waitFor(() => new Set(handled).size === N, `all ${N} handled`, 30000);
    await sleep(600); // a claim would come by now
    await Promise.all(cs.map((c) => c.close()));
    await Promise.all(loops);
    assert.strictEqual(handled.length, N, `handled ${handled.length} times: ${handled.length - N} duplicates`);
  });

  it('examples/relay-services.js runs: two groups on one relayed stream, a gap after a restart', () => {
    const run = spawnSync(process.execPath, [path.join(__dirname, '..', 'examples', 'relay-services.js'), '--redis', redisServer.url], { encoding: 'utf8', timeout: 30000 });
    assert.strictEqual(run.status, 0, run.stderr);
    const lines = run.stdout.split('\n');
    const at = (re) => lines.findIndex((l) => re.test(l));
    assert.ok(at(/notifications {2}e-mail to ada@example\.com: order \w+ shipped/) > 0, run.stdout);
    assert.ok(at(/cache {10}delete \w+: invalidated/) > 0, run.stdout);
    assert.ok(at(/cache {10}gap \(restart, [\d.]+ s\): whole cache dropped/) > at(/started again/), run.stdout);
    assert.ok(at(/notifications {2}e-mail to bob@example\.com/) > at(/notifications {2}gap \(restart\)/), run.stdout);
  });

  it('a deleted stream: the consumer re-creates its group and goes on; a foreign entry is skipped', async () => {
    const stream = fresh('stream');
    const c = consume({ redis: redisServer.url, stream, group: 'g', from: '0', blockMs: 200 });
    await redis.sendCommand(['XADD', stream, '*', 'event', JSON.stringify({ operationType: 'insert', fullDocument: { k: 1 } })]);
    assert.strictEqual((await c.next()).value.fullDocument.k, 1);
    await redis.sendCommand(['DEL', stream]);
    const after = c.next();
    await sleep(300);
    await redis.sendCommand(['XADD', stream, '*', 'written-by', 'someone else']);
    await redis.sendCommand(['XADD', stream, '*', 'event', JSON.stringify({ operationType: 'insert', fullDocument: { k: 2 } })]);
    assert.strictEqual((await after).value.fullDocument.k, 2);
    const s = await c.stats();
    assert.strictEqual(s.delivered, 2);
    assert.strictEqual(s.skipped, 1, 'an entry no relay wrote is skipped (and acknowledged)');
    await c.close();
  });
});
