'use strict';
// Deep documents (issue 10, part 1): one nesting limit, MAX_DEPTH, for
// documents written and read; a payload the core cannot decode fails only
// its own answer or event, never the connection. Documents deeper than the
// limit are written by a raw client with msgpackr (the dev server stores any
// depth, as the reference server does). Inside a worker_thread:
// deep-worker.test.js.
const assert = require('assert');
const net = require('net');
const { pack, unpack } = require('msgpackr');

const NexaClient = require('..');
const { NexaProtocolError } = NexaClient;
const { Connection } = require('../lib/connection');
const { MSG, MAX_LEVELS, FrameReader, encodeFrame } = require('../lib/dev-server/protocol');
const { frameBytes } = require('../lib/frame-reader');
const { parseOptions } = require('../lib/options');
const { devServerSuite, rawRequests, waitFor, RawClient } = require('./fixtures/helpers');

const MAX = NexaClient.MAX_DEPTH;

/** A document `levels` levels deep: {leaf, next: {leaf, next: ... {leaf: 'bottom'}}}. */
function nest(levels, leaf = 'bottom') {
  let v = { leaf };
  for (let i = 1; i < levels; i++) v = { leaf: i, next: v };
  return v;
}

/** Levels of maps and arrays down the `next` chain. */
function depth(v) {
  let d = 0;
  for (let x = v; x !== null && typeof x === 'object'; x = x.next) d++;
  return d;
}

/**
 * A client of its own for documents deeper than the limit: its frames are
 * built by msgpackr, not by the addon under test, and the dev server stores
 * any depth, as the reference server does. Writes are pipelined.
 */
class RawWriter {
  static open(port) {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1', () => {
        const w = new RawWriter(sock);
        w._send(MSG.CONNECT, { username: 'root', password: 'nexadb123' }).then(() => resolve(w), reject);
      });
      sock.once('error', reject);
    });
  }

  constructor(sock) {
    this.sock = sock;
    this.reader = new FrameReader();
    this.waiting = []; // answers come in request order
    sock.on('data', (chunk) => {
      this.reader.push(chunk);
      for (let f = this.reader.next(); f !== null; f = this.reader.next()) {
        const w = this.waiting.shift();
        const answer = unpack(f.payload);
        if (f.type === MSG.SUCCESS) w.resolve(answer);
        else w.reject(new Error(`raw request answered 0x${f.type.toString(16)}: ${JSON.stringify(answer)}`));
      }
    });
  }

  _send(type, payload) {
    this.sock.write(frameBytes(type, pack(payload)));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Resolves with the new document's _id. */
  async create(collection, data) {
    return (await this._send(MSG.CREATE, { collection, data })).document_id;
  }

  close() {
    this.sock.destroy();
  }
}

/** One CREATE by a RawWriter of its own. */
async function rawCreate(port, collection, data) {
  const w = await RawWriter.open(port);
  try {
    return await w.create(collection, data);
  } finally {
    w.close();
  }
}

/** 300 documents too deep to read, each followed by a good one ({i}), pipelined. */
async function writeMixed(port, collection) {
  const w = await RawWriter.open(port);
  const writes = [];
  for (let i = 0; i < 300; i++) writes.push(w.create(collection, nest(MAX + 1)), w.create(collection, { i }));
  await Promise.all(writes);
  w.close();
}

const PAST = [['one past the limit', MAX + 1], ['far past it (1,000 levels)', 1000]];

describe('deep documents: the nesting limit', function () {
  this.timeout(20000);
  const suite = devServerSuite();

  it('MAX_DEPTH is exported: 100 levels (also from ESM)', async () => {
    assert.strictEqual(MAX, 100);
    const esm = await import('../lib/index.mjs');
    assert.strictEqual(esm.MAX_DEPTH, 100);
    assert.strictEqual(esm.default.MAX_DEPTH, 100);
  });

  it('a document at the limit is written (create, update, batchWrite) and read back intact (get, query)', async () => {
    const c = suite.client();
    const doc = { arr: [[[1]]], deep: nest(MAX - 1) }; // the document is level 1: MAX levels in all
    const { document_id: id } = await c.create('deep_ok', doc);
    const got = await c.get('deep_ok', id);
    assert.strictEqual(depth(got.deep) + 1, MAX);
    assert.deepStrictEqual(got.deep, doc.deep);
    const [q] = await c.query('deep_ok', { _id: id });
    assert.deepStrictEqual(q.deep, doc.deep);
    await c.update('deep_ok', id, { other: nest(MAX - 1, 'updated') });
    assert.deepStrictEqual((await c.get('deep_ok', id)).other, nest(MAX - 1, 'updated'));
    const b = await c.batchWrite('deep_ok', [nest(MAX, 'batch'), { flat: true }]);
    const fromBatch = await c.get('deep_ok', b.document_ids[0]);
    assert.strictEqual(depth(fromBatch), MAX);
    assert.strictEqual((await c.query('deep_ok', {}, 10)).length, 3);
  });

  it('a document one level past it is refused by create, update and batchWrite with a TypeError naming the limit, before anything is sent', async () => {
    const c = suite.client();
    await c.connect();
    const tooDeep = nest(MAX + 1);
    const named = (err) => err instanceof TypeError && /more than 100 levels deep \(NexaClient\.MAX_DEPTH\)/.test(err.message);
    await assert.rejects(c.create('deep_refused', tooDeep), named);
    await assert.rejects(c.update('deep_refused', 'k', { a: nest(MAX) }), named);
    await assert.rejects(c.batchWrite('deep_refused', [{ flat: 1 }, tooDeep]), named);
    const cycle = { a: 1 };
    cycle.self = cycle;
    await assert.rejects(c.create('deep_refused', cycle), named);
    assert.ok(!(await c.listCollections()).includes('deep_refused'), 'nothing reached the server');
    assert.strictEqual((await c.ping()).status, 'ok', 'the connection is fine');
  });

  it('query filters: a filter comparing a field with a value at the limit is sent; one past it is a TypeError', async () => {
    const c = suite.client();
    await c.create('deep_filter', { k: 1, v: nest(MAX - 1) });
    // The filter map is level 1; an operator may wrap the value: one level more is allowed.
    const found = await c.query('deep_filter', { k: { $eq: 1 }, v: { $exists: true } });
    assert.strictEqual(found.length, 1);
    await c.query('deep_filter', { v: { $ne: nest(MAX - 1) } });
    await assert.rejects(c.query('deep_filter', { v: { $ne: nest(MAX) } }), TypeError);
  });
});

describe('deep documents: an answer too deep to read fails only its request', function () {
  this.timeout(30000);
  const suite = devServerSuite();

  for (const [what, levels] of PAST) {
    it(`get and query of a document ${what}: NexaProtocolError saying why; a ping in flight beside it resolves; the connection stays`, async () => {
      const c = suite.client();
      const flat = await c.create(`past_${levels}`, { flat: true });
      const id = await rawCreate(suite.srv.port, `past_${levels}`, nest(levels));
      const before = c._requestConnection.channel.conn;
      const [get, ping, query] = await Promise.allSettled([c.get(`past_${levels}`, id), c.ping(), c.query(`past_${levels}`, {})]);
      for (const r of [get, query]) {
        assert.strictEqual(r.status, 'rejected');
        assert.ok(r.reason instanceof NexaProtocolError, r.reason);
        assert.strictEqual(r.reason.code, 'NEXA_PROTOCOL');
        assert.match(r.reason.message, /could not decode the answer \(\d+ bytes\): a document nested more than 100 levels deep at byte \d+/);
      }
      assert.strictEqual(get.reason.operation, 'get');
      assert.strictEqual(get.reason.key, id);
      assert.strictEqual(ping.status, 'fulfilled');
      assert.strictEqual(ping.value.status, 'ok');
      assert.strictEqual(c._requestConnection.channel.conn, before, 'the same connection');
      assert.ok(c.connected);
      assert.strictEqual((await c.get(`past_${levels}`, flat.document_id)).flat, true, 'nothing after it is lost');
      // The dev server kept the document whole: a raw reader sees every level.
      const [raw] = await rawRequests(suite.srv.port, [{ type: MSG.READ, payload: { collection: `past_${levels}`, key: id } }]);
      assert.strictEqual(depth(raw.payload.document), levels);
    });
  }
});

/** A stream-level connection: SUBSCRIBEs, records events and undecodable reports in arrival order. */
async function watchConnection(port, collection, { ackEach = false, ...opts } = {}) {
  const o = parseOptions({ host: '127.0.0.1', port, keepAliveMs: 0, ...opts });
  const conn = new Connection({ ...o, stream: true });
  const seen = [];
  conn.onChanges = (evs) => {
    for (const e of evs) seen.push(e);
    if (ackEach) setImmediate(() => conn.ack(evs.length));
  };
  conn.onUndecodable = (message) => seen.push({ undecodable: message });
  await conn.open();
  await conn.request(MSG.SUBSCRIBE_CHANGES, { collection, operations: ['insert', 'update', 'delete'] });
  return { conn, seen };
}

describe('deep documents: change events', function () {
  this.timeout(30000);
  const suite = devServerSuite();

  it('insert and update events of a document at the limit arrive intact (fullDocument, updateDescription.updatedFields)', async () => {
    const c = suite.client();
    const stream = c.watch('ev_ok');
    await stream.ready;
    const doc = { deep: nest(MAX - 1) };
    const { document_id: id } = await c.create('ev_ok', doc);
    await c.update('ev_ok', id, { more: nest(MAX - 1, 'u') });
    const ins = (await stream.next()).value;
    assert.strictEqual(ins.operationType, 'insert');
    assert.deepStrictEqual(ins.fullDocument.deep, doc.deep);
    const upd = (await stream.next()).value;
    assert.strictEqual(upd.operationType, 'update');
    assert.deepStrictEqual(upd.updateDescription.updatedFields.more, nest(MAX - 1, 'u'));
    assert.deepStrictEqual(upd.fullDocument.more, nest(MAX - 1, 'u'));
  });

  for (const [what, levels] of PAST) {
    it(`an event of a document ${what}: the core reports it undecodable, the connection reads on, the events around it arrive`, async () => {
      const c = suite.client();
      const coll = `ev_past_${levels}`;
      const { conn, seen } = await watchConnection(suite.srv.port, coll);
      try {
        await c.create(coll, { n: 1 });
        await rawCreate(suite.srv.port, coll, nest(levels));
        await c.create(coll, { n: 2 });
        await waitFor(() => seen.length === 3, 'three reports', 10000);
        assert.strictEqual(seen[0].fullDocument.n, 1);
        assert.match(seen[1].undecodable, /^could not decode a change event \(\d+ bytes\): a document nested more than 100 levels deep at byte \d+$/);
        assert.strictEqual(seen[2].fullDocument.n, 2);
        assert.strictEqual(conn.state, 'open');
        assert.strictEqual((await conn.request(MSG.PING, {})).status, 'ok');
      } finally {
        await conn.close();
      }
    });
  }

  for (const [what, levels] of PAST) {
    it(`watch(coll, { gaps: true }): an event of a document ${what} is a gap item (reason 'undecodable', saying why) in order; the stream goes on`, async () => {
      const c = suite.client();
      const coll = `gap_past_${levels}`;
      const stream = c.watch(coll, { gaps: true });
      const told = [];
      stream.on('gap', (g) => told.push(g));
      await stream.ready;
      await c.create(coll, { n: 1 });
      await rawCreate(suite.srv.port, coll, nest(levels));
      await c.create(coll, { n: 2 });
      const items = [];
      for (let i = 0; i < 3; i++) items.push((await stream.next()).value);
      assert.deepStrictEqual(items.map((x) => x.operationType), ['insert', 'gap', 'insert']);
      assert.deepStrictEqual([items[0].fullDocument.n, items[2].fullDocument.n], [1, 2]);
      const gap = items[1];
      assert.strictEqual(gap.reason, 'undecodable');
      assert.deepStrictEqual(gap.ns, { db: 'nexadb', coll });
      assert.match(gap.message, /^could not decode a change event \(\d+ bytes\): a document nested more than 100 levels deep at byte \d+$/);
      assert.deepStrictEqual(told, [gap], "'gap' is emitted too");
      assert.strictEqual(stream.reconnects, 0, 'the connection stayed');
    });
  }

  it("a plain watch(): the loop sees only the events; a 'gap' listener hears of the one it could not read", async () => {
    const c = suite.client();
    const stream = c.watch('gap_plain');
    const told = [];
    stream.on('gap', (g) => told.push(g));
    await stream.ready;
    await rawCreate(suite.srv.port, 'gap_plain', nest(MAX + 1));
    await c.create('gap_plain', { n: 2 });
    const ev = (await stream.next()).value;
    assert.strictEqual(ev.operationType, 'insert');
    assert.strictEqual(ev.fullDocument.n, 2);
    assert.strictEqual(told.length, 1);
    assert.strictEqual(told[0].reason, 'undecodable');
  });

  it('backpressure end to end: 300 undecodable events among 300 good ones, highWaterMark 4, gaps on: every good event in order, 300 gap items, no stall', async () => {
    const c = suite.client();
    const coll = 'gap_ledger';
    const stream = c.watch(coll, { gaps: true, highWaterMark: 4 });
    await stream.ready;
    const writing = writeMixed(suite.srv.port, coll);
    const good = [];
    let gaps = 0;
    for await (const item of stream) {
      if (item.operationType === 'gap') gaps++;
      else good.push(item.fullDocument.i);
      if (good.length + gaps === 600) break;
      if (good.length % 50 === 0) await new Promise((r) => setTimeout(r, 5)); // a consumer slower than the writer
    }
    await writing;
    assert.deepStrictEqual(good, Array.from({ length: 300 }, (_, i) => i));
    assert.strictEqual(gaps, 300);
  });

  it('the Connection alone: 300 undecodable events among 300 good ones (highWaterMark 4, only good ones acknowledged) neither stall it nor lose a good event', async () => {
    const coll = 'ev_ledger';
    const { conn, seen } = await watchConnection(suite.srv.port, coll, { highWaterMark: 4, ackEach: true });
    try {
      await writeMixed(suite.srv.port, coll);
      await waitFor(() => seen.length === 600, `600 reports (have ${seen.length})`, 20000);
      const good = seen.filter((e) => !e.undecodable).map((e) => e.fullDocument.i);
      assert.deepStrictEqual(good, Array.from({ length: 300 }, (_, i) => i), 'every good event, in order');
      assert.strictEqual(seen.filter((e) => e.undecodable).length, 300);
    } finally {
      await conn.close();
    }
  });
});

/** A raw protocol client of the dev server (frames by the dev server's own codec). */
class Raw extends RawClient {
  request(type, payload) {
    this.socket.write(encodeFrame(type, payload));
    return this.take((f) => f.type !== MSG.CHANGE_EVENT, 'an answer', 10000);
  }
}

describe('deep documents: the dev server stores and sends far deeper ones', function () {
  this.timeout(30000);
  const suite = devServerSuite();

  it(`a document of ${MAX_LEVELS - 2} levels: create, get, query, update and the change events, each whole; a request past ${MAX_LEVELS} levels is an ERROR and the connection stays`, async () => {
    const levels = MAX_LEVELS - 2; // {collection, data: doc} is one level more: the deepest request it takes, less one
    const c = await Raw.open(suite.srv);
    const watcher = await Raw.open(suite.srv);
    try {
      for (const r of [c, watcher]) assert.strictEqual((await r.request(MSG.CONNECT, { username: 'root', password: 'nexadb123' })).type, MSG.SUCCESS);
      assert.strictEqual((await watcher.request(MSG.SUBSCRIBE_CHANGES, { collection: 'dev_deep' })).type, MSG.SUCCESS);
      const created = await c.request(MSG.CREATE, { collection: 'dev_deep', data: nest(levels) });
      assert.strictEqual(created.type, MSG.SUCCESS, JSON.stringify(created.payload));
      const id = created.payload.document_id;
      const got = await c.request(MSG.READ, { collection: 'dev_deep', key: id });
      assert.strictEqual(depth(got.payload.document), levels);
      const queried = await c.request(MSG.QUERY, { collection: 'dev_deep', filters: {} });
      assert.strictEqual(depth(queried.payload.documents[0]), levels);
      const updated = await c.request(MSG.UPDATE, { collection: 'dev_deep', key: id, updates: { also: nest(levels - 1) } });
      assert.strictEqual(updated.type, MSG.SUCCESS, JSON.stringify(updated.payload));
      const [insert, update] = await watcher.until(() => {
        const evs = watcher.frames.filter((f) => f.type === MSG.CHANGE_EVENT);
        return evs.length >= 2 ? evs : undefined;
      }, 'two events', 10000);
      assert.strictEqual(depth(insert.payload.fullDocument), levels);
      assert.strictEqual(depth(update.payload.updateDescription.updatedFields.also), levels - 1);
      assert.strictEqual(depth(update.payload.fullDocument.also), levels - 1);
      // Past its bound: refused as the reference refuses what it cannot decode, the connection stays.
      const refused = await c.request(MSG.CREATE, { collection: 'dev_deep', data: nest(MAX_LEVELS) });
      assert.strictEqual(refused.type, MSG.ERROR);
      assert.match(refused.payload.error, new RegExp(`^Invalid MessagePack: MessagePack nested more than ${MAX_LEVELS} levels deep at byte \\d+$`));
      assert.strictEqual((await c.request(MSG.PING, {})).type, MSG.PONG);
    } finally {
      c.end();
      watcher.end();
    }
  });
});
