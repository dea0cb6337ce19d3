'use strict';
// Hardening of the native layer (issue 5): a hostile server sending
// malformed frames over thousands of connections, maxFrameBytes,
// worker_threads terminated mid-stream, process-lifetime corners, memory
// held after the events are gone (credentials: hardening-credentials.test.js).
// Child-process fixtures keep a crash or a hang from taking the test run
// with it.
const assert = require('assert');

const NexaClient = require('..');
const { startDevServer } = require('../lib/dev-server');
const { startHostile, CASES } = require('./fixtures/hardening-hostile');
const { waitFor } = require('./fixtures/helpers');
const { createProcess, explain } = require('./helpers/scenario');

const SLOW = { killAfter: 20000 };

const PER_CASE = Number(process.env.NEXACLIENT_HOSTILE_PER_CASE || 170); // x 12 cases = 2,040 connections
const CONCURRENCY = 48;

function handles() {
  return process._getActiveHandles().length;
}


/** One connection's worth: a stream or a ping against the hostile server. */
async function attempt(port, kind, name) {
  const client = new NexaClient({ host: '127.0.0.1', port, username: `case:${name}`, connectTimeout: 5000, requestTimeout: 10000, autoReconnect: false });
  let err = null;
  let events = 0;
  try {
    if (kind === 'stream') {
      const stream = client.watch('hostile');
      try {
        await stream.ready;
      } catch (e) {
        err = e;
      }
      for (;;) {
        try {
          const r = await stream.next();
          if (r.done) break;
          events++;
        } catch (e) {
          err = err || e;
          break;
        }
      }
    } else {
      try {
        await client.ping();
      } catch (e) {
        err = e;
      }
    }
  } finally {
    await client.disconnect();
  }
  return { err, events };
}

describe('hardening: a hostile server', function () {
  this.timeout(60000);

  it(`malformed frames over ${PER_CASE * Object.keys(CASES).length} connections: each stream or request gets a clear error (an undecodable payload fails only itself) and the process lives on`, async () => {
    const before = handles();
    const names = Object.keys(CASES);
    const jobs = [];
    for (let i = 0; i < PER_CASE; i++) for (const name of names) jobs.push({ name, kind: i % 2 ? 'stream' : 'request' });
    const hostile = await startHostile(() => 'random bytes', 0x5eed);
    const results = {};
    const problems = [];
    let next = 0;
    const t0 = Date.now();
    async function lane() {
      while (next < jobs.length) {
        const job = jobs[next++];
        const { err, events } = await attempt(hostile.port, job.kind, job.name);
        const c = CASES[job.name];
        const r = results[job.name] || (results[job.name] = { n: 0, codes: {} });
        r.n++;
        const code = err ? err.code : 'no error';
        r.codes[code] = (r.codes[code] || 0) + 1;
        if (!err && job.kind === 'request' && c.requestMayPass) continue;
        const stream = job.kind === 'stream';
        const expect = (stream && c.streamExpect) || c.expect;
        if (!err || !expect.includes(err.code) ||
            (c.message && err.code === 'NEXA_PROTOCOL' && !c.message.test(err.message)) ||
            !(err instanceof Error) || (!stream && events) || (stream && c.streamEvents !== undefined && events !== c.streamEvents)) {
          if (problems.length < 10) problems.push(`${job.name} (${job.kind}): ${err ? `${err.code}: ${err.message}` : `no error after ${events} events`}`);
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    const ms = Date.now() - t0;
    await hostile.close();
    assert.deepStrictEqual(problems, [], `unexpected outcomes:\n${problems.join('\n')}\n${JSON.stringify(results)}`);
    assert.strictEqual(Object.values(results).reduce((a, r) => a + r.n, 0), jobs.length);
    // The process lives on: a fresh client against a real server works.
    const srv = await startDevServer({ port: 0 });
    const client = new NexaClient({ host: '127.0.0.1', port: srv.port });
    const created = await client.create('after', { ok: true });
    assert.ok(created.document_id);
    const stream = client.watch('after');
    await stream.ready;
    await client.create('after', { ok: 2 });
    const ev = await stream.next();
    assert.strictEqual(ev.value.fullDocument.ok, 2);
    await client.disconnect();
    await srv.close();
    await waitFor(() => handles() <= before, `open handles back to ${before} (now ${handles()})`);
    if (process.env.NEXACLIENT_VERBOSE) console.log(`      ${jobs.length} hostile connections in ${ms} ms`);
  });

  it('maxFrameBytes: an event larger than the limit ends the stream with NEXA_PROTOCOL; smaller ones pass', async () => {
    const srv = await startDevServer({ port: 0 });
    const small = new NexaClient({ host: '127.0.0.1', port: srv.port, maxFrameBytes: 2048, autoReconnect: false });
    const writer = new NexaClient({ host: '127.0.0.1', port: srv.port });
    const stream = small.watch('big');
    await stream.ready;
    await writer.create('big', { s: 'x'.repeat(500) });
    const first = await stream.next();
    assert.strictEqual(first.value.fullDocument.s.length, 500);
    await writer.create('big', { s: 'y'.repeat(5000) });
    await assert.rejects(stream.next(), (err) => {
      assert.strictEqual(err.code, 'NEXA_PROTOCOL');
      assert.match(err.message, /maxFrameBytes/);
      return true;
    });
    // An answer above the limit fails that request, on that connection only.
    await assert.rejects(small.query('big', {}, 10), (err) => err.code === 'NEXA_PROTOCOL');
    assert.strictEqual((await small.ping()).status, 'ok', 'the client dials again and works');
    await small.disconnect();
    await writer.disconnect();
    await srv.close();
  });
});

/**
 * Three worker_threads stream at once from a dev server in the main thread
 * while the main thread streams too; one worker is terminated mid-stream.
 */
async function workersWithOneTerminated({ NexaClient, startDevServer, createWorker }) {
  const N = 3000;
  const srv = await startDevServer({ port: 0 });
  const client = new NexaClient({ host: '127.0.0.1', port: srv.port });
  const mainStream = client.watch('main');
  await mainStream.ready;
  const out = { workers: {}, terminated: null, errors: [] };
  const names = ['w0', 'w1', 'w2'];
  const victim = 'w1';
  const workers = names.map((name) => createWorker(async ({ NexaClient: Client, parentPort }, { port, name: coll }) => {
    try {
      const c = new Client({ host: '127.0.0.1', port });
      const stream = c.watch(coll);
      await stream.ready;
      parentPort.postMessage({ name: coll, ready: true });
      let events = 0;
      for await (const ev of stream) {
        events++;
        if (events % 200 === 0) parentPort.postMessage({ name: coll, progress: events });
        if (ev.fullDocument && ev.fullDocument.last) break;
      }
      await c.disconnect();
      parentPort.postMessage({ name: coll, done: true, events });
    } catch (err) {
      parentPort.postMessage({ name: coll, error: String(err && err.stack) });
    }
  }, { port: srv.port, name }));
  const exits = workers.map((w, i) => new Promise((resolve) => {
    w.on('error', (err) => out.errors.push(`${names[i]}: ${err && err.stack}`));
    w.on('exit', (code) => resolve(code));
  }));
  const ready = workers.map((w) => new Promise((resolve) => {
    w.on('message', (m) => {
      if (m.ready) resolve();
      if (m.error) {
        out.errors.push(`${m.name}: ${m.error}`);
        resolve();
      }
      if (m.done) out.workers[m.name] = m.events;
      if (m.progress && m.name === victim && out.terminated === null) {
        out.terminated = m.progress; // mid-stream: events are still flowing
        w.terminate();
      }
    });
  }));
  await Promise.all(ready);
  let mainEvents = 0;
  const mainReading = (async () => {
    for await (const ev of mainStream) {
      mainEvents++;
      if (ev.fullDocument.last) break;
    }
  })();
  for (const coll of [...names, 'main']) {
    for (let k = 0; k < N - 1; k += 300) {
      await client.batchWrite(coll, Array.from({ length: Math.min(300, N - 1 - k) }, (_, i) => ({ i: k + i, pad: 'x'.repeat(50) })));
    }
    await client.create(coll, { last: true });
  }
  await mainReading;
  out.exitCodes = await Promise.all(exits);
  out.main = mainEvents;
  out.pingAfter = (await client.ping()).status;
  await client.disconnect();
  await srv.close();
  return out;
}

describe('hardening: worker_threads', function () {
  this.timeout(30000);
  it('3 workers stream at once; terminating one mid-stream leaves the other two and the main thread whole', async () => {
    const r = await createProcess(workersWithOneTerminated, null, SLOW);
    assert.ok(r.code === 0 && r.signal === null && !r.killed, explain(r));
    const out = r.result;
    assert.deepStrictEqual(out.errors, [], explain(r));
    assert.ok(out.terminated > 0 && out.terminated < 3000, `w1 terminated mid-stream (after ${out.terminated} events)`);
    assert.deepStrictEqual(out.workers, { w0: 3000, w2: 3000 });
    assert.strictEqual(out.main, 3000);
    assert.strictEqual(out.exitCodes[1], 1, 'the terminated worker exits with code 1');
    assert.strictEqual(out.exitCodes[0], 0);
    assert.strictEqual(out.exitCodes[2], 0);
    assert.strictEqual(out.pingAfter, 'ok');
  });
});

/**
 * Streams open, writes in flight, and the 300th event's loop body either
 * calls process.exit(3) ('exit') or throws, unhandled ('throw').
 */
async function endFromStreamCallback({ NexaClient, startDevServer, report }, how) {
  const srv = await startDevServer({ port: 0 });
  const client = new NexaClient({ host: '127.0.0.1', port: srv.port });
  const streams = [client.watch('flow'), client.watch(), client.watch('idle')];
  await Promise.all(streams.map((s) => s.ready));
  const writer = new NexaClient({ host: '127.0.0.1', port: srv.port });
  (async () => {
    let n = 0;
    for await (const ev of streams[0]) {
      if (++n === 300) {
        report({ events: n, hasEvent: !!ev });
        if (how === 'exit') process.exit(3);
        throw new Error('hardening: thrown from a stream callback');
      }
    }
  })(); // deliberately unhandled for 'throw'
  for (;;) await writer.batchWrite('flow', Array.from({ length: 200 }, (_, i) => ({ i })));
}

describe('hardening: process lifetime', function () {
  this.timeout(30000);

  it('process.exit(3) from inside a stream callback, writes in flight: exit code 3, no signal', async () => {
    const r = await createProcess(endFromStreamCallback, 'exit', SLOW);
    assert.ok(r.code === 3 && r.signal === null && !r.killed, explain(r));
    assert.strictEqual(r.result.events, 300);
  });

  it('an uncaught exception with streams open: exit code 1, no crash signal, the error printed', async () => {
    const r = await createProcess(endFromStreamCallback, 'throw', SLOW);
    assert.ok(r.code === 1 && r.signal === null && !r.killed, explain(r));
    assert.match(r.stderr, /thrown from a stream callback/);
    assert.doesNotMatch(r.stderr, /Assertion|FATAL|Segmentation|core dumped|Abort/i, explain(r));
  });

  it('clients dropped without disconnect() after their streams closed, then global.gc(): no crash, no hang', async () => {
    const r = await createProcess(async ({ NexaClient, startDevServer }) => {
      const srv = await startDevServer({ port: 0 });
      const { port } = srv;
      for (let round = 0; round < 20; round++) {
        // autoReconnect off: once the server closes, the dropped clients must not dial again.
        let client = new NexaClient({ host: '127.0.0.1', port, autoReconnect: false });
        await client.create('gc', { round });
        const s = client.watch('gc');
        await s.ready;
        await s.close();
        client = null; // dropped with its request connection open, no disconnect()
        global.gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      global.gc();
      const fresh = new NexaClient({ host: '127.0.0.1', port });
      const docs = await fresh.query('gc', {}, 100);
      await fresh.disconnect();
      await srv.close(); // the dropped clients' connections end here
      global.gc();
      setTimeout(() => global.gc(), 50).unref();
      return { docs: docs.length }; // the process must now exit by itself (code 0)
    }, null, { ...SLOW, nodeArgs: ['--expose-gc'] });
    assert.ok(r.code === 0 && r.signal === null && !r.killed, explain(r));
    assert.strictEqual(r.result.docs, 20);
  });
});

/**
 * Memory held after the events are gone (run with --expose-gc). A raw
 * server floods insert events with 24-character _ids (a slice, not a copy).
 *   'ids': 10,000 events of 1 KB; the consumer keeps every 100th _id. V8 keeps
 *          a slice's whole parent string alive, so the heap's growth after GC
 *          shows how much text each kept _id holds: its batch's, or its own segment's.
 *   'oneoff': one event with 300,000 numbers (its batch is too large for the
 *          addon's reused arrays), consumed: the arrays made for it must not stay alive.
 */
async function keptAfterConsuming({ NexaClient }, mode) {
  const { constants } = require('./lib/native');
  const { frame } = require('./lib/encode');
  const { burstServer } = require('./test/fixtures/helpers');
  const EVENTS = mode === 'oneoff' ? 1 : 10000;
  const NUMS = Array.from({ length: 300000 }, (_, i) => i + 0.5);
  const KEEP_EVERY = 100;
  const PAD = 'p'.repeat(1000);
  const event = (i) => {
    const id = `doc-${String(i).padStart(20, '0')}`;
    return frame(constants.msg.CHANGE_EVENT, {
      operationType: 'insert', ns: { db: 'nexadb', coll: 'kept' }, timestamp: 1795686148 + i / 1000,
      documentKey: { _id: id }, fullDocument: mode === 'oneoff' ? { _id: id, nums: NUMS } : { _id: id, pad: PAD, i },
    });
  };
  const server = await burstServer(() => Buffer.concat(Array.from({ length: EVENTS }, (_, i) => event(i))));
  const client = new NexaClient({ host: '127.0.0.1', port: server.port, autoReconnect: false });
  const stream = client.watch('kept');
  await stream.ready;
  global.gc();
  const heapUsed0 = process.memoryUsage().heapUsed;
  if (mode === 'oneoff') {
    const { value: ev } = await stream.next();
    const ok = ev.fullDocument.nums.length === NUMS.length && ev.fullDocument.nums[299999] === 299999.5;
    // V8 frees ArrayBuffer memory after GC, on a sweeper of its own: look a
    // few times (slow under sanitizers).
    let arrayBuffers = Infinity;
    for (let i = 0; i < 60 && arrayBuffers >= 1024 * 1024; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      global.gc();
      arrayBuffers = Math.min(arrayBuffers, process.memoryUsage().arrayBuffers);
    }
    await client.disconnect();
    server.close();
    return { ok, arrayBuffers };
  }
  const kept = [];
  let n = 0;
  for await (const ev of stream) {
    if (n % KEEP_EVERY === 0) kept.push(ev.documentKey._id);
    if (++n === EVENTS) break;
  }
  await client.disconnect();
  server.close();
  global.gc();
  const growthBytes = process.memoryUsage().heapUsed - heapUsed0;
  const ok = kept.every((id, k) => id === `doc-${String(k * KEEP_EVERY).padStart(20, '0')}`);
  return { kept: kept.length, ok, growthBytes };
}

describe('hardening: memory held after the events are gone', function () {
  this.timeout(30000);

  it('keeping one _id of every 100 events keeps ~its own event\'s text, not the batch\'s (10,000 events of 1 KB)', async () => {
    // V8 keeps a slice's whole parent string alive: with one string per
    // batch, the 100 kept _ids held every batch's text (~10 MB) after GC.
    const r = await createProcess(keptAfterConsuming, 'ids', { ...SLOW, nodeArgs: ['--expose-gc'] });
    assert.ok(r.code === 0 && r.signal === null && !r.killed, explain(r));
    const out = r.result;
    assert.strictEqual(out.kept, 100);
    assert.ok(out.ok, 'a kept _id differs');
    assert.ok(out.growthBytes < 2 * 1024 * 1024, `the heap grew ${(out.growthBytes / 1e6).toFixed(1)} MB after GC for 100 kept _ids`);
  });

  it('a batch too large for the reused arrays: the arrays made for it are let go once it is consumed', async () => {
    const r = await createProcess(keptAfterConsuming, 'oneoff', { ...SLOW, nodeArgs: ['--expose-gc'] });
    assert.ok(r.code === 0 && r.signal === null && !r.killed, explain(r));
    const out = r.result;
    assert.ok(out.ok, 'the 300,000 numbers differ');
    // ~3.6 MB (2.4 MB of numbers, 1.2 MB of ops) while they were kept.
    assert.ok(out.arrayBuffers < 1024 * 1024, `${(out.arrayBuffers / 1e6).toFixed(1)} MB of ArrayBuffers still alive`);
  });
});
