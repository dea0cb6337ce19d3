'use strict';
// Observability: the diagnostics channels with subscribers, NODE_DEBUG,
// stats against counted events, and the client's own events and status
// across a dev server restart.
const assert = require('assert');
const dc = require('diagnostics_channel');

const NexaClient = require('..');
const { startDevServer } = require('../lib/dev-server');
const { encodeFrame, MSG, HEADER_SIZE } = require('../lib/dev-server/protocol');
const { traceRequest } = require('../lib/diagnostics');
const { waitFor, once } = require('./fixtures/helpers');
const { createProcess, explain } = require('./helpers/scenario');

const PASSWORD = 'tr4ce-me-not';
const FAST = { reconnectDelayMs: 20, reconnectMaxDelayMs: 200 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Records what a set of channels publish while `fn` runs; unsubscribes after. */
async function recording(names, fn) {
  const seen = [];
  const subs = names.map((name) => {
    const handler = (message) => seen.push({ name, message });
    dc.subscribe(name, handler);
    return () => dc.unsubscribe(name, handler);
  });
  try {
    await fn(seen);
  } finally {
    subs.forEach((u) => u());
  }
  return seen;
}

describe('observability', function () {
  let srv;
  let port;
  const clients = [];
  const client = (opts = {}) => {
    const c = new NexaClient({ host: '127.0.0.1', port, password: PASSWORD, ...FAST, ...opts });
    clients.push(c);
    return c;
  };
  const start = async () => {
    srv = await startDevServer({ port: port || 0, users: { root: PASSWORD } });
    port = srv.port;
  };

  beforeEach(start);
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.disconnect()));
    if (srv) await srv.close();
    srv = null;
    port = 0;
  });

  describe('diagnostics_channel', () => {
    it("traces every request on 'nexaclient:request': start, end, asyncStart, asyncEnd (error on failure), without password or documents", async () => {
      const c = client({ database: 'default' });
      const kinds = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'];
      const seen = [];
      const tc = dc.tracingChannel('nexaclient:request');
      const handlers = Object.fromEntries(kinds.map((k) => [k, (ctx) => seen.push({ k, ctx, snapshot: JSON.stringify(ctx, ['operation', 'collection', 'key', 'database', 'address', 'requestId']) })]));
      tc.subscribe(handlers);
      let created;
      try {
        created = await c.create('traced', { secretField: 'document-body-text' });
        assert.strictEqual((await c.get('traced', created.document_id)).secretField, 'document-body-text');
        await assert.rejects(c.update('traced', 'missing', { x: 1 }), { code: 'NEXA_NOT_FOUND' });
      } finally {
        tc.unsubscribe(handlers);
      }
      await c.ping(); // no subscriber: not traced
      const contexts = [...new Set(seen.map((s) => s.ctx))];
      assert.deepStrictEqual(contexts.map((x) => [x.operation, x.collection, x.key]),
        [['create', 'traced', undefined], ['get', 'traced', created.document_id], ['update', 'traced', 'missing']]);
      for (const ctx of contexts) {
        const mine = seen.filter((s) => s.ctx === ctx).map((s) => s.k);
        assert.deepStrictEqual(mine, ctx.operation === 'update' ? ['start', 'end', 'error', 'asyncStart', 'asyncEnd'] : ['start', 'end', 'asyncStart', 'asyncEnd']);
        assert.strictEqual(ctx.address, `127.0.0.1:${port}`);
        assert.strictEqual(ctx.database, 'default');
        assert.ok(Number.isInteger(ctx.requestId) && ctx.requestId > 0);
        assert.strictEqual(ctx.result, undefined, 'the answer (documents) stays out of the trace');
      }
      assert.strictEqual(new Set(contexts.map((x) => x.requestId)).size, 3);
      assert.strictEqual(contexts[2].error.code, 'NEXA_NOT_FOUND');
      const everything = JSON.stringify(seen.map((s) => s.ctx), (k, v) => (typeof v === 'bigint' ? String(v) : v));
      assert.ok(!everything.includes(PASSWORD) && !everything.includes('document-body-text'), everything);
    });

    it('builds no message while nobody subscribes', async () => {
      let built = 0;
      const r = await traceRequest(async () => 42, () => { built++; return {}; });
      assert.strictEqual(r, 42);
      assert.strictEqual(built, 0);
      const handlers = { start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
      dc.tracingChannel('nexaclient:request').subscribe(handlers);
      try {
        assert.strictEqual(await traceRequest(async () => 43, () => { built++; return {}; }), 43);
      } finally {
        dc.tracingChannel('nexaclient:request').unsubscribe(handlers);
      }
      assert.strictEqual(built, 1);
    });

    it('publishes a stream\'s subscribe, disconnect, reconnect, gap and close, and connections opening and closing', async () => {
      const names = ['subscribe', 'disconnect', 'reconnect', 'gap', 'close'].map((n) => `nexaclient:stream:${n}`)
        .concat(['nexaclient:connection:open', 'nexaclient:connection:close']);
      let stream;
      const seen = await recording(names, async () => {
        const c = client();
        stream = c.watch('lifecycle');
        await stream.ready;
        const reconnected = once(stream, 'reconnect');
        await srv.close();
        await sleep(100);
        await start();
        await reconnected;
        await stream.close();
      });
      const streamSeen = seen.filter((s) => s.name.startsWith('nexaclient:stream:'));
      assert.deepStrictEqual(streamSeen.map((s) => s.name.slice('nexaclient:stream:'.length)),
        ['subscribe', 'disconnect', 'subscribe', 'gap', 'reconnect', 'close']);
      for (const { message } of streamSeen) {
        assert.strictEqual(message.stream, stream);
        assert.strictEqual(message.collection, 'lifecycle');
      }
      const by = (n) => streamSeen.filter((s) => s.name === `nexaclient:stream:${n}`).map((s) => s.message);
      assert.deepStrictEqual(by('subscribe').map((m) => [m.resubscribe, m.address, m.operations]),
        [[false, `127.0.0.1:${port}`, ['insert', 'update', 'delete']], [true, `127.0.0.1:${port}`, ['insert', 'update', 'delete']]]);
      assert.match(by('disconnect')[0].error.code, /^E[A-Z]+$|^NEXA_CLOSED$/);
      assert.ok(by('reconnect')[0].attempts >= 1 && by('reconnect')[0].downtimeMs >= 90, JSON.stringify(by('reconnect')[0]));
      assert.strictEqual(by('gap')[0].gap.reason, 'reconnect');
      assert.strictEqual(by('close')[0].error, null);

      const conns = seen.filter((s) => s.name.startsWith('nexaclient:connection:'));
      // The stream's first connection and its re-dial each open and close once.
      assert.deepStrictEqual(conns.map((s) => [s.name.slice('nexaclient:connection:'.length), s.message.stream]),
        [['open', true], ['close', true], ['open', true], ['close', true]]);
      assert.ok(conns[1].message.error !== null && conns[3].message.error === null);
      const text = JSON.stringify(seen.map((s) => ({ ...s.message, stream: undefined })));
      assert.ok(!text.includes(PASSWORD));
    });
  });

  describe('NODE_DEBUG=nexaclient', () => {
    it('logs connects, subscriptions, pauses and resumes, reconnect attempts with their delay; never the password', async () => {
      // Connects, lets a small stream pause and resume, survives a dev server restart, disconnects.
      const r = await createProcess(async ({ NexaClient, startDevServer }, password) => {
        const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
        let srv = await startDevServer({ port: 0, users: { root: password } });
        const port = srv.port;
        const client = new NexaClient({ host: '127.0.0.1', port, password, reconnectDelayMs: 50 });
        await client.connect();
        const stream = client.watch('dbg', { highWaterMark: 8 });
        await stream.ready;
        await client.batchWrite('dbg', Array.from({ length: 40 }, (_, i) => ({ i })));
        while (stream.stats().pauses === 0) await sleep(5); // nothing consumed: it reaches its bound
        let seen = 0;
        for await (const ev of stream) { // eslint-disable-line no-unused-vars
          if (++seen === 40) break;
        }
        const again = client.watch('dbg');
        await again.ready;
        await srv.close();
        await sleep(200);
        srv = await startDevServer({ port, users: { root: password } });
        await new Promise((res) => again.once('reconnect', res));
        await client.disconnect();
        await srv.close();
        return { done: true };
      }, PASSWORD, { command: ['env', 'NODE_DEBUG=nexaclient'], killAfter: 15000 });
      assert.deepStrictEqual(r.result, { done: true }, explain(r));
      const log = r.stderr;
      assert.match(log, /^NEXACLIENT \d+: connection #\d+: connecting to 127\.0\.0\.1:\d+ as root \(requests\)$/m);
      assert.match(log, /^NEXACLIENT \d+: connection #\d+: open to 127\.0\.0\.1:\d+$/m);
      assert.match(log, /^NEXACLIENT \d+: stream on 'dbg': subscribed \(insert, update, delete\) on connection #\d+$/m);
      assert.match(log, /^NEXACLIENT \d+: stream on 'dbg': paused reading \(\d+ buffered, highWaterMark 8\)$/m);
      assert.match(log, /^NEXACLIENT \d+: stream on 'dbg': resumed reading \(\d+ buffered, highWaterMark 8\)$/m);
      assert.match(log, /^NEXACLIENT \d+: stream to 127\.0\.0\.1:\d+: reconnect attempt 1 of 30 in \d+ ms \((E[A-Z]+|NEXA_CLOSED)\)$/m);
      assert.match(log, /^NEXACLIENT \d+: stream on 'dbg': re-subscribed after \d+ attempts, \d+ ms without a subscription$/m);
      assert.ok(!log.includes(PASSWORD), 'the password is in the debug log');
    });
  });

  describe('stats', () => {
    it('stream.stats() counts what was received, delivered and its payload bytes; lag from the newest event', async () => {
      const c = client({ int64: 'auto' });
      const stream = c.watch('counted', { highWaterMark: 5000 });
      await stream.ready;
      assert.deepStrictEqual(stream.stats(), { received: 0, delivered: 0, dropped: 0, buffered: 0, bytes: 0, reconnects: 0, gaps: 0, pauses: 0, lag: null });
      const N = 1500;
      for (let i = 0; i < N; i += 500) await c.batchWrite('counted', Array.from({ length: 500 }, (_, k) => ({ n: i + k, label: `é${k}` })));
      await waitFor(() => stream.stats().received === N, `${N} events received`);
      assert.strictEqual(stream.stats().buffered, N);
      const events = [];
      for await (const ev of stream) {
        events.push(ev);
        if (events.length === N) break;
      }
      const st = stream.stats();
      const bytes = events.reduce((sum, ev) => sum + encodeFrame(MSG.CHANGE_EVENT, ev).length - HEADER_SIZE, 0); // the payloads, as the dev server encoded them
      assert.deepStrictEqual({ ...st, lag: 0 }, { received: N, delivered: N, dropped: 0, buffered: 0, bytes, reconnects: 0, gaps: 0, pauses: 0, lag: 0 });
      const newest = Math.max(...events.map((e) => e.timestamp)) * 1000;
      assert.ok(st.lag >= 0 && st.lag <= Date.now() - newest + 1, `lag ${st.lag}`);
    });

    it("counts the pauses the core makes at the byte bound too, with fewer than highWaterMark events buffered", async () => {
      const c = client();
      const stream = c.watch('bytes-bound', { highWaterMark: 5000, highWaterMarkBytes: 1024 });
      await stream.ready;
      await c.batchWrite('bytes-bound', Array.from({ length: 200 }, (_, i) => ({ i, text: 'x'.repeat(100) })));
      await waitFor(() => stream.stats().pauses === 1, 'a pause at 1 KiB');
      const held = stream.stats();
      assert.ok(held.received < 200 && held.buffered < 5000, JSON.stringify(held));
      let n = 0;
      for await (const ev of stream) { // eslint-disable-line no-unused-vars
        if (++n === 200) break;
      }
      assert.ok(stream.stats().pauses > 1, 'reading resumed and paused again on the way');
    });

    it("counts pauses under 'pause', drops and gaps under 'dropOldest', and reconnects", async () => {
      const c = client();
      const paused = c.watch('bounded', { highWaterMark: 20 });
      const dropping = c.watch('bounded', { highWaterMark: 20, overflow: 'dropOldest' });
      await Promise.all([paused.ready, dropping.ready]);
      await c.batchWrite('bounded', Array.from({ length: 100 }, (_, i) => ({ i })));
      // A read may bring more than the bound: the core stops reading after it.
      await waitFor(() => paused.stats().pauses === 1 && dropping.stats().dropped === 80, 'the bounds');
      assert.ok(paused.stats().buffered >= 20, JSON.stringify(paused.stats()));
      let n = 0;
      for await (const ev of paused) { // eslint-disable-line no-unused-vars
        if (++n === 100) break;
      }
      const p = paused.stats();
      assert.deepStrictEqual([p.received, p.delivered, p.dropped], [100, 100, 0]);
      assert.ok(p.pauses >= 1, `pauses ${p.pauses}`);
      const d = dropping.stats();
      assert.deepStrictEqual([d.received, d.dropped, d.buffered, d.pauses, d.gaps > 0], [100, 80, 20, 0, true]);

      const s = c.watch('bounded');
      await s.ready;
      await srv.close();
      await start();
      await waitFor(() => s.stats().reconnects === 1, 'the reconnect');
      assert.strictEqual(s.stats().gaps, 1);
    });

    it('client.stats() counts requests sent, answered, failed by code, and in flight; status and streams', async () => {
      const c = client();
      assert.deepStrictEqual(c.stats(), { status: 'closed', requests: { sent: 0, answered: 0, failed: {}, inFlight: 0 }, reconnects: 0, streams: [] });
      await c.create('reqs', { n: 1 });
      await c.create('reqs', { n: 2 });
      await assert.rejects(c.delete('reqs', 'missing'), { code: 'NEXA_NOT_FOUND' });
      await assert.rejects(c.dropCollection('never-made'), { code: 'NEXA_SERVER' });
      await assert.rejects(c.ping({ timeout: 1, signal: AbortSignal.abort() }), { code: 'ABORT_ERR' });
      const pending = c.query('reqs', {});
      assert.strictEqual(c.stats().requests.inFlight, 1);
      await pending;
      const stream = c.watch('reqs');
      await stream.ready;
      const st = c.stats();
      assert.deepStrictEqual(st.requests, { sent: 6, answered: 3, failed: { NEXA_NOT_FOUND: 1, NEXA_SERVER: 1, ABORT_ERR: 1 }, inFlight: 0 });
      assert.strictEqual(st.status, 'open');
      assert.deepStrictEqual(st.streams, [stream.stats()]);
    });
  });

  describe('client events and status', () => {
    it("'connect', 'disconnect' {error}, 'reconnect' {attempts, downtimeMs} across a server restart; status follows", async () => {
      const c = client();
      const events = [];
      for (const name of ['connect', 'disconnect', 'reconnect']) c.on(name, (arg) => events.push([name, arg, c.status]));
      assert.strictEqual(c.status, 'closed');
      const connecting = c.connect();
      assert.strictEqual(c.status, 'connecting');
      await connecting;
      assert.strictEqual(c.status, 'open');
      const reconnected = once(c, 'reconnect');
      await srv.close();
      await waitFor(() => c.status === 'reconnecting', 'reconnecting');
      await sleep(100);
      await start();
      const info = await reconnected;
      assert.ok(info.attempts >= 1 && info.downtimeMs >= 90, JSON.stringify(info));
      assert.strictEqual(c.status, 'open');
      assert.strictEqual((await c.ping()).status, 'ok');
      await c.disconnect();
      assert.strictEqual(c.status, 'closed');
      assert.deepStrictEqual(events.map(([n, , s]) => [n, s]), [['connect', 'open'], ['disconnect', 'reconnecting'], ['reconnect', 'open'], ['disconnect', 'closed']]);
      assert.match(events[1][1].error.code, /^E[A-Z]+$|^NEXA_CLOSED$/);
      assert.strictEqual(events[3][1].error, null);
      assert.strictEqual(c.stats().reconnects, 1);
    });

    it("'error' is emitted when reconnecting fails for good, and only to a listener: without one nothing is thrown", async () => {
      const heard = client({ reconnectAttempts: 2 });
      const silent = client({ reconnectAttempts: 2 });
      await Promise.all([heard.connect(), silent.connect()]);
      const errored = once(heard, 'error');
      const lost = once(silent, 'disconnect');
      await srv.close();
      srv = null;
      const err = await errored;
      assert.match(err.code, /^ECONNREFUSED$/);
      assert.match((await lost).error.code, /^E[A-Z]+$|^NEXA_CLOSED$/);
      await waitFor(() => silent.status === 'closed', 'the silent client to give up');
      assert.strictEqual(heard.status, 'closed');
      await sleep(50); // an 'error' without a listener would have thrown by now, failing this test
    });
  });
});
