'use strict';

// Tests of the in-memory dev server (lib/dev-server.js), over raw sockets:
// replays of the reference transcripts, then behaviour the transcripts do not show.

const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { encode, decode } = require('../lib/native');
const { startDevServer, DevServer } = require('../lib/dev-server');
const { RawClient: BaseRawClient } = require('./fixtures/helpers');

const TRANSCRIPTS = path.join(__dirname, '..', '..', 'shared', 'protocol', 'reference-transcripts.json');
const MISSING = `the protocol folder is missing: ${path.dirname(TRANSCRIPTS)} not found`;

const T = {
  CONNECT: 0x01, CREATE: 0x02, READ: 0x03, UPDATE: 0x04, DELETE: 0x05, QUERY: 0x06,
  BATCH_WRITE: 0x08, PING: 0x09, DISCONNECT: 0x0a, LIST_COLLECTIONS: 0x20, DROP_COLLECTION: 0x21,
  SUBSCRIBE: 0x30, UNSUBSCRIBE: 0x31, LIST_DATABASES: 0x40,
  SUCCESS: 0x81, ERROR: 0x82, NOT_FOUND: 0x83, PONG: 0x88, EVENT: 0x90,
};

const ID = /^[0-9a-f]{16}$/;
const DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/;

/** Skips a transcript test, saying why in its title and once on stderr. */
let warned = false;
function skipMissing(ctx) {
  if (!warned) {
    warned = true;
    process.stderr.write(`dev-server tests: skipping the transcript replays: ${MISSING}\n`);
  }
  ctx.test.title += ` (skipped: ${MISSING})`;
  ctx.skip();
}

let transcripts;
function loadTranscripts() {
  if (transcripts === undefined) {
    transcripts = fs.existsSync(TRANSCRIPTS) ? JSON.parse(fs.readFileSync(TRANSCRIPTS, 'utf8')) : null;
  }
  return transcripts;
}

function frame(type, payload, { magic = 0x4e455841, version = 1 } = {}) {
  const body = Buffer.isBuffer(payload) ? payload : encode(payload);
  const h = Buffer.alloc(12);
  h.writeUInt32BE(magic, 0);
  h[4] = version;
  h[5] = type;
  h.writeUInt32BE(body.length, 8);
  return Buffer.concat([h, body]);
}

/** A raw protocol client: frames in, frames out, in order. */
class RawClient extends BaseRawClient {
  send(type, payload) { this.socket.write(frame(type, payload)); }
  sendRaw(bytes) { this.socket.write(bytes); }

  /** The next frame; rejects on close or after `ms`. */
  next(ms = 3000) {
    return this.take(() => true, 'a frame', ms);
  }

  async request(type, payload) {
    this.send(type, payload);
    return this.next();
  }

  /** Asserts no frame is pending: a PING's PONG must be the very next frame. */
  async assertNothingPending({ authenticated = true } = {}) {
    const f = await this.request(T.PING, {});
    const answer = authenticated ? { type: T.PONG, keys: ['status', 'timestamp'] } : { type: T.ERROR, keys: ['error'] };
    assert.strictEqual(f.type, answer.type, `expected no pending frame, got ${JSON.stringify(show(f), replacer)}`);
    assert.deepStrictEqual(Object.keys(f.payload), answer.keys);
  }
}

function show(f) {
  return { type: f.type, payload: f.payload };
}

async function authed(server, user = 'root', password = 'nexadb123') {
  const c = await RawClient.open(server);
  const f = await c.request(T.CONNECT, { username: user, password });
  assert.strictEqual(f.type, T.SUCCESS, JSON.stringify(f.payload, replacer));
  return c;
}

function replacer(k, v) {
  return typeof v === 'bigint' ? `${v}n` : v;
}

function isMap(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/**
 * Compares an answer with the recorded one: the same keys in the same order
 * in every map, equal values, except the values that are random or
 * time-dependent, which must have the recorded form.
 */
function assertLike(actual, expected, where, ids) {
  if (isMap(expected)) {
    assert.ok(isMap(actual), `${where}: expected a map, got ${JSON.stringify(actual, replacer)}`);
    assert.deepStrictEqual(Object.keys(actual), Object.keys(expected), `${where}: keys or key order differ`);
    for (const k of Object.keys(expected)) assertLike(actual[k], expected[k], `${where}.${k}`, ids);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: expected an array`);
    assert.strictEqual(actual.length, expected.length, `${where}: length`);
    const idList = /\.document_ids$/.test(where);
    expected.forEach((e, i) => {
      if (idList) assertId(actual[i], e, `${where}[${i}]`, ids);
      else assertLike(actual[i], e, `${where}[${i}]`, ids);
    });
    return;
  }
  const key = where.slice(where.lastIndexOf('.') + 1);
  if (key === '_id' || key === 'document_id') return assertId(actual, expected, where, ids);
  if (key === '_created_at' || key === '_updated_at') {
    assert.match(actual, DATE, where);
    return;
  }
  if (key === 'timestamp') {
    assert.strictEqual(typeof actual, 'number', where);
    assert.ok(Math.abs(actual - Date.now() / 1000) < 60, `${where}: ${actual} is not now`);
    return;
  }
  if (typeof expected === 'number' && Object.is(expected, -0)) {
    assert.ok(Object.is(actual, -0), `${where}: expected -0, got ${actual}`);
    return;
  }
  assert.strictEqual(actual, expected, `${where}`);
}

/** A recorded id maps to one id of ours, the same everywhere. */
function assertId(actual, expected, where, ids) {
  assert.match(actual, ID, where);
  if (ids.has(expected)) assert.strictEqual(actual, ids.get(expected), `${where}: not the same document`);
  else ids.set(expected, actual);
}

function expectedPayload(f) {
  if (f.hex) return decode(Buffer.from(f.hex, 'hex').subarray(12), { int64: 'auto' });
  return f.payload; // only watch_large_document, whose blob is abbreviated
}

/** A client-to-server frame of a transcript, its recorded key replaced by ours. */
function c2sBytes(f, ids) {
  const bytes = Buffer.from(f.hex, 'hex');
  if (bytes.length < 12 || bytes.readUInt32BE(0) !== 0x4e455841 || bytes[4] !== 1) return bytes;
  let payload;
  try {
    payload = decode(bytes.subarray(12), { int64: 'auto' });
  } catch (_) {
    return bytes; // the bad_msgpack frame
  }
  if (isMap(payload) && typeof payload.key === 'string' && ids.has(payload.key)) {
    return frame(bytes[5], Object.assign({}, payload, { key: ids.get(payload.key) }));
  }
  return bytes;
}

function documentFields(doc) {
  const out = {};
  for (const k of Object.keys(doc)) if (!k.startsWith('_')) out[k] = doc[k];
  return out;
}

/** The write, on another connection, that makes a recorded event. */
async function causeEvent(writer, event, ids) {
  const coll = event.ns.coll;
  let f;
  if (event.operationType === 'insert') {
    const fields = documentFields(event.fullDocument);
    if (fields.blob && fields.blob.$str) fields.blob = 'z'.repeat(fields.blob.$len);
    f = await writer.request(T.CREATE, { collection: coll, data: fields });
    ids.set(event.documentKey._id, f.payload.document_id);
  } else if (event.operationType === 'update') {
    f = await writer.request(T.UPDATE, {
      collection: coll, key: ids.get(event.documentKey._id), updates: event.updateDescription.updatedFields,
    });
  } else if (event.operationType === 'delete') {
    f = await writer.request(T.DELETE, { collection: coll, key: ids.get(event.documentKey._id) });
  } else {
    f = await writer.request(T.DROP_COLLECTION, { collection: coll });
  }
  assert.strictEqual(f.type, T.SUCCESS, JSON.stringify(f.payload, replacer));
}

/** Frames whose bytes hold nothing random must be byte-identical to the reference's. */
function hasRandom(payload) {
  return /"(_id|document_id|document_ids|_created_at|_updated_at|timestamp)"/.test(JSON.stringify(payload, replacer));
}

async function replay(server, scenario) {
  const ids = new Map();
  const client = await RawClient.open(server);
  let writer = null;
  try {
    for (const f of scenario.frames) {
      if (f.dir === 'c2s') {
        client.sendRaw(c2sBytes(f, ids));
        continue;
      }
      if (f.dir === 's2c' && f.closed) {
        await client.waitClosed();
        continue;
      }
      if (!f.dir && f.error) {
        // The reference reset the connection after its ERROR: ours closes it.
        await client.waitClosed();
        continue;
      }
      const expected = expectedPayload(f);
      if (f.type === T.EVENT) {
        if (!writer) writer = await authed(server);
        await causeEvent(writer, expected, ids);
      }
      const got = await client.next();
      const where = `frame ${scenario.frames.indexOf(f)}`;
      assert.strictEqual(got.type, f.type, `${where}: type, got ${JSON.stringify(show(got), replacer)}`);
      assert.strictEqual(got.flags, 0);
      if (expected.error && expected.error.startsWith('Invalid MessagePack: ')) {
        assert.deepStrictEqual(Object.keys(got.payload), ['error']);
        assert.ok(got.payload.error.startsWith('Invalid MessagePack: '), got.payload.error);
        continue;
      }
      if (f.header_hex) {
        // watch_large_document: same header, so same payload length.
        assert.strictEqual(got.raw.subarray(0, 12).toString('hex'), f.header_hex);
        const blob = got.payload.fullDocument.blob;
        assert.strictEqual(blob.length, expected.fullDocument.blob.$len);
        assert.ok(/^z+$/.test(blob));
        got.payload.fullDocument.blob = expected.fullDocument.blob;
      }
      assertLike(got.payload, expected, where, ids);
      assert.strictEqual(got.length, f.payload_len, `${where}: payload length`);
      if (f.hex && !hasRandom(expected)) {
        assert.strictEqual(got.raw.toString('hex'), f.hex, `${where}: bytes`);
      }
    }
    if (!client.closed) {
      const authenticated = scenario.frames.some((f) => f.dir === 's2c' && f.payload && f.payload.status === 'connected');
      await client.assertNothingPending({ authenticated });
    }
  } finally {
    client.end();
    if (writer) writer.end();
  }
}

const SCENARIOS = [
  'connect_ok', 'connect_bad_password', 'connect_missing_fields', 'unauthenticated_request',
  'bad_magic', 'bad_version', 'bad_msgpack', 'unknown_type', 'crud', 'watch_orders_crud',
  'watch_all_with_drop', 'watch_filtered_ops', 'watch_value_types', 'create_binary_refused',
  'watch_large_document', 'subscribe_twice_same_connection',
];

describe('dev server', function () {
  this.timeout(10000);
  let server;

  beforeEach(async () => {
    server = await startDevServer({ port: 0 });
  });

  afterEach(async () => {
    await server.close();
  });

  describe('reference transcripts replayed', () => {
    it('holds the 16 scenarios listed here', function () {
      const t = loadTranscripts();
      if (!t) skipMissing(this);
      assert.deepStrictEqual(Object.keys(t.scenarios).sort(), SCENARIOS.slice().sort());
    });

    for (const name of SCENARIOS) {
      it(name, async function () {
        const t = loadTranscripts();
        if (!t) skipMissing(this);
        await replay(server, t.scenarios[name]);
      });
    }
  });

  describe('framing and errors', () => {
    it('reads frames split byte by byte and many frames in one write', async () => {
      const c = await RawClient.open(server);
      const bytes = Buffer.concat([
        frame(T.CONNECT, { username: 'root', password: 'nexadb123' }),
        frame(T.PING, {}), frame(T.PING, {}),
      ]);
      for (const b of bytes) c.sendRaw(Buffer.from([b]));
      assert.strictEqual((await c.next()).type, T.SUCCESS);
      assert.strictEqual((await c.next()).type, T.PONG);
      assert.strictEqual((await c.next()).type, T.PONG);
      c.sendRaw(Buffer.concat([frame(T.PING, {}), frame(T.PING, {}), frame(T.PING, {})]));
      for (let i = 0; i < 3; i++) assert.strictEqual((await c.next()).type, T.PONG);
      c.end();
    });

    it('answers bad magic with ERROR and closes', async () => {
      const c = await RawClient.open(server);
      c.sendRaw(frame(T.PING, {}, { magic: 0xdeadbeef }));
      const f = await c.next();
      assert.strictEqual(f.type, T.ERROR);
      assert.deepStrictEqual(f.payload, { error: 'Invalid protocol magic: 0xdeadbeef' });
      await c.waitClosed();
    });

    it('answers a bad version with ERROR and closes, even when authenticated', async () => {
      const c = await authed(server);
      c.sendRaw(frame(T.PING, {}, { version: 7 }));
      assert.deepStrictEqual((await c.next()).payload, { error: 'Unsupported protocol version: 7' });
      await c.waitClosed();
    });

    it('keeps the connection after a payload that is not MessagePack, or an empty one', async () => {
      const c = await authed(server);
      c.sendRaw(frame(T.PING, Buffer.from([0xc1])));
      let f = await c.next();
      assert.strictEqual(f.type, T.ERROR);
      assert.match(f.payload.error, /^Invalid MessagePack: /);
      assert.doesNotMatch(f.payload.error, /MessagePack: .*MessagePack: /i, 'the reason is not doubled');
      c.sendRaw(frame(T.PING, Buffer.alloc(0)));
      f = await c.next();
      assert.match(f.payload.error, /^Invalid MessagePack: /);
      assert.strictEqual((await c.request(T.PING, {})).type, T.PONG);
      c.end();
    });

    it('refuses requests before CONNECT, unknown types included, and after a failed CONNECT', async () => {
      const c = await RawClient.open(server);
      const unauth = { error: 'Not authenticated. Send CONNECT message with API key first.' };
      for (const type of [T.PING, T.CREATE, T.SUBSCRIBE, T.DISCONNECT, 0x7e]) {
        const f = await c.request(type, { collection: 'x', data: { a: 1 } });
        assert.strictEqual(f.type, T.ERROR);
        assert.deepStrictEqual(f.payload, unauth);
      }
      assert.deepStrictEqual((await c.request(T.CONNECT, { username: 'nobody', password: 'x' })).payload,
        { error: 'Invalid username or password' });
      assert.deepStrictEqual((await c.request(T.CONNECT, { password: 'x' })).payload,
        { error: "Missing 'username' or 'password' field in CONNECT message" });
      assert.deepStrictEqual((await c.request(T.PING, {})).payload, unauth);
      c.end();
    });

    it('answers PONG with a float64 timestamp, and DISCONNECT with goodbye then close', async () => {
      const c = await authed(server);
      const f = await c.request(T.PING, {});
      assert.deepStrictEqual(Object.keys(f.payload), ['status', 'timestamp']);
      // fixmap(2) "status" "ok" "timestamp" then 0xcb: float64
      const at = f.raw.indexOf(Buffer.from('timestamp'));
      assert.strictEqual(f.raw[at + 9], 0xcb);
      assert.deepStrictEqual((await c.request(T.DISCONNECT, {})).payload, { status: 'goodbye' });
      await c.waitClosed();
    });

    it('survives garbage, abrupt resets and half frames', async () => {
      const a = await RawClient.open(server);
      a.sendRaw(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      const f = await a.next();
      assert.strictEqual(f.type, T.ERROR);
      assert.match(f.payload.error, /^Invalid protocol magic: 0x/);
      await a.waitClosed();
      const b = await RawClient.open(server);
      b.sendRaw(frame(T.CONNECT, { username: 'root', password: 'nexadb123' }).subarray(0, 20));
      b.socket.resetAndDestroy();
      const c = await authed(server);
      assert.strictEqual((await c.request(T.PING, {})).type, T.PONG);
      c.end();
    });
  });

  describe('documents', () => {
    let c;
    beforeEach(async () => { c = await authed(server); });
    afterEach(() => c.end());

    async function insert(collection, data, database) {
      const f = await c.request(T.CREATE, { collection, data, ...(database ? { database } : {}) });
      assert.strictEqual(f.type, T.SUCCESS, JSON.stringify(f.payload));
      return f.payload.document_id;
    }

    it('creates, reads, updates and deletes, with the stored key order', async () => {
      const id = await insert('people', { name: 'Ann', age: 30 });
      assert.match(id, ID);
      let f = await c.request(T.READ, { collection: 'people', key: id });
      assert.deepStrictEqual(Object.keys(f.payload), ['database', 'collection', 'document']);
      const doc = f.payload.document;
      assert.deepStrictEqual(Object.keys(doc), ['_id', '_created_at', '_updated_at', 'name', 'age']);
      assert.match(doc._created_at, DATE);
      assert.strictEqual(doc._created_at, doc._updated_at);
      await new Promise((r) => setTimeout(r, 2));
      f = await c.request(T.UPDATE, { collection: 'people', key: id, updates: { city: 'Oslo', age: 31 } });
      assert.deepStrictEqual(f.payload, { database: 'default', collection: 'people', document_id: id, message: 'Document updated' });
      const updated = (await c.request(T.READ, { collection: 'people', key: id })).payload.document;
      assert.deepStrictEqual(Object.keys(updated), ['_id', '_created_at', '_updated_at', 'name', 'age', 'city']);
      assert.strictEqual(updated.age, 31);
      assert.ok(updated._updated_at > doc._updated_at);
      // As on the reference server, an update stamps _created_at too.
      assert.strictEqual(updated._created_at, updated._updated_at);
      f = await c.request(T.DELETE, { collection: 'people', key: id });
      assert.deepStrictEqual(f.payload, { database: 'default', collection: 'people', document_id: id, message: 'Document deleted' });
      for (const [type, extra] of [[T.READ, {}], [T.UPDATE, { updates: { a: 1 } }], [T.DELETE, {}]]) {
        f = await c.request(type, { collection: 'people', key: id, ...extra });
        assert.strictEqual(f.type, T.NOT_FOUND);
        assert.deepStrictEqual(f.payload, { error: 'Not found' });
      }
    });

    it('keeps databases apart', async () => {
      const id = await insert('things', { a: 1 }, 'other');
      let f = await c.request(T.READ, { collection: 'things', key: id });
      assert.strictEqual(f.type, T.NOT_FOUND);
      f = await c.request(T.READ, { collection: 'things', key: id, database: 'other' });
      assert.strictEqual(f.payload.database, 'other');
      assert.strictEqual(f.payload.document.a, 1);
    });

    it('inserts a batch', async () => {
      const f = await c.request(T.BATCH_WRITE, { collection: 'b', documents: [{ n: 1 }, { n: 2 }, { n: 3 }] });
      assert.deepStrictEqual(Object.keys(f.payload), ['database', 'collection', 'document_ids', 'count', 'message']);
      assert.strictEqual(f.payload.count, 3);
      assert.strictEqual(f.payload.message, 'Inserted 3 documents');
      assert.strictEqual(new Set(f.payload.document_ids).size, 3);
      const q = await c.request(T.QUERY, { collection: 'b' });
      assert.deepStrictEqual(q.payload.documents.map((d) => d.n).sort(), [1, 2, 3]);
    });

    it('names missing fields as the reference server does', async () => {
      const cases = [
        [T.CREATE, { collection: 'x' }, "Missing 'collection' or 'data' field"],
        [T.CREATE, { collection: 'x', data: {} }, "Missing 'collection' or 'data' field"],
        [T.READ, { collection: 'x' }, "Missing 'collection' or 'key' field"],
        [T.UPDATE, { collection: 'x', key: 'k' }, "Missing 'collection', 'key', or 'updates' field"],
        [T.DELETE, { key: 'k' }, "Missing 'collection' or 'key' field"],
        [T.QUERY, {}, "Missing 'collection' field"],
        [T.BATCH_WRITE, { collection: 'x', documents: [] }, "Missing 'collection' or 'documents' field"],
        [T.DROP_COLLECTION, {}, "Missing 'collection' field"],
      ];
      for (const [type, payload, error] of cases) {
        const f = await c.request(type, payload);
        assert.strictEqual(f.type, T.ERROR, error);
        assert.deepStrictEqual(f.payload, { error });
      }
    });

    it('refuses binary values anywhere in a document, in CREATE, UPDATE and BATCH_WRITE', async () => {
      const id = await insert('bin', { a: 1 });
      const refused = { error: 'Object of type bytes is not JSON serializable' };
      const cases = [
        [T.CREATE, { collection: 'bin', data: { deep: [{ b: Buffer.from([1]) }] } }],
        [T.UPDATE, { collection: 'bin', key: id, updates: { b: Buffer.from([1]) } }],
        [T.BATCH_WRITE, { collection: 'bin', documents: [{ ok: 1 }, { b: Buffer.from([1]) }] }],
      ];
      for (const [type, payload] of cases) {
        const f = await c.request(type, payload);
        assert.strictEqual(f.type, T.ERROR);
        assert.deepStrictEqual(f.payload, refused);
      }
      const q = await c.request(T.QUERY, { collection: 'bin' });
      assert.strictEqual(q.payload.count, 1, 'nothing was written');
    });

    it('lists and drops collections and databases', async () => {
      await insert('zeta', { a: 1 });
      await insert('alpha', { a: 1 });
      await insert('elsewhere', { a: 1 }, 'db2');
      let f = await c.request(T.LIST_COLLECTIONS, {});
      assert.deepStrictEqual(f.payload, { database: 'default', collections: ['alpha', 'zeta'], count: 2 });
      f = await c.request(T.LIST_COLLECTIONS, { database: 'db2' });
      assert.deepStrictEqual(f.payload, { database: 'db2', collections: ['elsewhere'], count: 1 });
      f = await c.request(T.DROP_COLLECTION, { collection: 'zeta' });
      assert.deepStrictEqual(f.payload, { database: 'default', collection: 'zeta', message: 'Collection dropped' });
      f = await c.request(T.DROP_COLLECTION, { collection: 'zeta' });
      assert.strictEqual(f.type, T.ERROR);
      assert.deepStrictEqual(f.payload, { error: "Collection 'zeta' not found in database 'default'" });
      f = await c.request(T.LIST_COLLECTIONS, {});
      assert.deepStrictEqual(f.payload.collections, ['alpha']);
      f = await c.request(T.QUERY, { collection: 'zeta' });
      assert.strictEqual(f.payload.count, 0);
      f = await c.request(T.LIST_DATABASES, {});
      assert.deepStrictEqual(f.payload, { databases: ['db2', 'default'], count: 2 });
      f = await c.request(T.DROP_COLLECTION, { drop_database: true, database: 'default' });
      assert.deepStrictEqual(f.payload, { error: "Cannot drop 'default' database" });
    });
  });

  describe('queries', () => {
    let c;
    const people = [
      { name: 'ann', age: 30, tags: 'a', city: 'Oslo' },
      { name: 'bob', age: 25, city: 'Rome', info: { level: 2 } },
      { name: 'cid', age: 41, city: null },
      { name: 'dee', age: 30, city: 'Oslo', info: { level: 5 } },
    ];

    before(async () => {});
    beforeEach(async () => {
      c = await authed(server);
      const f = await c.request(T.BATCH_WRITE, { collection: 'p', documents: people });
      assert.strictEqual(f.payload.count, 4);
    });
    afterEach(() => c.end());

    async function names(filters, extra = {}) {
      const f = await c.request(T.QUERY, { collection: 'p', filters, ...extra });
      assert.strictEqual(f.type, T.SUCCESS, JSON.stringify(f.payload));
      assert.deepStrictEqual(Object.keys(f.payload), ['database', 'collection', 'documents', 'count']);
      assert.strictEqual(f.payload.count, f.payload.documents.length);
      return f.payload.documents.map((d) => d.name).sort();
    }

    it('matches plain values and each operator', async () => {
      assert.deepStrictEqual(await names({}), ['ann', 'bob', 'cid', 'dee']);
      assert.deepStrictEqual(await names({ age: 30 }), ['ann', 'dee']);
      assert.deepStrictEqual(await names({ age: { $eq: 25 } }), ['bob']);
      assert.deepStrictEqual(await names({ age: { $ne: 30 } }), ['bob', 'cid']);
      assert.deepStrictEqual(await names({ age: { $gt: 30 } }), ['cid']);
      assert.deepStrictEqual(await names({ age: { $gte: 30 } }), ['ann', 'cid', 'dee']);
      assert.deepStrictEqual(await names({ age: { $lt: 30 } }), ['bob']);
      assert.deepStrictEqual(await names({ age: { $lte: 30 } }), ['ann', 'bob', 'dee']);
      assert.deepStrictEqual(await names({ name: { $in: ['bob', 'dee', 'zed'] } }), ['bob', 'dee']);
      assert.deepStrictEqual(await names({ name: { $nin: ['bob', 'dee'] } }), ['ann', 'cid']);
      assert.deepStrictEqual(await names({ info: { $exists: true } }), ['bob', 'dee']);
      // A nil field does not "exist", as on the reference server.
      assert.deepStrictEqual(await names({ city: { $exists: false } }), ['cid']);
      assert.deepStrictEqual(await names({ name: { $regex: '^[ab]' } }), ['ann', 'bob']);
      assert.deepStrictEqual(await names({ city: { $regex: 'None' } }), ['cid'], 'nil reads as Python None');
    });

    it('ANDs fields and operators, reaches nested fields, and limits', async () => {
      assert.deepStrictEqual(await names({ age: 30, city: 'Oslo' }), ['ann', 'dee']);
      assert.deepStrictEqual(await names({ age: { $gte: 25, $lt: 41 }, city: { $ne: 'Rome' } }), ['ann', 'dee']);
      assert.deepStrictEqual(await names({ 'info.level': 5 }), ['dee']);
      assert.deepStrictEqual(await names({ 'info.level': { $in: [2, 5] }, 'name.first': null }), ['bob', 'dee']);
      assert.strictEqual((await names({}, { limit: 2 })).length, 2);
      assert.strictEqual((await names({ age: 30 }, { limit: 1 })).length, 1);
    });

    it('returns documents ordered by _id', async () => {
      const f = await c.request(T.QUERY, { collection: 'p' });
      const ids = f.payload.documents.map((d) => d._id);
      assert.deepStrictEqual(ids, ids.slice().sort());
    });

    it('answers ERROR where Python cannot compare', async () => {
      let f = await c.request(T.QUERY, { collection: 'p', filters: { nope: { $lt: 1 } } });
      assert.strictEqual(f.type, T.ERROR);
      assert.deepStrictEqual(f.payload, { error: "'<' not supported between instances of 'NoneType' and 'int'" });
      f = await c.request(T.QUERY, { collection: 'p', filters: { age: { $gte: 'x' } } });
      assert.deepStrictEqual(f.payload, { error: "'>=' not supported between instances of 'int' and 'str'" });
    });
  });

  describe('change streams', () => {
    it('sends insert, update and delete events with the reference shapes, and stops on UNSUBSCRIBE', async () => {
      const sub = await authed(server);
      const w = await authed(server);
      let f = await sub.request(T.SUBSCRIBE, { collection: 'orders' });
      assert.deepStrictEqual(f.payload, {
        subscribed: true, collection: 'orders', operations: ['insert', 'update', 'delete'],
        message: 'Subscribed to change stream for orders',
      });
      const id = (await w.request(T.CREATE, { collection: 'orders', data: { total: 9.5 } })).payload.document_id;
      f = await sub.next();
      assert.strictEqual(f.type, T.EVENT);
      assert.deepStrictEqual(Object.keys(f.payload), ['operationType', 'ns', 'timestamp', 'documentKey', 'fullDocument']);
      assert.deepStrictEqual(f.payload.ns, { db: 'nexadb', coll: 'orders' });
      assert.deepStrictEqual(f.payload.documentKey, { _id: id });
      assert.deepStrictEqual(Object.keys(f.payload.fullDocument), ['_id', '_created_at', '_updated_at', 'total']);
      const t1 = f.payload.timestamp;

      await w.request(T.UPDATE, { collection: 'orders', key: id, updates: { status: 'paid' } });
      f = await sub.next();
      assert.deepStrictEqual(Object.keys(f.payload),
        ['operationType', 'ns', 'timestamp', 'documentKey', 'fullDocument', 'updateDescription']);
      assert.strictEqual(f.payload.operationType, 'update');
      assert.strictEqual(f.payload.fullDocument.status, 'paid');
      assert.strictEqual(f.payload.fullDocument.total, 9.5);
      assert.deepStrictEqual(f.payload.updateDescription, { updatedFields: { status: 'paid' } });
      assert.ok(f.payload.timestamp > t1);

      await w.request(T.DELETE, { collection: 'orders', key: id });
      f = await sub.next();
      assert.deepStrictEqual(f.payload.operationType, 'delete');
      assert.deepStrictEqual(Object.keys(f.payload), ['operationType', 'ns', 'timestamp', 'documentKey']);

      // Other collections are not sent; nor is dropCollection unless listed.
      await w.request(T.CREATE, { collection: 'other', data: { a: 1 } });
      await w.request(T.CREATE, { collection: 'orders', data: { a: 1 } });
      await w.request(T.DROP_COLLECTION, { collection: 'orders' });
      assert.strictEqual((await sub.next()).payload.operationType, 'insert');
      await sub.assertNothingPending();

      f = await sub.request(T.UNSUBSCRIBE, {});
      assert.deepStrictEqual(f.payload, { unsubscribed: true, message: 'Unsubscribed from change stream' });
      await w.request(T.CREATE, { collection: 'orders', data: { a: 2 } });
      await sub.assertNothingPending();
      sub.end();
      w.end();
    });

    it('sends only the listed operations', async () => {
      const sub = await authed(server);
      const w = await authed(server);
      await sub.request(T.SUBSCRIBE, { collection: 'orders', operations: ['insert'] });
      const id = (await w.request(T.CREATE, { collection: 'orders', data: { n: 1 } })).payload.document_id;
      assert.strictEqual((await sub.next()).payload.operationType, 'insert');
      await w.request(T.UPDATE, { collection: 'orders', key: id, updates: { n: 2 } });
      await w.request(T.DELETE, { collection: 'orders', key: id });
      await sub.assertNothingPending();
      await w.request(T.CREATE, { collection: 'orders', data: { n: 3 } });
      assert.strictEqual((await sub.next()).payload.fullDocument.n, 3);
      sub.end();
      w.end();
    });

    it('watches every collection of every database, dropCollection when listed', async () => {
      const sub = await authed(server);
      const w = await authed(server);
      let f = await sub.request(T.SUBSCRIBE, { collection: null, operations: ['insert', 'dropCollection'] });
      assert.strictEqual(f.payload.message, 'Subscribed to change stream for all collections');
      assert.strictEqual(f.payload.collection, null);
      await w.request(T.CREATE, { collection: 'tmp', data: { x: 1 }, database: 'elsewhere' });
      f = await sub.next();
      assert.deepStrictEqual(f.payload.ns, { db: 'nexadb', coll: 'tmp' });
      await w.request(T.DROP_COLLECTION, { collection: 'tmp', database: 'elsewhere' });
      f = await sub.next();
      assert.deepStrictEqual(Object.keys(f.payload), ['operationType', 'ns', 'timestamp']);
      assert.strictEqual(f.payload.operationType, 'dropCollection');
      sub.end();
      w.end();
    });

    it('keeps one subscription per connection: a second SUBSCRIBE replaces the first', async () => {
      const sub = await authed(server);
      const w = await authed(server);
      await sub.request(T.SUBSCRIBE, { collection: 'vec_a', operations: ['insert'] });
      await sub.request(T.SUBSCRIBE, { collection: 'vec_b', operations: ['insert'] });
      await w.request(T.CREATE, { collection: 'vec_a', data: { x: 1 } });
      await w.request(T.CREATE, { collection: 'vec_b', data: { x: 2 } });
      const f = await sub.next();
      assert.strictEqual(f.payload.ns.coll, 'vec_b');
      await sub.assertNothingPending();
      sub.end();
      w.end();
    });

    it('sends every event to every matching subscriber, the writer included, in timestamp order', async () => {
      const a = await authed(server);
      const b = await authed(server);
      const w = await authed(server);
      await a.request(T.SUBSCRIBE, { collection: 'burst' });
      await b.request(T.SUBSCRIBE, { collection: null });
      await w.request(T.SUBSCRIBE, { collection: 'burst', operations: ['insert'] });
      const documents = Array.from({ length: 500 }, (_, n) => ({ n }));
      w.send(T.BATCH_WRITE, { collection: 'burst', documents });
      const answer = await w.next();
      assert.strictEqual(answer.type, T.SUCCESS);
      for (const c of [a, b, w]) {
        let last = 0;
        for (let n = 0; n < 500; n++) {
          const f = await c.next();
          assert.strictEqual(f.type, T.EVENT);
          assert.strictEqual(f.payload.fullDocument.n, n);
          assert.strictEqual(f.payload.documentKey._id, answer.payload.document_ids[n]);
          assert.ok(f.payload.timestamp > last, 'timestamps strictly increase');
          last = f.payload.timestamp;
        }
        await c.assertNothingPending();
      }
      [a, b, w].forEach((c) => c.end());
    });

    it('sends a 2 MiB document in one event, and round-trips every value kind', async () => {
      const sub = await authed(server);
      const w = await authed(server);
      await sub.request(T.SUBSCRIBE, { collection: 'types', operations: ['insert'] });
      const data = {
        blob: 'z'.repeat(2 * 1024 * 1024),
        unicode: 'café ☕ 🚀 中文',
        uint_max: 18446744073709551615n,
        int_max: 9223372036854775807n,
        int_min: -9223372036854775808n,
        safe: Number.MAX_SAFE_INTEGER,
        float: 1.5e-300,
        float_neg: -0,
        nested: { a: [1, 'two', 3.5, null, true, false, [], {}] },
      };
      await w.request(T.CREATE, { collection: 'types', data });
      const f = await sub.next();
      assert.ok(f.length > 2 * 1024 * 1024);
      const doc = f.payload.fullDocument;
      assert.deepStrictEqual(Object.keys(doc).slice(3), Object.keys(data));
      for (const k of Object.keys(data)) {
        if (Object.is(data[k], -0)) assert.ok(Object.is(doc[k], -0), 'stays -0');
        else assert.deepStrictEqual(doc[k], data[k], k);
      }
      sub.end();
      w.end();
    });

    it('forgets the subscription of a closed connection', async () => {
      const sub = await authed(server);
      const w = await authed(server);
      await sub.request(T.SUBSCRIBE, { collection: null });
      sub.end();
      await new Promise((r) => setTimeout(r, 20));
      assert.strictEqual(server.connections, 1);
      assert.strictEqual((await w.request(T.CREATE, { collection: 'c', data: { a: 1 } })).type, T.SUCCESS);
      w.end();
    });
  });

  describe('server lifecycle', () => {
    it('reports its address and connections, and close() resolves with clients connected', async () => {
      assert.strictEqual(server.host, '127.0.0.1');
      assert.ok(server.port > 0);
      assert.strictEqual(server.address, `127.0.0.1:${server.port}`);
      const a = await authed(server);
      const b = await RawClient.open(server);
      await a.request(T.SUBSCRIBE, { collection: null });
      b.sendRaw(frame(T.PING, {}).subarray(0, 5)); // a half frame
      await new Promise((r) => setTimeout(r, 20));
      assert.strictEqual(server.connections, 2);
      await server.close();
      await a.waitClosed();
      await b.waitClosed();
      assert.strictEqual(server.connections, 0);
      await server.close(); // idempotent
      await assert.rejects(RawClient.open(server));
    });

    it('takes its users from the options', async () => {
      const s = await startDevServer({ users: { alice: 'pw', admin: { password: 'x', role: 'admin' } } });
      try {
        const c = await RawClient.open(s);
        assert.deepStrictEqual((await c.request(T.CONNECT, { username: 'root', password: 'nexadb123' })).payload,
          { error: 'Invalid username or password' });
        let f = await c.request(T.CONNECT, { username: 'alice', password: 'pw' });
        assert.strictEqual(f.payload.username, 'alice');
        assert.strictEqual(f.payload.role, 'write');
        f = await c.request(T.CONNECT, { username: 'admin', password: 'x' });
        assert.strictEqual(f.payload.role, 'admin');
        c.end();
      } finally {
        await s.close();
      }
    });

    it('can be built and started in two steps', async () => {
      const s = new DevServer({ port: 0 });
      assert.strictEqual(await s.listen(), s);
      await s.close();
    });

    it('runs from the command line and stops on SIGTERM', async () => {
      const bin = path.join(__dirname, '..', 'bin', 'nexa-dev-server.js');
      const child = spawn(process.execPath, [bin, '--port', '0', '--user', 'u:p'], { stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        const line = await new Promise((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (d) => {
            out += d;
            if (out.includes('\n')) resolve(out.trim());
          });
          child.on('exit', (code) => reject(new Error(`exited with ${code}`)));
        });
        const m = /^NexaDB dev server listening on (127\.0\.0\.1):(\d+)$/.exec(line);
        assert.ok(m, line);
        const c = await authed({ host: m[1], port: Number(m[2]) }, 'u', 'p');
        c.end();
      } finally {
        child.kill('SIGTERM');
      }
      const code = await new Promise((resolve) => {
        if (child.exitCode !== null) resolve(child.exitCode);
        else child.on('exit', resolve);
      });
      assert.strictEqual(code, 0);
    });
  });
});
