'use strict';
// No silent loss: every change arrives, or the stream says in-band what it
// missed (gap items; with catchUp, the documents changed meanwhile); every
// request, SUBSCRIBE and UNSUBSCRIBE included, is bounded in time; bad input
// is refused before anything is sent.
const assert = require('assert');
const { getEventListeners } = require('events');

const NexaClient = require('..');
const { NexaError, NexaTimeoutError, NexaAbortError } = NexaClient;
const { MSG } = require('../lib/connection');
const { startDevServer } = require('../lib/dev-server');
const { startFaultProxy } = require('./helpers/fault-proxy');
const { waitFor, collect, once, rejection } = require('./fixtures/helpers');

const FAST = { reconnectDelayMs: 20, reconnectMaxDelayMs: 200 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Date.now() / 1000;

/** Until an insert event (not a catchUp item) of a document with `k` = `v` has arrived. */
function untilLive(col, k, v) {
  return col.until(() => col.events.some((e) => e.operationType === 'insert' && e.fullDocument[k] === v), `a live insert with ${k}=${v}`, 10000);
}

describe('no silent loss', function () {
  let srv = null;
  const clients = [];
  const proxies = [];

  /** A client of the server, or of `via` (a fault proxy) when given. */
  function client(opts = {}, via = srv) {
    const c = new NexaClient({ host: '127.0.0.1', port: via.port, ...FAST, ...opts });
    clients.push(c);
    return c;
  }

  async function proxy() {
    const p = await startFaultProxy({ targetPort: srv.port });
    proxies.push(p);
    return p;
  }

  beforeEach(async () => {
    srv = await startDevServer({ port: 0 });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.disconnect()));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await srv.close();
  });

  describe('bad input is refused before anything is sent', () => {
    it('a call\'s timeout: Infinity and 0 mean no limit; negative, NaN, fractional or past 2^31-1 ms: RangeError; a string: TypeError', async () => {
      const p = await proxy();
      const c = client({}, p);
      for (const [timeout, Class, text] of [
        [-1, RangeError, /timeout must be a whole number of milliseconds from 0 to 2147483647/],
        [NaN, RangeError, /got NaN/],
        [1.5, RangeError, /got 1.5/],
        [2 ** 31, RangeError, /got 2147483648/],
        ['5', TypeError, /timeout must be a number of milliseconds, not string/],
      ]) {
        const err = await rejection(c.ping({ timeout }), `ping({ timeout: ${String(timeout)} })`);
        assert.ok(err instanceof Class, `timeout ${String(timeout)}: ${err}`);
        assert.match(err.message, text);
      }
      assert.strictEqual(p.accepted, 0, 'a refused call must not even connect');

      await c.connect();
      p.stall();
      const endless = c.ping({ timeout: Infinity });
      const none = c.ping({ timeout: 0 });
      const bounded = rejection(c.ping({ timeout: 50 }));
      let settled = false;
      Promise.race([endless, none]).then(() => { settled = true; }, () => { settled = true; });
      assert.ok((await bounded) instanceof NexaTimeoutError, 'a 50 ms timeout still times out');
      await sleep(150);
      assert.strictEqual(settled, false, 'a ping with no limit must wait for its answer');
      p.resume();
      assert.strictEqual((await endless).status, 'ok');
      assert.strictEqual((await none).status, 'ok');
    });

    it('unknown option names throw a TypeError naming the closest known one; nothing is dialled', async () => {
      const p = await proxy();
      assert.throws(() => new NexaClient({ prot: 1 }), { name: 'TypeError', message: 'unknown NexaClient option "prot" (did you mean \'port\'?)' });
      assert.throws(() => new NexaClient('nexadb://root@127.0.0.1:1/db', { requestTimout: 5 }), /unknown NexaClient option "requestTimout" \(did you mean 'requestTimeout'\?\)/);
      assert.throws(() => new NexaClient({ zzzzzzzz: 1 }), { name: 'TypeError', message: 'unknown NexaClient option "zzzzzzzz"' });
      const c = client({}, p);
      assert.throws(() => c.watch('x', { operation: ['insert'] }), { name: 'TypeError', message: 'unknown watch option "operation" (did you mean \'operations\'?)' });
      assert.throws(() => c.watch('x', { gaps: 'yes' }), /watch option gaps must be a boolean/);
      assert.throws(() => c.watch('x', { catchUp: 1 }), /watch option catchUp must be a boolean/);
      assert.throws(() => c.watch('x', { signal: {} }), /watch: signal must be an AbortSignal/);
      let err = await rejection(c.get('c', 'k', { timout: 5 }));
      assert.ok(err instanceof TypeError);
      assert.strictEqual(err.message, 'unknown get option "timout" (did you mean \'timeout\'?)');
      err = await rejection(c.query('c', {}, { limt: 5 }));
      assert.strictEqual(err.message, 'unknown query option "limt" (did you mean \'limit\'?)');
      err = await rejection(c.ping({ signal: 'x' }));
      assert.strictEqual(err.message, 'ping: signal must be an AbortSignal');
      await sleep(20);
      assert.strictEqual(p.accepted, 0, 'nothing was dialled');
      // The options each call documents are accepted.
      const ok = client();
      await ok.query('c', {}, { limit: 5, database: 'default', timeout: 1000 });
      await ok.vectorSearch('c', [1, 0], { limit: 1, dimensions: 2, filters: {} });
    });

    it('a malformed percent escape in a connection string is a TypeError that never shows the password', () => {
      for (const url of ['nexadb://root:s3cr%E0%A4t@localhost:6970/db', 'nexadb://ro%zzot:s3cr3t@localhost/db', 'nexadb://root:s3cr3t@localhost/d%b']) {
        let err = null;
        try {
          new NexaClient(url); // eslint-disable-line no-new
        } catch (e) {
          err = e;
        }
        assert.ok(err instanceof TypeError, `${url}: ${err}`);
        assert.match(err.message, /malformed percent escape/);
        assert.ok(!/s3cr/.test(err.message), err.message);
      }
    });

    it('one AbortSignal shared by many requests: one listener on it, no warning; all abort; none left after', async () => {
      const warnings = [];
      const onWarning = (w) => warnings.push(w);
      process.on('warning', onWarning);
      try {
        const p = await proxy();
        const c = client({}, p);
        const ac = new AbortController();
        // Answered: the listener goes once the last is done.
        await Promise.all(Array.from({ length: 30 }, () => c.ping({ signal: ac.signal })));
        assert.strictEqual(getEventListeners(ac.signal, 'abort').length, 0);
        // Pending: one listener for thirty requests, then all abort.
        p.stall();
        const pending = Array.from({ length: 30 }, () => rejection(c.ping({ signal: ac.signal })));
        assert.strictEqual(getEventListeners(ac.signal, 'abort').length, 1);
        ac.abort(new Error('enough'));
        for (const err of await Promise.all(pending)) {
          assert.ok(err instanceof NexaAbortError, String(err));
          assert.strictEqual(err.cause.message, 'enough');
        }
        assert.strictEqual(getEventListeners(ac.signal, 'abort').length, 0);
        // Queued before the connection exists, and a stream's: the same one listener.
        const c2 = client({}, p);
        const ac2 = new AbortController();
        const queued = Array.from({ length: 15 }, () => rejection(c2.ping({ signal: ac2.signal })));
        const streams = Array.from({ length: 12 }, () => c2.watch('x', { signal: ac2.signal }));
        assert.strictEqual(getEventListeners(ac2.signal, 'abort').length, 1);
        ac2.abort();
        for (const err of await Promise.all(queued)) assert.ok(err instanceof NexaAbortError, String(err));
        for (const s of streams) assert.ok((await rejection(s.ready)) instanceof NexaAbortError);
        await sleep(10);
        assert.deepStrictEqual(warnings.map(String), []);
      } finally {
        process.removeListener('warning', onWarning);
      }
    });
  });

  describe('SUBSCRIBE and UNSUBSCRIBE are bounded by requestTimeout', () => {
    it('a server that never answers SUBSCRIBE (keepalive off): ready rejects with NexaTimeoutError, the loop ends with it', async () => {
      const p = await proxy();
      p.swallow(MSG.SUBSCRIBE_CHANGES);
      const c = client({ keepAliveMs: 0, requestTimeout: 200 }, p);
      const s = c.watch('orders');
      const col = collect(s);
      const t0 = Date.now();
      const err = await rejection(s.ready, 'ready');
      assert.ok(err instanceof NexaTimeoutError, String(err));
      assert.match(err.message, /watch timed out after 200 ms/);
      assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
      await col.ended();
      assert.strictEqual(col.error, err);
      assert.strictEqual(p.swallowedFrames[MSG.SUBSCRIBE_CHANGES], 1);
    });

    it('during a reconnect a SUBSCRIBE that times out is a failed attempt: backoff, retry, then the stream ends with the error', async () => {
      const p = await proxy();
      const c = client({ keepAliveMs: 0, requestTimeout: 150, reconnectAttempts: 3 }, p);
      const w = client();
      const s = c.watch('orders');
      await s.ready;
      const col = collect(s);
      await w.create('orders', { n: 1 });
      await col.untilDoc('n', 1);
      const disconnected = once(s, 'disconnect');
      p.swallow(MSG.SUBSCRIBE_CHANGES);
      p.cut();
      await disconnected;
      await col.ended(5000);
      assert.ok(col.error instanceof NexaTimeoutError, String(col.error));
      assert.strictEqual(p.swallowedFrames[MSG.SUBSCRIBE_CHANGES], 3, 'three attempts, each subscribing');
      assert.strictEqual(p.accepted, 4);
      assert.strictEqual(s.closed, true);
    });

    it('close() resolves when the server never answers UNSUBSCRIBE', async () => {
      const p = await proxy();
      const c = client({ requestTimeout: 200 }, p);
      const s = c.watch('orders');
      await s.ready;
      p.swallow(MSG.UNSUBSCRIBE_CHANGES);
      const t0 = Date.now();
      await Promise.race([s.close(), sleep(5000).then(() => assert.fail('close() did not settle within 5 s'))]);
      assert.ok(Date.now() - t0 < 5000);
      assert.strictEqual(p.swallowedFrames[MSG.UNSUBSCRIBE_CHANGES], 1);
    });
  });

  describe('gaps', () => {
    /** A stream through a proxy that goes away (refusing new dials) while `during` runs. */
    async function outage(p, s, during) {
      const disconnected = once(s, 'disconnect');
      p.refuse();
      p.cut();
      await disconnected;
      const t = await during();
      const reconnected = once(s, 'reconnect');
      p.accept();
      await reconnected;
      return t;
    }

    it('with gaps: a reconnect yields one gap item in order (since: the last event\'s timestamp, until: subscribed again); without, only a \'gap\' event', async () => {
      const p = await proxy();
      const c = client({}, p);
      const w = client();
      const withGaps = c.watch('orders', { gaps: true });
      const plain = c.watch('orders');
      await Promise.all([withGaps.ready, plain.ready]);
      assert.strictEqual(withGaps.lastTimestamp, undefined);
      const gapEvents = [];
      plain.on('gap', (g) => gapEvents.push(g));
      const cols = [collect(withGaps), collect(plain)];
      await w.create('orders', { n: 1 });
      await Promise.all(cols.map((col) => col.untilDoc('n', 1)));
      const missedAt = await outage(p, withGaps, async () => {
        await waitFor(() => plain.listenerCount('reconnect') >= 0 && p.connections === 0, 'both streams down');
        await w.create('orders', { n: 2 }); // no stream is subscribed: gone for both
        return now();
      });
      await waitFor(() => plain.reconnects === 1, 'the plain stream to reconnect');
      await w.create('orders', { n: 3 });
      await Promise.all(cols.map((col) => col.untilDoc('n', 3)));

      const [g, e] = cols.map((col) => col.events);
      assert.deepStrictEqual(g.map((x) => x.operationType), ['insert', 'gap', 'insert']);
      const gap = g[1];
      assert.deepStrictEqual(Object.keys(gap), ['operationType', 'ns', 'reason', 'since', 'until']);
      assert.deepStrictEqual(gap.ns, { db: 'nexadb', coll: 'orders' });
      assert.strictEqual(gap.reason, 'reconnect');
      assert.strictEqual(gap.since, g[0].timestamp);
      assert.ok(gap.since <= missedAt && missedAt <= gap.until, `the missed write (${missedAt}) lies in [${gap.since}, ${gap.until}]`);
      assert.ok(gap.until <= g[2].timestamp, 'until is before the next event');
      assert.strictEqual(withGaps.lastTimestamp, g[2].timestamp);

      assert.deepStrictEqual(e.map((x) => x.fullDocument.n), [1, 3], 'without gaps: events only');
      assert.strictEqual(gapEvents.length, 1);
      assert.strictEqual(gapEvents[0].reason, 'reconnect');
      assert.strictEqual(gapEvents[0].since, e[0].timestamp);
    });

    it('with catchUp: what changed while away comes as catchUp items after the gap, before the new live events; deletes cannot be seen', async () => {
      const p = await proxy();
      const c = client({}, p);
      const w = client();
      const s = c.watch('orders', { catchUp: true });
      await s.ready;
      const col = collect(s);
      const kept = await w.create('orders', { name: 'kept', v: 1 });
      const gone = await w.create('orders', { name: 'gone' });
      await col.untilDoc('name', 'gone');
      await sleep(1100); // past the catch-up's margin: the documents above are not read again
      await outage(p, s, async () => {
        await w.update('orders', kept.document_id, { v: 2 });
        await w.delete('orders', gone.document_id);
        await w.create('orders', { name: 'new' });
        // The first live events race the catch-up: they must still come after it.
        s.once('reconnect', () => { w.create('orders', { name: 'live' }); });
      });
      await untilLive(col, 'name', 'live');

      const kinds = col.events.map((x) => x.operationType);
      // 'live' is read by the catch-up too when written before the catch-up's query ran.
      const n = kinds.length - 4;
      assert.ok(n === 2 || n === 3, kinds.join());
      assert.deepStrictEqual(kinds, ['insert', 'insert', 'gap', ...Array(n).fill('catchUp'), 'insert']);
      const gap = col.events[2];
      assert.deepStrictEqual(gap.catchUp, { documents: n, complete: true });
      const caught = Object.fromEntries(col.events.slice(3, 3 + n).map((x) => [x.fullDocument.name, x]));
      assert.deepStrictEqual(Object.keys(caught).filter((k) => k !== 'live').sort(), ['kept', 'new']);
      assert.strictEqual(caught.kept.fullDocument.v, 2);
      assert.deepStrictEqual(caught.kept.documentKey, { _id: kept.document_id });
      assert.deepStrictEqual(caught.kept.ns, { db: 'nexadb', coll: 'orders' });
      assert.strictEqual(caught.kept.timestamp, undefined);
    });

    it('catchUp on every collection reads every collection; without an event seen before, every document', async () => {
      const p = await proxy();
      const c = client({}, p);
      const w = client();
      await w.create('a', { n: 0 });
      const s = c.watch(null, { catchUp: true });
      await s.ready;
      const col = collect(s);
      await outage(p, s, async () => {
        await w.create('a', { n: 1 });
        await w.create('b', { n: 2 });
      });
      await col.until(() => col.events.length >= 4, 'the gap and three catchUp items');
      assert.strictEqual(col.events[0].operationType, 'gap');
      assert.strictEqual(col.events[0].ns.coll, null);
      const caught = col.events.slice(1).map((x) => `${x.operationType} ${x.ns.coll} ${x.fullDocument.n}`).sort();
      assert.deepStrictEqual(caught, ['catchUp a 0', 'catchUp a 1', 'catchUp b 2']);
    });

    it('dropOldest with gaps: one gap item stands where the dropped events were, with their count, grown while not consumed', async () => {
      const c = client();
      const w = client();
      const s = c.watch('burst', { overflow: 'dropOldest', highWaterMark: 10, gaps: true });
      await s.ready;
      const docs = (from) => Array.from({ length: 50 }, (_, i) => ({ i: from + i }));
      await w.batchWrite('burst', docs(0));
      await waitFor(() => s.dropped === 40, 'forty dropped');
      await w.batchWrite('burst', docs(50));
      await waitFor(() => s.dropped === 90, 'ninety dropped');
      const items = [];
      for (let k = 0; k < 11; k++) items.push((await s.next()).value);
      const [gap, ...events] = items;
      assert.strictEqual(gap.operationType, 'gap');
      assert.strictEqual(gap.reason, 'dropOldest');
      assert.strictEqual(gap.count, 90);
      assert.deepStrictEqual(events.map((e) => e.fullDocument.i), Array.from({ length: 10 }, (_, k) => 90 + k));
      assert.ok(gap.since <= gap.until && gap.until < events[0].timestamp, `[${gap.since}, ${gap.until}] before ${events[0].timestamp}`);
      assert.strictEqual(s.buffered, 0);
    });

    it('twenty restarts under a writer: every acknowledged write is an event, a catchUp item, or inside a reported gap', async function () {
      this.timeout(60000);
      await null;
      const c = client({ requestTimeout: 3000 });
      const w = client({ requestTimeout: 3000 });
      const caughtUp = c.watch('acct', { catchUp: true });
      const gapped = c.watch('acct', { gaps: true });
      await Promise.all([caughtUp.ready, gapped.ready]);
      const cols = [collect(caughtUp), collect(gapped)];

      const acked = []; // {i, t0, t1}: the write's change was stamped between t0 and t1
      let stop = false;
      const writer = (async () => {
        for (let i = 0; !stop; i++) {
          const t0 = now();
          try {
            await w.create('acct', { i });
            acked.push({ i, t0, t1: now() });
          } catch (err) {
            if (!(err instanceof NexaError)) throw err;
          }
        }
      })();
      for (let r = 1; r <= 20; r++) {
        const before = cols.map((col) => col.events.length);
        await Promise.all(cols.map((col, k) => col.until(() => col.events.length > before[k] + 3, `events before restart ${r}`)));
        const store = srv.store;
        await srv.close();
        await sleep([0, 20, 60, 150][r % 4]);
        srv = await startDevServer({ port: srv.port, store });
        await waitFor(() => caughtUp.reconnects === r && gapped.reconnects === r, `both streams back after restart ${r}`, 10000, 2);
      }
      stop = true;
      await writer;
      await w.create('acct', { last: true });
      await Promise.all(cols.map((col) => untilLive(col, 'last', true)));

      const [withCatchUp, withGaps] = cols.map((col) => col.events);
      const seen = (events, type) => new Set(events.filter((e) => e.operationType === type && e.fullDocument.i !== undefined).map((e) => e.fullDocument.i));
      const liveA = seen(withCatchUp, 'insert');
      const caught = seen(withCatchUp, 'catchUp');
      const missingA = acked.filter((a) => !liveA.has(a.i) && !caught.has(a.i));
      assert.deepStrictEqual(missingA.map((a) => a.i), [], 'with catchUp: every acknowledged write arrives');

      const liveB = seen(withGaps, 'insert');
      const gaps = withGaps.filter((e) => e.operationType === 'gap');
      assert.ok(gaps.every((g) => g.reason === 'reconnect'), JSON.stringify(gaps));
      assert.strictEqual(gaps.length, 20);
      const missedB = acked.filter((a) => !liveB.has(a.i));
      const unexplained = missedB.filter((a) => !gaps.some((g) => a.t1 >= g.since && a.t0 <= g.until));
      assert.deepStrictEqual(unexplained, [], 'with gaps: every write not delivered lies inside a reported gap');
      for (const col of cols) assert.strictEqual(col.done, false, String(col.error));
      console.log(`      twenty restarts: ${acked.length} acknowledged writes; with catchUp: ${liveA.size} live, ` +
        `${acked.filter((a) => !liveA.has(a.i) && caught.has(a.i)).length} only as catchUp items (${caught.size} catchUp items in all); ` +
        `with gaps: ${liveB.size} live, ${missedB.length} inside the 20 reported gaps, ${unexplained.length} unexplained`);
    });
  });
});
