'use strict';
// The whole client API (issue 3): every operation against the dev server,
// databases, timeouts and AbortSignal, connection strings, typed errors,
// int64 both ways, ESM.
const assert = require('assert');
const net = require('net');
const path = require('path');
const NexaClient = require('..');
const native = require('../lib/native');
const encoder = require('../lib/encode');
const { startDevServer } = require('../lib/dev-server');
const { load } = require('./helpers/transcripts');
const { encodeFrame, FrameReader, MSG, HEADER_SIZE } = require('../lib/dev-server/protocol');

const {
  NexaError, NexaServerError, NexaNotFoundError, NexaTimeoutError, NexaAbortError, NexaAuthError, NexaConnectionError,
} = NexaClient;

describe('client API', function () {
  this.timeout(10000);
  let srv;
  let client;

  before(async () => {
    srv = await startDevServer({ port: 0, users: { root: 'nexadb123', alice: { password: 'pw', role: 'write' } } });
  });
  after(async () => srv.close());
  beforeEach(() => {
    client = new NexaClient({ host: '127.0.0.1', port: srv.port });
  });
  afterEach(async () => client.disconnect());

  describe('databases', () => {
    it('a trailing { database } reaches the server on every collection call', async () => {
      const a = await client.create('users', { name: 'acme' }, { database: 'tenant_acme' });
      assert.strictEqual(a.database, 'tenant_acme');
      assert.strictEqual(await client.get('users', a.document_id), null, 'not in the default database');
      assert.strictEqual((await client.get('users', a.document_id, { database: 'tenant_acme' })).name, 'acme');
      await client.update('users', a.document_id, { plan: 'pro' }, { database: 'tenant_acme' });
      const found = await client.query('users', { plan: 'pro' }, { database: 'tenant_acme', limit: 5 });
      assert.deepStrictEqual(found.map((d) => d._id), [a.document_id]);
      assert.deepStrictEqual(await client.query('users', { plan: 'pro' }, 100), [], 'query(coll, filters, 100) still works');
      assert.ok((await client.listCollections({ database: 'tenant_acme' })).includes('users'));
      await client.delete('users', a.document_id, { database: 'tenant_acme' });
      await assert.rejects(client.delete('users', a.document_id, { database: 'tenant_acme' }), NexaNotFoundError);
    });

    it('new NexaClient({ database }) applies to every call; a call may override it', async () => {
      const c = new NexaClient({ host: '127.0.0.1', port: srv.port, database: 'tenant_b' });
      try {
        const r = await c.batchWrite('items', [{ n: 1 }, { n: 2 }]);
        assert.strictEqual(r.database, 'tenant_b');
        assert.strictEqual((await c.query('items')).length, 2);
        assert.strictEqual((await c.query('items', {}, { database: 'default' })).length, 0);
        assert.ok((await c.listDatabases()).includes('tenant_b'));
      } finally {
        await c.disconnect();
      }
    });

    it('createDatabase, listDatabases, dropDatabase', async () => {
      const r = await client.createDatabase('scratch_db');
      assert.strictEqual(r.database, 'scratch_db');
      assert.ok((await client.listDatabases()).includes('scratch_db'));
      await client.dropDatabase('scratch_db');
      assert.ok(!(await client.listDatabases()).includes('scratch_db'));
      await assert.rejects(client.dropDatabase('scratch_db'), (e) => e instanceof NexaServerError && e.code === 'NEXA_SERVER' &&
        e.message === "Database 'scratch_db' not found" && e.operation === 'dropDatabase');
    });
  });

  describe('collections', () => {
    it('listCollections and dropCollection (with its event for a watcher that lists it)', async () => {
      await client.create('to_drop', { x: 1 });
      assert.ok((await client.listCollections()).includes('to_drop'));
      const stream = client.watch('to_drop', { operations: ['dropCollection'] });
      await stream.ready;
      const r = await client.dropCollection('to_drop');
      assert.strictEqual(r.message, 'Collection dropped');
      const { value } = await stream.next();
      assert.strictEqual(value.operationType, 'dropCollection');
      assert.deepStrictEqual(Object.keys(value), ['operationType', 'ns', 'timestamp']);
      assert.ok(!(await client.listCollections()).includes('to_drop'));
      await assert.rejects(client.dropCollection('to_drop'), (e) => e.code === 'NEXA_SERVER' && e.collection === 'to_drop' &&
        /not found/.test(e.message));
    });
  });

  describe('vectors', () => {
    it('vectorSearch ranks nearest first; positional and options forms; getVectors; buildHnswIndex', async () => {
      await client.create('vecs', { name: 'x-axis', vector: [1, 0, 0] });
      await client.create('vecs', { name: 'diag', vector: [1, 1, 0] });
      await client.create('vecs', { name: 'z-axis', vector: [0, 0, 1] });
      const positional = await client.vectorSearch('vecs', [1, 0.1, 0], 2, 3);
      assert.deepStrictEqual(positional.map((r) => r.document.name), ['x-axis', 'diag']);
      assert.ok(positional[0].similarity > positional[1].similarity);
      const withOptions = await client.vectorSearch('vecs', [0, 0, 1], { limit: 1, dimensions: 3 });
      assert.strictEqual(withOptions[0].document.name, 'z-axis');
      await assert.rejects(client.vectorSearch('vecs', [1, 0, 0]), (e) => e.code === 'NEXA_SERVER' && /768 dimensions/.test(e.message));
      const v = await client.getVectors();
      assert.strictEqual(v.collections.vecs.count, 3);
      const h = await client.buildHnswIndex('vecs', { M: 16, efConstruction: 200 });
      assert.strictEqual(h.num_vectors, 3);
      await assert.rejects(client.buildHnswIndex('no_vectors_here'), NexaServerError);
    });
  });

  describe('TOON', () => {
    it('queryToon, exportToon, importToon', async () => {
      await client.batchWrite('toon', [{ a: 1, b: 'x' }, { a: 2, b: 'y' }]);
      const q = await client.queryToon('toon', { a: { $gte: 2 } }, 10);
      assert.strictEqual(q.format, 'TOON');
      assert.strictEqual(q.count, 1);
      assert.match(q.data, /documents\[1\]/);
      const e = await client.exportToon('toon');
      assert.strictEqual(e.count, 2);
      const i = await client.importToon('toon_copy', e.data);
      assert.strictEqual(i.imported, 2);
      assert.deepStrictEqual((await client.query('toon_copy')).map((d) => d.b).sort(), ['x', 'y']);
      const r = await client.importToon('toon_copy', e.data, { replace: true });
      assert.strictEqual(r.replaced, true);
      assert.strictEqual((await client.query('toon_copy')).length, 2);
    });
  });

  describe('users', () => {
    it('createUser, listUsers, changePassword, deleteUser; the new user can connect', async () => {
      const r = await client.createUser('bob', 'secret1', 'write');
      assert.strictEqual(r.username, 'bob');
      assert.strictEqual(r.role, 'write');
      const users = await client.listUsers();
      assert.strictEqual(users.bob.role, 'write');
      const bob = new NexaClient({ host: '127.0.0.1', port: srv.port, username: 'bob', password: 'secret1' });
      await bob.connect();
      await bob.changePassword('bob', 'secret2');
      await bob.disconnect();
      const old = new NexaClient({ host: '127.0.0.1', port: srv.port, username: 'bob', password: 'secret1' });
      await assert.rejects(old.connect(), NexaAuthError);
      const fresh = new NexaClient({ host: '127.0.0.1', port: srv.port, username: 'bob', password: 'secret2' });
      await fresh.connect();
      await assert.rejects(fresh.listUsers(), (e) => e.code === 'NEXA_SERVER' && /Only admins/.test(e.message));
      await fresh.disconnect();
      await client.deleteUser('bob');
      assert.ok(!('bob' in (await client.listUsers())));
      await assert.rejects(client.deleteUser('bob'), (e) => e.message === "User 'bob' not found" && e.username === 'bob');
    });
  });

  describe('timeouts and cancellation', () => {
    let slow;
    let slowPort;
    // Answers CONNECT at once; the first request after 300 ms, the rest at once.
    before((done) => {
      slow = net.createServer((sock) => {
        const reader = new FrameReader();
        let n = 0;
        const queue = [];
        let busy = false;
        const pump = () => {
          if (busy || queue.length === 0) return;
          const { delay, frame } = queue.shift();
          busy = true;
          setTimeout(() => { sock.write(frame); busy = false; pump(); }, delay);
        };
        sock.on('data', (chunk) => {
          reader.push(chunk);
          for (let f = reader.next(); f !== null; f = reader.next()) {
            if (f.type === MSG.CONNECT) { sock.write(encodeFrame(MSG.SUCCESS, { status: 'connected' })); continue; }
            if (f.type === MSG.DISCONNECT) { sock.end(encodeFrame(MSG.SUCCESS, { status: 'goodbye' })); continue; }
            n++;
            queue.push({ delay: n === 1 ? 300 : 0, frame: encodeFrame(MSG.PONG, { status: 'ok', n }) });
            pump();
          }
        });
        sock.on('error', () => {});
      });
      slow.listen(0, '127.0.0.1', () => { slowPort = slow.address().port; done(); });
    });
    after((done) => slow.close(done));

    it('requestTimeout rejects with NexaTimeoutError; the late answer does not shift later ones', async () => {
      const c = new NexaClient({ host: '127.0.0.1', port: slowPort, requestTimeout: 100 });
      try {
        const first = c.ping();
        const second = c.ping({ timeout: 2000 });
        await assert.rejects(first, (e) => e instanceof NexaTimeoutError && e.code === 'NEXA_TIMEOUT' && /ping timed out after 100 ms/.test(e.message));
        assert.strictEqual((await second).n, 2, 'the second request gets its own answer');
        assert.strictEqual((await c.ping()).n, 3);
      } finally {
        await c.disconnect();
      }
    });

    it('{ signal }: aborting rejects promptly with NexaAbortError (ABORT_ERR, name AbortError)', async () => {
      const c = new NexaClient({ host: '127.0.0.1', port: slowPort });
      try {
        await c.connect();
        const ac = new AbortController();
        const p = c.ping({ signal: ac.signal });
        const t0 = Date.now();
        setTimeout(() => ac.abort(), 20);
        await assert.rejects(p, (e) => e instanceof NexaAbortError && e.code === 'ABORT_ERR' && e.name === 'AbortError');
        assert.ok(Date.now() - t0 < 250, 'before the answer came');
        assert.strictEqual((await c.ping()).n, 2);
        const pre = AbortSignal.abort();
        await assert.rejects(c.ping({ signal: pre }), (e) => e.code === 'ABORT_ERR');
      } finally {
        await c.disconnect();
      }
    });
  });

  describe('connection strings', () => {
    it('nexadb://user:password@host:port/database', async () => {
      const c = new NexaClient(`nexadb://alice:pw@127.0.0.1:${srv.port}/tenant_cs?requestTimeout=5000`);
      try {
        assert.strictEqual(c.host, '127.0.0.1');
        assert.strictEqual(c.port, srv.port);
        assert.strictEqual(c.database, 'tenant_cs');
        const r = await c.create('things', { ok: true });
        assert.strictEqual(r.database, 'tenant_cs');
      } finally {
        await c.disconnect();
      }
    });

    it('percent-encoded credentials, a second options argument, and clear errors that never echo the password', () => {
      const c = new NexaClient('nexadb://r%40ot:p%3Ass@db.example/x', { port: 7000 });
      assert.strictEqual(c.port, 7000);
      assert.strictEqual(c.host, 'db.example');
      assert.throws(() => new NexaClient('mongodb://root:hunter2@x'), (e) => e instanceof TypeError && !e.message.includes('hunter2'));
      assert.throws(() => new NexaClient('nexadb://root:hunter2@x:99999'), (e) => e instanceof TypeError && !e.message.includes('hunter2'));
      assert.throws(() => new NexaClient('nexadb://x/?bogus=1'), /unknown option "bogus"/);
    });
  });

  describe('errors a program can branch on', () => {
    it('every error is a NexaError with a stable code and says where', async () => {
      await assert.rejects(client.update('c', 'missing', { a: 1 }), (e) => e instanceof NexaNotFoundError && e instanceof NexaServerError &&
        e instanceof NexaError && e.code === 'NEXA_NOT_FOUND' && e.collection === 'c' && e.key === 'missing' &&
        e.message.includes(`127.0.0.1:${srv.port}`) && e.message.includes("'c'"));
      await assert.rejects(client.create('c', { b: Buffer.from([1]) }), (e) => e.code === 'NEXA_SERVER' &&
        e.message === 'Object of type bytes is not JSON serializable' && e.collection === 'c' && e.operation === 'create');
      const refused = new NexaClient({ host: '127.0.0.1', port: 1 });
      await assert.rejects(refused.ping(), (e) => e instanceof NexaConnectionError && e.code === 'ECONNREFUSED' && e.message.includes('127.0.0.1:1'));
    });

    it('argument errors reject with TypeError, before anything is sent', async () => {
      const c = new NexaClient({ host: '127.0.0.1', port: 1 }); // would be refused if it dialled
      await assert.rejects(c.create('', {}), TypeError);
      await assert.rejects(c.create('c', [1]), TypeError);
      await assert.rejects(c.query('c', {}, -1), TypeError);
      await assert.rejects(c.vectorSearch('c', 'nope'), TypeError);
      await assert.rejects(c.createUser('u', ''), TypeError);
      await assert.rejects(c.batchWrite('c', {}), TypeError);
      await assert.rejects(c.ping('nope'), TypeError);
      assert.throws(() => c.watch(42), TypeError, 'watch() returns a stream, so it throws');
    });
  });

  describe('int64 both ways (the transcripts\' integer edges)', () => {
    const edges = { uint_max: 18446744073709551615n, int_max: 9223372036854775807n, int_min: -9223372036854775808n };

    it('BigInt goes out as 64-bit integers, byte for byte as the reference server encodes them', function () {
      const scenarios = load();
      if (!scenarios) this.skip('skipped: ../shared/protocol is absent');
      const event = scenarios.watch_value_types.frames.find((f) => f.type === MSG.CHANGE_EVENT);
      const recorded = Buffer.from(event.hex, 'hex').subarray(HEADER_SIZE);
      // The whole event, re-encoded from the recorded values (BigInt where they exceed 2^53), is the recorded bytes.
      assert.ok(encoder.encode(event.payload).equals(recorded));
      for (const [k, v] of Object.entries(edges)) {
        const bytes = encoder.encode(v);
        assert.strictEqual(bytes.length, 9, k);
        assert.strictEqual(bytes[0], v > 0n ? 0xcf : 0xd3, k); // positive: uint64, as the reference sends int_max
      }
    });

    for (const mode of ['auto', 'bigint', 'string', 'number']) {
      it(`round trip through the server with int64: '${mode}'`, async () => {
        const c = new NexaClient({ host: '127.0.0.1', port: srv.port, int64: mode });
        try {
          const r = await c.create(`ints_${mode}`, { ...edges, small: 5, big_safe: 2 ** 40 });
          const d = await c.get(`ints_${mode}`, r.document_id);
          for (const [k, v] of Object.entries(edges)) {
            const want = { auto: v, bigint: v, string: String(v), number: Number(v) }[mode];
            assert.strictEqual(d[k], want, `${k} in ${mode}`);
          }
          assert.strictEqual(d.small, 5);
          assert.strictEqual(d.big_safe, mode === 'bigint' ? 2n ** 40n : 2 ** 40);
          const found = await c.query(`ints_${mode}`, { int_max: { $eq: edges.int_max } });
          assert.strictEqual(found.length, 1, 'a BigInt filter matches exactly');
        } finally {
          await c.disconnect();
        }
      });
    }
  });

  describe('modules', () => {
    it("ESM: import NexaClient, { NexaClient, NexaError } from 'nexaclient'", async () => {
      const m = await import('nexaclient');
      assert.strictEqual(m.default, NexaClient);
      assert.strictEqual(m.NexaClient, NexaClient);
      assert.strictEqual(m.NexaError, NexaError);
      assert.strictEqual(m.NexaAbortError, NexaAbortError);
      const dev = require(path.join('..', 'lib', 'dev-server'));
      assert.strictEqual(typeof dev.startDevServer, 'function');
      assert.strictEqual(require('nexaclient/dev-server').startDevServer, dev.startDevServer);
    });
  });
});
