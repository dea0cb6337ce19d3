'use strict';
const assert = require('assert');
const net = require('net');
const util = require('util');

const NexaClient = require('..');
const {
  NexaError, NexaAuthError, NexaServerError, NexaNotFoundError, NexaConnectionError,
} = NexaClient;
const { startDevServer } = require('../lib/dev-server');
const { closedPort, waitFor, devServerSuite } = require('./fixtures/helpers');

const ID = /^[0-9a-f]{16}$/;
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/;

/** Records unhandled rejections and uncaught exceptions while `fn` runs (plus a few turns after). */
async function noUnhandled(fn) {
  const seen = [];
  const onRej = (reason) => seen.push(['unhandledRejection', reason]);
  const onExc = (err) => seen.push(['uncaughtException', err]);
  process.on('unhandledRejection', onRej);
  process.prependListener('uncaughtException', onExc);
  try {
    const result = await fn();
    // Unhandled rejections are reported after the microtask queue drains;
    // give the loop a few macrotask turns to report anything.
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10));
    return { result, seen };
  } finally {
    process.removeListener('unhandledRejection', onRej);
    process.removeListener('uncaughtException', onExc);
  }
}

async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected the promise to reject');
}

describe('NexaClient', function () {
  this.timeout(10000);

  const suite = devServerSuite();
  const { client } = suite;

  describe('connect()', () => {
    it('two concurrent connect() calls share one attempt and one connection', async () => {
      const c = client();
      assert.strictEqual(c.connected, false);
      const before = suite.srv.connections;
      const p1 = c.connect();
      const p2 = c.connect();
      assert.strictEqual(p1, p2, 'the second call returns the same promise');
      assert.strictEqual(await p1, undefined);
      await p2;
      assert.strictEqual(c.connected, true);
      assert.strictEqual(suite.srv.connections, before + 1);
    });

    it('connect() after connected resolves without dialling again', async () => {
      const c = client();
      await c.connect();
      const before = suite.srv.connections;
      await c.connect();
      await c.connect();
      assert.strictEqual(c.connected, true);
      await c.ping();
      assert.strictEqual(suite.srv.connections, before);
    });

    it('disconnect() closes the connection, and a request afterwards dials again', async () => {
      const c = client();
      await c.connect();
      const n = suite.srv.connections;
      await c.disconnect();
      assert.strictEqual(c.connected, false);
      await waitFor(() => suite.srv.connections === n - 1, 'the server to see the close');
      const pong = await c.ping();
      assert.strictEqual(pong.status, 'ok');
      assert.strictEqual(c.connected, true);
    });

    it('a refused connection rejects with ECONNREFUSED, a NexaConnectionError, and nothing unhandled', async () => {
      const port = await closedPort();
      const { result: err, seen } = await noUnhandled(async () => {
        const c = new NexaClient({ host: '127.0.0.1', port });
        suite.clients.push(c);
        return rejection(c.connect());
      });
      assert.ok(err instanceof NexaConnectionError, `got ${err && err.name}`);
      assert.ok(err instanceof NexaError);
      assert.strictEqual(err.code, 'ECONNREFUSED');
      assert.strictEqual(err.address, `127.0.0.1:${port}`);
      assert.deepStrictEqual(seen, []);
    });

    it('a request on a refused client rejects too, and nothing unhandled', async () => {
      const port = await closedPort();
      const { result: errs, seen } = await noUnhandled(async () => {
        const c = new NexaClient({ host: '127.0.0.1', port });
        suite.clients.push(c);
        return Promise.all([rejection(c.ping()), rejection(c.get('x', 'y'))]);
      });
      for (const err of errs) {
        assert.ok(err instanceof NexaConnectionError);
        assert.strictEqual(err.code, 'ECONNREFUSED');
      }
      assert.deepStrictEqual(seen, []);
    });

    it('a client can connect after a refused attempt', async () => {
      const port = await closedPort();
      const c = new NexaClient({ host: '127.0.0.1', port });
      suite.clients.push(c);
      const err = await rejection(c.connect());
      assert.strictEqual(err.code, 'ECONNREFUSED');
      // The failed attempt is forgotten: the next connect() dials again.
      const err2 = await rejection(c.connect());
      assert.notStrictEqual(err2, err);
      assert.strictEqual(err2.code, 'ECONNREFUSED');
    });

    it('an unresolvable host rejects with ENOTFOUND', async () => {
      const c = client({ host: 'no-such-host.invalid' });
      const err = await rejection(c.connect());
      assert.ok(err instanceof NexaConnectionError, `got ${err && err.name}: ${err && err.message}`);
      assert.strictEqual(err.code, 'ENOTFOUND');
    });

    it('a wrong password rejects with NexaAuthError and the server text, never showing the password', async () => {
      const secret = 'Sup3r-s3cret-pw-9931';
      const c = client({ password: secret });
      const err = await rejection(c.connect());
      assert.ok(err instanceof NexaAuthError, `got ${err && err.name}`);
      assert.ok(err instanceof NexaError);
      assert.strictEqual(err.code, 'NEXA_AUTH');
      assert.strictEqual(err.message, 'Invalid username or password');
      assert.strictEqual(c.connected, false);
      for (const text of [err.message, err.stack, util.inspect(err), util.inspect(c), util.inspect(c, { showHidden: true, depth: 5 }), JSON.stringify(err), String(c)]) {
        assert.ok(!String(text).includes(secret), `password shown in: ${text}`);
      }
    });

    it('a wrong user name rejects with the same NexaAuthError', async () => {
      const c = client({ username: 'nobody' });
      const err = await rejection(c.connect());
      assert.ok(err instanceof NexaAuthError);
      assert.strictEqual(err.message, 'Invalid username or password');
    });

    it('util.inspect(client) never shows the password, connected or not', async () => {
      const secret = 'nexadb123';
      const c = client();
      assert.ok(!util.inspect(c).includes(secret));
      await c.connect();
      const s = c.watch('inspect');
      await s.ready;
      for (const text of [util.inspect(c), util.inspect(c, { showHidden: true, depth: 10 })]) {
        assert.ok(!text.includes(secret), `password shown in: ${text}`);
      }
      assert.match(util.inspect(c), /127\.0\.0\.1:\d+, connected, streams: 1/);
    });

    // BUG (lib/change-stream.js + lib/connection.js): a ChangeStream has no
    // custom inspect and holds its Connection, whose `_opts` keeps the
    // password, so console.log(stream) prints it. Left failing on purpose.
    it('util.inspect(stream) never shows the password', async () => {
      const secret = 'an0ther-s3cret-pw';
      const srv2 = await startDevServer({ port: 0, users: { root: secret } });
      try {
        const c = new NexaClient({ host: '127.0.0.1', port: srv2.port, password: secret });
        suite.clients.push(c);
        const s = c.watch('inspect');
        await s.ready;
        const text = util.inspect(s);
        assert.ok(!text.includes(secret), `password shown in: ${text}`);
        await c.disconnect();
      } finally {
        await srv2.close();
      }
    });

    it('a server that accepts and never answers: connectTimeout rejects with ETIMEDOUT', async () => {
      const sockets = new Set();
      const silent = net.createServer((s) => {
        sockets.add(s);
        s.resume(); // read (and drop) what the client sends, so its FIN is seen
        s.on('error', () => {});
        s.on('close', () => sockets.delete(s));
      });
      await new Promise((r) => silent.listen(0, '127.0.0.1', r));
      try {
        const c = new NexaClient({ host: '127.0.0.1', port: silent.address().port, connectTimeout: 200 });
        suite.clients.push(c);
        const t0 = Date.now();
        const err = await rejection(c.connect());
        const took = Date.now() - t0;
        assert.ok(err instanceof NexaConnectionError, `got ${err && err.name}`);
        assert.strictEqual(err.code, 'ETIMEDOUT');
        assert.ok(took >= 150 && took < 3000, `timed out after ${took} ms`);
        // The client gives up its socket.
        await waitFor(() => sockets.size === 0, 'the client to close its socket');
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise((r) => silent.close(r));
      }
    });
  });

  describe('documents', () => {
    it('create, get, update, delete with the server\'s exact answers', async () => {
      const c = client();
      const created = await c.create('users', { name: 'Ada', age: 36, tags: ['x'] });
      assert.deepStrictEqual(Object.keys(created), ['database', 'collection', 'document_id', 'message']);
      assert.match(created.document_id, ID);
      assert.deepStrictEqual(created, {
        database: 'default', collection: 'users', document_id: created.document_id, message: 'Document inserted',
      });
      const id = created.document_id;

      const doc = await c.get('users', id);
      assert.deepStrictEqual(Object.keys(doc), ['_id', '_created_at', '_updated_at', 'name', 'age', 'tags']);
      assert.strictEqual(doc._id, id);
      assert.match(doc._created_at, STAMP);
      assert.strictEqual(doc._updated_at, doc._created_at);
      assert.deepStrictEqual({ name: doc.name, age: doc.age, tags: doc.tags }, { name: 'Ada', age: 36, tags: ['x'] });

      const updated = await c.update('users', id, { age: 37, city: 'London' });
      assert.deepStrictEqual(updated, {
        database: 'default', collection: 'users', document_id: id, message: 'Document updated',
      });
      const doc2 = await c.get('users', id);
      assert.deepStrictEqual(Object.keys(doc2), ['_id', '_created_at', '_updated_at', 'name', 'age', 'tags', 'city']);
      assert.strictEqual(doc2.age, 37);
      assert.strictEqual(doc2.city, 'London');
      // As on the reference server, an update restamps both times.
      assert.match(doc2._updated_at, STAMP);
      assert.strictEqual(doc2._created_at, doc2._updated_at);
      assert.ok(doc2._updated_at > doc._updated_at);

      const deleted = await c.delete('users', id);
      assert.deepStrictEqual(deleted, {
        database: 'default', collection: 'users', document_id: id, message: 'Document deleted',
      });
      assert.strictEqual(await c.get('users', id), null);
    });

    it('the first request connects by itself', async () => {
      const c = client();
      assert.strictEqual(c.connected, false);
      const r = await c.create('auto', { a: 1 });
      assert.match(r.document_id, ID);
      assert.strictEqual(c.connected, true);
    });

    it('get of a missing key resolves null', async () => {
      const c = client();
      assert.strictEqual(await c.get('users', '0000000000000000'), null);
      assert.strictEqual(await c.get('never-written', 'nope'), null);
    });

    it('update and delete of a missing key reject with NexaNotFoundError', async () => {
      const c = client();
      for (const p of [c.update('users', 'missing-key', { a: 1 }), c.delete('users', 'missing-key')]) {
        const err = await rejection(p);
        assert.ok(err instanceof NexaNotFoundError, `got ${err && err.name}`);
        assert.ok(err instanceof NexaServerError);
        assert.strictEqual(err.code, 'NEXA_NOT_FOUND');
        assert.ok(err.message.startsWith('Not found: '), err.message);
        assert.strictEqual(err.collection, 'users');
      }
      // The connection is still fine.
      assert.strictEqual((await c.ping()).status, 'ok');
    });

    it('a server ERROR rejects with NexaServerError carrying the server text', async () => {
      const c = client();
      const err = await rejection(c.create('bin', { blob: Buffer.from([1, 2, 3]) }));
      assert.ok(err instanceof NexaServerError, `got ${err && err.name}`);
      assert.ok(!(err instanceof NexaNotFoundError));
      assert.strictEqual(err.code, 'NEXA_SERVER');
      assert.strictEqual(err.message, 'Object of type bytes is not JSON serializable');
      assert.strictEqual(err.collection, 'bin');
      // Nothing was stored and the connection stays usable.
      assert.deepStrictEqual(await c.query('bin'), []);
      assert.strictEqual((await c.ping()).status, 'ok');
    });

    it('query with filters and limit', async () => {
      const c = client();
      const coll = 'q_items';
      const ids = [];
      for (let i = 0; i < 10; i++) {
        ids.push((await c.create(coll, { n: i, kind: i % 2 ? 'odd' : 'even' })).document_id);
      }
      // The dev server answers in _id order, as the reference server's key-ordered scan.
      const byId = (docs) => docs.slice().sort((a, b) => (a._id < b._id ? -1 : 1));
      const all = await c.query(coll);
      assert.strictEqual(all.length, 10);
      assert.deepStrictEqual(all.map((d) => d._id), ids.slice().sort());
      const inIdOrder = byId(all).map((d) => d.n);

      const odd = await c.query(coll, { kind: 'odd' });
      assert.deepStrictEqual(odd.map((d) => d.n).sort(), [1, 3, 5, 7, 9]);
      for (const d of odd) assert.strictEqual(d._id, ids[d.n]);

      const big = await c.query(coll, { n: { $gte: 4 }, kind: 'even' });
      assert.deepStrictEqual(big.map((d) => d.n).sort(), [4, 6, 8]);

      const limited = await c.query(coll, {}, 3);
      assert.deepStrictEqual(limited.map((d) => d.n), inIdOrder.slice(0, 3));

      const wanted = [2, 5, 7, 9];
      const limitedFiltered = await c.query(coll, { n: { $in: wanted } }, 2);
      assert.deepStrictEqual(limitedFiltered.map((d) => d.n), inIdOrder.filter((n) => wanted.includes(n)).slice(0, 2));

      assert.deepStrictEqual(await c.query(coll, { kind: 'none' }), []);
      assert.deepStrictEqual(await c.query('q_empty_collection'), []);
    });

    it('batchWrite inserts every document and answers their ids', async () => {
      const c = client();
      const docs = Array.from({ length: 25 }, (_, i) => ({ i, label: `doc-${i}` }));
      const r = await c.batchWrite('batch', docs);
      assert.deepStrictEqual(Object.keys(r), ['database', 'collection', 'document_ids', 'count', 'message']);
      assert.strictEqual(r.database, 'default');
      assert.strictEqual(r.collection, 'batch');
      assert.strictEqual(r.count, 25);
      assert.strictEqual(r.message, 'Inserted 25 documents');
      assert.strictEqual(r.document_ids.length, 25);
      assert.strictEqual(new Set(r.document_ids).size, 25);
      for (const id of r.document_ids) assert.match(id, ID);
      const stored = await c.query('batch', {}, 1000);
      assert.strictEqual(stored.length, 25);
      const byId = new Map(stored.map((d) => [d._id, d]));
      r.document_ids.forEach((id, i) => assert.strictEqual(byId.get(id).label, `doc-${i}`));
    });

    it('ping answers the PONG payload', async () => {
      const c = client();
      const pong = await c.ping();
      assert.deepStrictEqual(Object.keys(pong), ['status', 'timestamp']);
      assert.strictEqual(pong.status, 'ok');
      assert.strictEqual(typeof pong.timestamp, 'number');
      assert.ok(Math.abs(pong.timestamp - Date.now() / 1000) < 60, `timestamp ${pong.timestamp}`);
    });

    it('pipelines requests: 100 concurrent creates on one connection, each its own id', async () => {
      const c = client();
      await c.connect();
      const before = suite.srv.connections;
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => c.create('pipe', { i })));
      assert.strictEqual(suite.srv.connections, before, 'no extra connections');
      const ids = answers.map((a) => a.document_id);
      for (const id of ids) assert.match(id, ID);
      assert.strictEqual(new Set(ids).size, 100);
      // Each answer belongs to its own request: document i holds i.
      const docs = await Promise.all(ids.map((id) => c.get('pipe', id)));
      assert.deepStrictEqual(docs.map((d) => d.i), Array.from({ length: 100 }, (_, i) => i));
    });

    it('mixed concurrent requests get their own answers in order', async () => {
      const c = client();
      const { document_id: id } = await c.create('mix', { v: 1 });
      const [pong, doc, missing, upd, q, err] = await Promise.all([
        c.ping(),
        c.get('mix', id),
        c.get('mix', 'nope'),
        c.update('mix', id, { v: 2 }),
        c.query('mix', { v: 2 }),
        rejection(c.delete('mix', 'nope')),
      ]);
      assert.strictEqual(pong.status, 'ok');
      assert.strictEqual(doc.v, 1);
      assert.strictEqual(missing, null);
      assert.strictEqual(upd.message, 'Document updated');
      assert.deepStrictEqual(q.map((d) => d._id), [id]);
      assert.ok(err instanceof NexaNotFoundError);
    });

    it('disconnect() answers the requests in flight first', async () => {
      const c = client();
      await c.connect();
      const created = c.create('inflight', { a: 1 });
      const pong = c.ping();
      const q = c.query('inflight');
      await c.disconnect();
      assert.strictEqual((await created).message, 'Document inserted');
      assert.strictEqual((await pong).status, 'ok');
      assert.ok(Array.isArray(await q));
      assert.strictEqual(c.connected, false);
    });

    it('an answer larger than maxFrameBytes rejects with NexaProtocolError; the client recovers', async () => {
      const writer = client();
      const { document_id: id } = await writer.create('maxframe', { big: 'x'.repeat(5000) });
      const c = client({ maxFrameBytes: 1024 });
      const err = await rejection(c.get('maxframe', id));
      assert.ok(err instanceof NexaClient.NexaProtocolError, `got ${err && err.name}`);
      assert.strictEqual(err.code, 'NEXA_PROTOCOL');
      assert.match(err.message, /maxFrameBytes/);
      // Small answers still work (on a new connection if need be).
      assert.strictEqual((await c.ping()).status, 'ok');
      assert.strictEqual(await c.get('maxframe', 'nope'), null);
    });

    it('values that cannot be sent reject, and the connection stays usable', async () => {
      const c = client();
      await assert.rejects(c.create('bad', { f() {} }), TypeError);
      await assert.rejects(c.create('bad', { s: Symbol('x') }), TypeError);
      await assert.rejects(c.create('bad', { n: 2n ** 64n }), RangeError);
      const cyclic = {};
      cyclic.self = cyclic;
      await assert.rejects(c.create('bad', cyclic), TypeError);
      assert.deepStrictEqual(await c.query('bad'), []);
      assert.strictEqual((await c.ping()).status, 'ok');
    });

    it('argument checks: requests reject with TypeError, watch() throws it', async () => {
      const c = client();
      await assert.rejects(c.create('', {}), TypeError);
      await assert.rejects(c.create(42, {}), TypeError);
      await assert.rejects(c.batchWrite('x', 'not an array'), TypeError);
      await assert.rejects(c.get(null, 'k'), TypeError);
      await assert.rejects(c.query(''), TypeError);
      assert.throws(() => c.watch(5), TypeError);
      assert.throws(() => c.watch('x', ['inserts']), TypeError);
      assert.throws(() => c.watch('x', []), TypeError);
      assert.throws(() => c.watch('x', { operations: 'insert' }), TypeError);
    });
  });

  describe('value types', () => {
    const U64_MAX = 2n ** 64n - 1n;
    const I64_MIN = -(2n ** 63n);
    const I64_MAX = 2n ** 63n - 1n;

    function sample() {
      return {
        u64max: U64_MAX,
        i64min: I64_MIN,
        i64max: I64_MAX,
        safe: Number.MAX_SAFE_INTEGER,
        negSafe: -Number.MAX_SAFE_INTEGER,
        small: 42,
        negative: -7,
        zero: 0,
        negZero: -0,
        tiny: 1.5e-300,
        half: 0.5,
        pi: Math.PI,
        text: 'café ☕ 🚀 中文',
        empty: '',
        nested: { a: { b: { c: [1, { d: 'deep' }] } }, 'key with spaces': 'ok', 'ключ': 'значение' },
        list: [null, true, false, [], {}, 'x', 1.25, -3],
        nil: null,
        yes: true,
        no: false,
      };
    }

    function checkCommon(doc) {
      assert.strictEqual(doc.safe, Number.MAX_SAFE_INTEGER);
      assert.strictEqual(doc.negSafe, -Number.MAX_SAFE_INTEGER);
      assert.strictEqual(doc.small, 42);
      assert.strictEqual(doc.negative, -7);
      assert.ok(Object.is(doc.zero, 0), 'zero stays +0');
      assert.ok(Object.is(doc.negZero, -0), `negZero arrived as ${doc.negZero}`);
      assert.strictEqual(doc.tiny, 1.5e-300);
      assert.strictEqual(doc.half, 0.5);
      assert.strictEqual(doc.pi, Math.PI);
      assert.strictEqual(doc.text, 'café ☕ 🚀 中文');
      assert.strictEqual(doc.empty, '');
      assert.deepStrictEqual(doc.nested, sample().nested);
      assert.deepStrictEqual(Object.keys(doc.nested), ['a', 'key with spaces', 'ключ']);
      assert.deepStrictEqual(doc.list, [null, true, false, [], {}, 'x', 1.25, -3]);
      assert.strictEqual(doc.nil, null);
      assert.strictEqual(doc.yes, true);
      assert.strictEqual(doc.no, false);
      assert.deepStrictEqual(Object.keys(doc).slice(3), Object.keys(sample()));
    }

    it("round trip with int64: 'auto' keeps big integers exact as BigInt", async () => {
      const c = client({ int64: 'auto' });
      const { document_id: id } = await c.create('types', sample());
      const doc = await c.get('types', id);
      assert.strictEqual(doc.u64max, U64_MAX);
      assert.strictEqual(doc.i64min, I64_MIN);
      assert.strictEqual(doc.i64max, I64_MAX);
      assert.strictEqual(typeof doc.safe, 'number', 'safe integers stay Numbers in auto mode');
      checkCommon(doc);
      // Through a query too.
      const [viaQuery] = await c.query('types', { u64max: U64_MAX });
      assert.ok(viaQuery, 'query by a uint64 value finds the document');
      assert.strictEqual(viaQuery.u64max, U64_MAX);
    });

    it("with the default int64: 'number' the same big values arrive as Numbers", async () => {
      const writer = client({ int64: 'auto' });
      const { document_id: id } = await writer.create('types', sample());
      const c = client();
      const doc = await c.get('types', id);
      for (const [k, big] of [['u64max', U64_MAX], ['i64min', I64_MIN], ['i64max', I64_MAX]]) {
        assert.strictEqual(typeof doc[k], 'number', `${k} is ${typeof doc[k]}`);
        assert.strictEqual(doc[k], Number(big));
      }
      checkCommon(doc);
    });

    it("int64: 'bigint' gives integers outside 32 bits as BigInt; 'string' gives unsafe ones as decimal text", async () => {
      const writer = client({ int64: 'auto' });
      const { document_id: id } = await writer.create('types', { u: U64_MAX, i: I64_MIN, s: 5, f: 1.5, w: 2 ** 40 });
      const b = await client({ int64: 'bigint' }).get('types', id);
      assert.strictEqual(b.u, U64_MAX);
      assert.strictEqual(b.i, I64_MIN);
      assert.strictEqual(b.s, 5, 'index.d.ts: a BigInt for every integer outside the 32-bit range');
      assert.strictEqual(b.w, 2n ** 40n);
      assert.strictEqual(b.f, 1.5);
      const s = await client({ int64: 'string' }).get('types', id);
      assert.strictEqual(s.u, '18446744073709551615');
      assert.strictEqual(s.i, '-9223372036854775808');
      assert.strictEqual(s.s, 5);
      assert.strictEqual(s.w, 2 ** 40);
      assert.strictEqual(s.f, 1.5);
    });
  });

  describe('constructor options', () => {
    it('accepts no options and valid options', () => {
      const c = new NexaClient();
      assert.strictEqual(c.host, 'localhost');
      assert.strictEqual(c.port, 6970);
      assert.strictEqual(c.connected, false);
      const d = new NexaClient({ host: 'db.example', port: 1234, int64: 'bigint', connectTimeout: 0, maxFrameBytes: 1024 });
      assert.strictEqual(d.host, 'db.example');
      assert.strictEqual(d.port, 1234);
    });

    const bad = [
      ['null options', null],
      ['a string for options', 'localhost'],
      ['an empty host', { host: '' }],
      ['a numeric host', { host: 127 }],
      ['port 0', { port: 0 }],
      ['port 65536', { port: 65536 }],
      ['a string port', { port: '6970' }],
      ['a fractional port', { port: 69.7 }],
      ['a numeric username', { username: 1 }],
      ['a null password', { password: null }],
      ['a negative connectTimeout', { connectTimeout: -1 }],
      ['a fractional connectTimeout', { connectTimeout: 1.5 }],
      ['a string connectTimeout', { connectTimeout: '100' }],
      ['a tiny maxFrameBytes', { maxFrameBytes: 10 }],
      ['an unknown int64 mode', { int64: 'float' }],
    ];
    for (const [what, opts] of bad) {
      it(`throws TypeError for ${what}`, () => {
        assert.throws(() => new NexaClient(opts), TypeError);
      });
    }
  });
});
