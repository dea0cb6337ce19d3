'use strict';
const assert = require('assert');

const NexaClient = require('..');
const native = require('../lib/native');
const { ChangeStream, NexaConnectionError, NexaAuthError } = NexaClient;
const { startDevServer } = require('../lib/dev-server');
const { waitFor, dropCollection, patternString, closedPort, devServerSuite, burstServer } = require('./fixtures/helpers');

const DEFAULT_OPS = ['insert', 'update', 'delete'];
const INSERT_KEYS = ['operationType', 'ns', 'timestamp', 'documentKey', 'fullDocument'];
const UPDATE_KEYS = ['operationType', 'ns', 'timestamp', 'documentKey', 'fullDocument', 'updateDescription'];
const DELETE_KEYS = ['operationType', 'ns', 'timestamp', 'documentKey'];
const DROP_KEYS = ['operationType', 'ns', 'timestamp'];

/** The next event, failing (rather than hanging) if none comes within `ms`. */
function nextEvent(stream, ms = 5000) {
  let timer;
  return Promise.race([
    stream.next().then((r) => {
      assert.strictEqual(r.done, false, 'the stream ended instead of delivering an event');
      return r.value;
    }),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function takeEvents(stream, n, ms = 8000) {
  const out = [];
  const until = Date.now() + ms;
  while (out.length < n) out.push(await nextEvent(stream, Math.max(1, until - Date.now())));
  return out;
}

function checkTimestamp(ev) {
  assert.strictEqual(typeof ev.timestamp, 'number');
  assert.ok(Math.abs(ev.timestamp - Date.now() / 1000) < 60, `timestamp ${ev.timestamp}`);
}

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
      const err = await s.ready.then(() => assert.fail('ready resolved'), (e) => e);
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
        const err = await s.ready.then(() => assert.fail('ready resolved'), (e) => e);
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

  describe('events', () => {
    it('insert, update and delete events arrive with exact shapes and key order', async () => {
      const c = client();
      const s = c.watch('shapes');
      await s.ready;

      const { document_id: id } = await c.create('shapes', { name: 'widget', qty: 3 });
      const ins = await nextEvent(s);
      assert.deepStrictEqual(Object.keys(ins), INSERT_KEYS);
      const stored = await c.get('shapes', id);
      assert.deepStrictEqual(ins, {
        operationType: 'insert',
        ns: { db: 'nexadb', coll: 'shapes' },
        timestamp: ins.timestamp,
        documentKey: { _id: id },
        fullDocument: stored,
      });
      assert.deepStrictEqual(Object.keys(ins.ns), ['db', 'coll']);
      assert.deepStrictEqual(Object.keys(ins.fullDocument), ['_id', '_created_at', '_updated_at', 'name', 'qty']);
      checkTimestamp(ins);

      await c.update('shapes', id, { qty: 4, color: 'red' });
      const upd = await nextEvent(s);
      assert.deepStrictEqual(Object.keys(upd), UPDATE_KEYS);
      const stored2 = await c.get('shapes', id);
      assert.deepStrictEqual(upd, {
        operationType: 'update',
        ns: { db: 'nexadb', coll: 'shapes' },
        timestamp: upd.timestamp,
        documentKey: { _id: id },
        fullDocument: stored2,
        updateDescription: { updatedFields: { qty: 4, color: 'red' } },
      });
      assert.deepStrictEqual(Object.keys(upd.updateDescription.updatedFields), ['qty', 'color']);
      assert.ok(upd.timestamp > ins.timestamp);

      await c.delete('shapes', id);
      const del = await nextEvent(s);
      assert.deepStrictEqual(Object.keys(del), DELETE_KEYS);
      assert.deepStrictEqual(del, {
        operationType: 'delete',
        ns: { db: 'nexadb', coll: 'shapes' },
        timestamp: del.timestamp,
        documentKey: { _id: id },
      });
      assert.ok(del.timestamp > upd.timestamp);
    });

    it('watch() sees every collection', async () => {
      const c = client();
      const s = c.watch();
      await s.ready;
      const a = await c.create('every_a', { v: 1 });
      const b = await c.create('every_b', { v: 2 });
      const d = await c.create('every_c', { v: 3 });
      const evs = await takeEvents(s, 3);
      assert.deepStrictEqual(evs.map((e) => e.ns.coll), ['every_a', 'every_b', 'every_c']);
      assert.deepStrictEqual(evs.map((e) => e.documentKey._id), [a.document_id, b.document_id, d.document_id]);
    });

    it('a collection watch does not see other collections', async () => {
      const c = client();
      const s = c.watch('mine');
      await s.ready;
      await c.create('not_mine', { v: 0 });
      const { document_id: id } = await c.create('mine', { v: 1 });
      const ev = await nextEvent(s);
      assert.strictEqual(ev.ns.coll, 'mine');
      assert.strictEqual(ev.documentKey._id, id);
    });

    it("operations filter: with ['insert'] an update and a delete are not delivered, the next insert is", async () => {
      const c = client();
      const s = c.watch('opsfilter', ['insert']);
      await s.ready;
      const { document_id: a } = await c.create('opsfilter', { n: 1 });
      await c.update('opsfilter', a, { n: 2 });
      await c.delete('opsfilter', a);
      const { document_id: b } = await c.create('opsfilter', { n: 3 });
      const [e1, e2] = await takeEvents(s, 2);
      assert.strictEqual(e1.operationType, 'insert');
      assert.strictEqual(e1.documentKey._id, a);
      assert.strictEqual(e2.operationType, 'insert');
      assert.strictEqual(e2.documentKey._id, b);
    });

    it('dropCollection is delivered only to a watch that lists it', async () => {
      const c = client();
      const plain = c.watch('dropme');
      const withDrop = c.watch('dropme', ['insert', 'dropCollection']);
      await Promise.all([plain.ready, withDrop.ready]);
      const { document_id: a } = await c.create('dropme', { n: 1 });
      const answer = await dropCollection(suite.srv.port, 'dropme');
      assert.deepStrictEqual(answer.payload, { database: 'default', collection: 'dropme', message: 'Collection dropped' });
      const { document_id: b } = await c.create('dropme', { n: 2 });

      const [p1, p2] = await takeEvents(plain, 2);
      assert.deepStrictEqual([p1.operationType, p1.documentKey._id], ['insert', a]);
      assert.deepStrictEqual([p2.operationType, p2.documentKey._id], ['insert', b], 'the drop was not delivered');

      const [w1, w2, w3] = await takeEvents(withDrop, 3);
      assert.deepStrictEqual([w1.operationType, w1.documentKey._id], ['insert', a]);
      assert.deepStrictEqual(Object.keys(w2), DROP_KEYS);
      assert.deepStrictEqual(w2, { operationType: 'dropCollection', ns: { db: 'nexadb', coll: 'dropme' }, timestamp: w2.timestamp });
      assert.deepStrictEqual([w3.operationType, w3.documentKey._id], ['insert', b]);
    });

    it('events after ready are delivered even though next() was not called yet', async () => {
      const c = client();
      const s = c.watch('buffered');
      const witness = c.watch('buffered');
      await Promise.all([s.ready, witness.ready]);
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push((await c.create('buffered', { i })).document_id);
      await c.update('buffered', ids[0], { i: 100 });
      await c.delete('buffered', ids[1]);
      // All seven events have reached the client (the witness has them all)
      // before anyone asks `s` for anything.
      await takeEvents(witness, 7);
      await c.ping();
      const evs = await takeEvents(s, 7);
      assert.deepStrictEqual(evs.map((e) => e.operationType), ['insert', 'insert', 'insert', 'insert', 'insert', 'update', 'delete']);
      assert.deepStrictEqual(evs.map((e) => e.documentKey._id), [...ids, ids[0], ids[1]]);
      assert.deepStrictEqual(evs.slice(0, 5).map((e) => e.fullDocument.i), [0, 1, 2, 3, 4]);
    });

    it('a 2 MiB document event arrives intact', async function () {
      this.timeout(20000);
      const c = client();
      const s = c.watch('large');
      await s.ready;
      const big = patternString(2 * 1024 * 1024);
      assert.strictEqual(big.length, 2 * 1024 * 1024);
      const { document_id: id } = await c.create('large', { big, after: 'tail' });
      const ev = await nextEvent(s, 15000);
      assert.strictEqual(ev.operationType, 'insert');
      assert.strictEqual(ev.documentKey._id, id);
      assert.strictEqual(ev.fullDocument.big.length, big.length);
      assert.ok(ev.fullDocument.big === big, 'the 2 MiB string differs');
      assert.strictEqual(ev.fullDocument.after, 'tail');
      // The request path carries it too.
      const doc = await c.get('large', id);
      assert.ok(doc.big === big);
    });

    it('non-ASCII text (2-, 3- and 4-byte UTF-8) over many string segments, long non-ASCII keys, int64, bins: every event intact', async function () {
      // The worker cuts a batch's text into segments at event starts; string
      // offsets count UTF-16 units from each segment's start.
      this.timeout(20000);
      const EVENTS = 1000;
      const doc = (i) => ({
        operationType: i % 3 ? 'insert' : 'ïnsért',
        ns: { db: 'nexadb', coll: 'ü' },
        [`ключ-долгий-ключ-${i % 5}`]: `väl-${i}-😀`,
        documentKey: { _id: `id-😀-${i}-${'ß'.repeat(i % 20)}` },
        fullDocument: { big: 'é😀中'.repeat((i * 37) % 1500), arr: [i, 'ж', { 'ünïcødé-key-long': `x😀${i}` }], n: 2 ** 40 + i, b: Buffer.from([i & 255, 1, 2]), emo: '😀' },
      });
      const server = await burstServer(() => Buffer.concat(Array.from({ length: EVENTS }, (_, i) => native.frame(0x90, doc(i)))));
      const c = new NexaClient({ host: '127.0.0.1', port: server.port, autoReconnect: false });
      try {
        const s = c.watch('x');
        await s.ready;
        let n = 0;
        for await (const ev of s) {
          assert.deepStrictEqual(ev, doc(n), `event ${n}`);
          if (++n === EVENTS) break;
        }
        assert.strictEqual(n, EVENTS);
      } finally {
        await c.disconnect();
        await server.close();
      }
    });

    it('an event past the reused batch arrays (300,000 numbers), then small ones: all intact', async function () {
      // The addon hands batches over in typed arrays it reuses, up to 1 MiB
      // each; a larger batch gets arrays of its own, and the next batches
      // must be back on the reused ones.
      this.timeout(20000);
      const c = client();
      const s = c.watch('arrays');
      await s.ready;
      const nums = Array.from({ length: 300000 }, (_, i) => i * 1.5);
      await c.create('arrays', { n: 0 });
      await c.create('arrays', { nums });
      for (let i = 1; i <= 3; i++) await c.create('arrays', { n: i, tag: `t${i}` });
      const evs = await takeEvents(s, 5);
      assert.strictEqual(evs[0].fullDocument.n, 0);
      assert.deepStrictEqual(evs[1].fullDocument.nums, nums);
      assert.deepStrictEqual(evs.slice(2).map((e) => [e.fullDocument.n, e.fullDocument.tag]), [[1, 't1'], [2, 't2'], [3, 't3']]);
    });

    it('an event larger than maxFrameBytes ends the stream with NexaProtocolError (autoReconnect off)', async () => {
      const c = client({ maxFrameBytes: 1024, autoReconnect: false });
      const s = c.watch('toolarge');
      await s.ready;
      const writer = client();
      await writer.create('toolarge', { big: 'x'.repeat(5000) });
      await assert.rejects(s.next(), (e) => e instanceof NexaClient.NexaProtocolError && e.code === 'NEXA_PROTOCOL' && /maxFrameBytes/.test(e.message));
      assert.strictEqual(s.closed, true);
    });

    it('events carry the value types (int64 auto on the stream)', async () => {
      const c = client({ int64: 'auto' });
      const s = c.watch('evtypes');
      await s.ready;
      await c.create('evtypes', { u: 2n ** 64n - 1n, i: -(2n ** 63n), z: -0, t: 'café ☕ 🚀 中文', l: [null, true, false, [], {}] });
      const ev = await nextEvent(s);
      const d = ev.fullDocument;
      assert.strictEqual(d.u, 2n ** 64n - 1n);
      assert.strictEqual(d.i, -(2n ** 63n));
      assert.ok(Object.is(d.z, -0));
      assert.strictEqual(d.t, 'café ☕ 🚀 中文');
      assert.deepStrictEqual(d.l, [null, true, false, [], {}]);
    });
  });

  describe('several watches', () => {
    it('two watches on different collections each receive exactly their own events, 1,000-insert burst included', async function () {
      this.timeout(20000);
      const c = client();
      const a = c.watch('burst_a');
      const b = c.watch('burst_b');
      await Promise.all([a.ready, b.ready]);

      const { document_id: b1 } = await c.create('burst_b', { first: true });
      const docs = Array.from({ length: 1000 }, (_, i) => ({ i }));
      const batch = await c.batchWrite('burst_a', docs);
      assert.strictEqual(batch.count, 1000);
      const { document_id: aEnd } = await c.create('burst_a', { sentinel: true });
      const { document_id: bEnd } = await c.create('burst_b', { sentinel: true });

      const evA = await takeEvents(a, 1001, 15000);
      const burst = evA.slice(0, 1000);
      for (const e of burst) {
        assert.strictEqual(e.operationType, 'insert');
        assert.strictEqual(e.ns.coll, 'burst_a');
      }
      const got = burst.map((e) => e.documentKey._id);
      assert.strictEqual(new Set(got).size, 1000, 'no duplicates');
      assert.deepStrictEqual(got.slice().sort(), batch.document_ids.slice().sort(), 'exactly the batch, no loss');
      assert.deepStrictEqual(burst.map((e) => e.fullDocument.i).sort((x, y) => x - y), docs.map((d) => d.i));
      assert.strictEqual(evA[1000].documentKey._id, aEnd, 'then the sentinel, nothing else');

      const evB = await takeEvents(b, 2);
      assert.deepStrictEqual(evB.map((e) => e.documentKey._id), [b1, bEnd], 'b saw none of the burst');
      assert.deepStrictEqual(evB.map((e) => e.ns.coll), ['burst_b', 'burst_b']);
    });

    it('two watches on one collection with different operations each receive exactly their own events', async function () {
      this.timeout(20000);
      const c = client();
      const ins = c.watch('sameops', ['insert']);
      const mod = c.watch('sameops', { operations: ['update', 'delete'] });
      await Promise.all([ins.ready, mod.ready]);

      const batch = await c.batchWrite('sameops', Array.from({ length: 1000 }, (_, i) => ({ i })));
      const [x, y] = batch.document_ids;
      await c.update('sameops', x, { i: -1 });
      await c.delete('sameops', y);
      const { document_id: last } = await c.create('sameops', { sentinel: true });
      await c.delete('sameops', last);

      const evI = await takeEvents(ins, 1001, 15000);
      assert.ok(evI.every((e) => e.operationType === 'insert'));
      const ids = evI.slice(0, 1000).map((e) => e.documentKey._id);
      assert.strictEqual(new Set(ids).size, 1000);
      assert.deepStrictEqual(ids.slice().sort(), batch.document_ids.slice().sort());
      assert.strictEqual(evI[1000].documentKey._id, last);

      const evM = await takeEvents(mod, 3);
      assert.deepStrictEqual(evM.map((e) => [e.operationType, e.documentKey._id]), [['update', x], ['delete', y], ['delete', last]]);
      assert.deepStrictEqual(evM[0].updateDescription, { updatedFields: { i: -1 } });

      // Nothing more is pending on either: the next thing each sees is a fresh sentinel.
      const { document_id: s2 } = await c.create('sameops', { s: 2 });
      await c.delete('sameops', s2);
      assert.deepStrictEqual((await nextEvent(ins)).documentKey._id, s2);
      const e = await nextEvent(mod);
      assert.deepStrictEqual([e.operationType, e.documentKey._id], ['delete', s2]);
    });

    it('two clients watching the same collection both get every event', async () => {
      const c1 = client();
      const c2 = client();
      const s1 = c1.watch('shared');
      const s2 = c2.watch('shared');
      await Promise.all([s1.ready, s2.ready]);
      const { document_ids: ids } = await c1.batchWrite('shared', [{ a: 1 }, { a: 2 }, { a: 3 }]);
      for (const s of [s1, s2]) {
        assert.deepStrictEqual((await takeEvents(s, 3)).map((e) => e.documentKey._id), ids);
      }
    });
  });

  describe('one way to consume a stream', () => {
    it("a stream a loop iterates refuses 'change' listeners and stream(); one with listeners refuses next() and stream()", async () => {
      const c = client();
      const iterated = c.watch('modes');
      await iterated.ready;
      const w = client();
      await w.create('modes', { n: 1 });
      assert.strictEqual((await nextEvent(iterated)).fullDocument.n, 1);
      assert.throws(() => iterated.on('change', () => {}), {
        name: 'TypeError',
        message: "this ChangeStream is iterated (for await, next() or stream()): it cannot also be consumed by 'change' listeners (one way to consume a stream)",
      });
      assert.doesNotThrow(() => iterated.stream(), 'stream() iterates too');

      const flowing = c.watch('modes');
      await flowing.ready;
      const seen = [];
      flowing.on('change', (e) => seen.push(e.fullDocument.n));
      flowing.on('change', () => {}); // more listeners are fine
      await assert.rejects(flowing.next(), /this ChangeStream is consumed by 'change' listeners: it cannot also be iterated/);
      assert.throws(() => flowing.stream(), TypeError);
      await w.create('modes', { n: 2 });
      await waitFor(() => seen.length === 1, 'the listener to see the event');
      assert.deepStrictEqual(seen, [2]);
    });
  });

  describe('ending streams', () => {
    it('break in for-await closes the stream; the server drops its connection; the client keeps working', async () => {
      const c = client();
      await c.connect();
      const base = suite.srv.connections;
      const s = c.watch('breaker');
      await s.ready;
      assert.strictEqual(suite.srv.connections, base + 1);
      const { document_id: id } = await c.create('breaker', { n: 1 });
      await c.create('breaker', { n: 2 });
      let seen = null;
      for await (const ev of s) {
        seen = ev;
        break;
      }
      assert.strictEqual(seen.documentKey._id, id);
      assert.strictEqual(s.closed, true);
      await waitFor(() => suite.srv.connections === base, `suite.srv.connections back to ${base} (is ${suite.srv.connections})`);
      // A closed stream is done, the undelivered event is dropped.
      assert.deepStrictEqual(await s.next(), { value: undefined, done: true });
      // The client still works, and a new watch works.
      assert.strictEqual((await c.ping()).status, 'ok');
      const s2 = c.watch('breaker');
      await s2.ready;
      const { document_id: id3 } = await c.create('breaker', { n: 3 });
      assert.strictEqual((await nextEvent(s2)).documentKey._id, id3);
    });

    it('return() resolves done and closes', async () => {
      const c = client();
      const s = c.watch('returner');
      await s.ready;
      assert.deepStrictEqual(await s.return(), { value: undefined, done: true });
      assert.strictEqual(s.closed, true);
      assert.deepStrictEqual(await s.next(), { value: undefined, done: true });
    });

    it('stream.close() makes a pending next() resolve {done: true}', async () => {
      const c = client();
      const s = c.watch('closer');
      await s.ready;
      const pending = s.next();
      const pending2 = s.next();
      await s.close();
      assert.deepStrictEqual(await pending, { value: undefined, done: true });
      assert.deepStrictEqual(await pending2, { value: undefined, done: true });
      assert.deepStrictEqual(await s.next(), { value: undefined, done: true });
      assert.strictEqual(s.closed, true);
      // close() is idempotent.
      await s.close();
    });

    it('close() before ready settles without throwing', async () => {
      const c = client();
      const s = c.watch('early');
      const pending = s.next();
      await s.close();
      assert.deepStrictEqual(await pending, { value: undefined, done: true });
      await s.ready.catch(() => {});
    });

    it('disconnect() ends a pending for-await loop normally', async () => {
      const c = client();
      const s = c.watch('disc');
      await s.ready;
      const got = [];
      let first;
      const gotFirst = new Promise((r) => { first = r; });
      const loop = (async () => {
        for await (const ev of s) {
          got.push(ev);
          first();
        }
        return 'ended';
      })();
      const { document_id: id } = await c.create('disc', { n: 1 });
      await gotFirst;
      await c.disconnect();
      assert.strictEqual(await loop, 'ended');
      assert.deepStrictEqual(got.map((e) => e.documentKey._id), [id]);
      assert.strictEqual(s.closed, true);
      assert.strictEqual(c.connected, false);
    });

    it('disconnect() ends several streams and closes every connection', async () => {
      const c = client();
      await c.connect();
      const streams = [c.watch('m1'), c.watch('m2'), c.watch(), c.watch('m1', ['delete'])];
      await Promise.all(streams.map((s) => s.ready));
      const loops = streams.map(async (s) => {
        let n = 0;
        for await (const ev of s) n += ev ? 1 : 0;
        return n;
      });
      await c.create('m1', { x: 1 });
      await c.create('m2', { x: 1 });
      // The catch-all stream saw both, so events are flowing; now disconnect.
      await c.disconnect();
      const counts = await Promise.all(loops);
      for (const n of counts) assert.ok(n >= 0 && n <= 2);
      for (const s of streams) assert.strictEqual(s.closed, true);
      await waitFor(() => suite.srv.connections === 0, `every connection closed (server has ${suite.srv.connections})`);
    });

    it('when the server goes away, a pending for-await loop rejects with ECONNRESET (autoReconnect off)', async () => {
      const srv2 = await startDevServer({ port: 0 });
      let closed = false;
      try {
        const c = new NexaClient({ host: '127.0.0.1', port: srv2.port, autoReconnect: false });
        suite.clients.push(c);
        const s = c.watch('gone');
        await s.ready;
        const loop = (async () => {
          const seen = [];
          for await (const ev of s) seen.push(ev);
          return seen;
        })();
        await c.create('gone', { a: 1 });
        await waitFor(() => srv2.connections === 2, 'both connections');
        await srv2.close();
        closed = true;
        let timer;
        const err = await Promise.race([
          loop.then(() => assert.fail('the loop ended normally'), (e) => e),
          new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('the loop hangs')), 5000); }),
        ]).finally(() => clearTimeout(timer));
        assert.ok(err instanceof NexaConnectionError, `got ${err && err.name}: ${err && err.message}`);
        assert.strictEqual(err.code, 'ECONNRESET');
        assert.strictEqual(s.closed, true);
        // Requests fail too (nothing listens any more).
        await assert.rejects(c.ping(), (e) => e instanceof NexaConnectionError);
      } finally {
        if (!closed) await srv2.close();
      }
    });

    it('when the server goes away with events buffered, they are delivered first, then the error (autoReconnect off)', async () => {
      const srv2 = await startDevServer({ port: 0 });
      try {
        const c = new NexaClient({ host: '127.0.0.1', port: srv2.port, autoReconnect: false });
        suite.clients.push(c);
        const s = c.watch('gone2');
        const witness = c.watch('gone2');
        await Promise.all([s.ready, witness.ready]);
        const { document_ids: ids } = await c.batchWrite('gone2', [{ a: 1 }, { a: 2 }, { a: 3 }]);
        await takeEvents(witness, 3);
        const end = witness.next().then(() => assert.fail('the witness got more'), (e) => e);
        await srv2.close();
        assert.strictEqual((await end).code, 'ECONNRESET'); // the witness saw the end; `s` has or soon will
        assert.deepStrictEqual((await takeEvents(s, 3)).map((e) => e.documentKey._id), ids);
        await assert.rejects(s.next(), (e) => e instanceof NexaConnectionError && e.code === 'ECONNRESET');
        // (What later next() calls give is checked by the test below: it
        // depends on whether the error found a pending next().)
      } finally {
        await srv2.close();
      }
    });

    // BUG (lib/change-stream.js:80, _settleWaiters): when the connection fails
    // while a next() is pending, the error rejects that next() but is not
    // cleared, so every later next() rejects with the same error again,
    // although next() (line 101) promises "reported once; then the stream is
    // simply done". A `while (true) { try { await s.next() } catch {} }`
    // loop spins forever. Left failing: it should be fixed.
    it('after the connection error was reported to a pending next(), later next() calls are done (autoReconnect off)', async () => {
      const srv2 = await startDevServer({ port: 0 });
      try {
        const c = new NexaClient({ host: '127.0.0.1', port: srv2.port, autoReconnect: false });
        suite.clients.push(c);
        const s = c.watch('gone3');
        await s.ready;
        const pending = s.next();
        await srv2.close();
        await assert.rejects(pending, (e) => e instanceof NexaConnectionError && e.code === 'ECONNRESET');
        assert.strictEqual(s.closed, true);
        assert.deepStrictEqual(await s.next(), { value: undefined, done: true });
      } finally {
        await srv2.close();
      }
    });
  });

  describe('streams and requests', () => {
    it('CRUD is not delayed by a watch nobody consumes (2,000 buffered events, 50 pings)', async function () {
      this.timeout(20000);
      const c = client();
      const idle = c.watch('flood');
      await idle.ready;
      const witness = c.watch('flood');
      await witness.ready;
      const batch = await c.batchWrite('flood', Array.from({ length: 2000 }, (_, i) => ({ i, pad: 'x'.repeat(100) })));
      assert.strictEqual(batch.count, 2000);
      const t0 = Date.now();
      const pongs = await Promise.all(Array.from({ length: 50 }, () => c.ping()));
      const took = Date.now() - t0;
      assert.ok(pongs.every((p) => p.status === 'ok'));
      assert.ok(took < 3000, `50 pings took ${took} ms`);
      // CRUD works while the stream holds everything.
      const { document_id: id } = await c.create('other', { ok: true });
      assert.strictEqual((await c.get('other', id)).ok, true);
      // And nothing was lost in the idle stream.
      await takeEvents(witness, 2000, 15000);
      const evs = await takeEvents(idle, 2000, 15000);
      assert.deepStrictEqual(evs.map((e) => e.documentKey._id).sort(), batch.document_ids.slice().sort());
    });
  });
});
