'use strict';
// Process lifetime: each scenario runs in a child process (and some in
// worker_threads there), so a hang or a crash cannot take the test run with
// it. The scenarios see nothing of this file's scope: see test/helpers/scenario.js.
const assert = require('assert');

const { startDevServer } = require('../lib/dev-server');
const { createProcess, explain } = require('./helpers/scenario');

/** A worker's scenario: its own dev server, client and stream of `n` events; posts what it received. */
async function streamInWorker({ NexaClient, startDevServer, parentPort }, { name, n }) {
  try {
    const srv = await startDevServer({ port: 0 });
    const client = new NexaClient({ host: '127.0.0.1', port: srv.port, int64: 'auto' });
    const stream = client.watch(name);
    await stream.ready;
    const ids = new Set();
    const reading = (async () => {
      for await (const ev of stream) {
        if (ev.ns.coll !== name) throw new Error(`foreign event ${ev.ns.coll}`);
        ids.add(ev.documentKey._id);
        if (ev.fullDocument.last) break;
      }
    })();
    const half = Math.floor(n / 2);
    const a = await client.batchWrite(name, Array.from({ length: half }, (_, i) => ({ i, who: name, big: 2n ** 64n - 1n })));
    const b = await client.batchWrite(name, Array.from({ length: n - half - 1 }, (_, i) => ({ i: half + i, who: name })));
    const last = await client.create(name, { last: true });
    await reading;
    const expected = new Set([...a.document_ids, ...b.document_ids, last.document_id]);
    const exact = ids.size === expected.size && [...ids].every((id) => expected.has(id));
    await client.disconnect();
    await srv.close();
    parentPort.postMessage({ name, events: ids.size, exact, threadId: require('worker_threads').threadId });
  } catch (err) {
    parentPort.postMessage({ name, error: String(err && err.stack) });
  }
}

/** A worker's scenario kept busy in addon calls: batch writes and a stream consuming their events; posts 'busy' once they flow. */
async function busyInWorker({ NexaClient, startDevServer, parentPort }) {
  const srv = await startDevServer({ port: 0 });
  const client = new NexaClient({ host: '127.0.0.1', port: srv.port });
  const stream = client.watch('busy');
  await stream.ready;
  let told = false;
  (async () => {
    for await (const ev of stream) {
      if (!told && ev) {
        told = true;
        parentPort.postMessage('busy');
      }
    }
  })();
  for (;;) await client.batchWrite('busy', Array.from({ length: 200 }, (_, i) => ({ i, pad: 'p'.repeat(200) })));
}

/** Asserts a child ended by itself, code 0, nothing on stderr. */
function exitedCleanly(r) {
  assert.strictEqual(r.killed, false, `still running: ${explain(r)}`);
  assert.strictEqual(r.signal, null, explain(r));
  assert.strictEqual(r.code, 0, explain(r));
  assert.strictEqual(r.stderr, '', explain(r));
}

describe('process lifetime', function () {
  this.timeout(15000);

  it('after disconnect() the process exits by itself with code 0', async () => {
    const r = await createProcess(async ({ NexaClient, startDevServer }) => {
      const srv = await startDevServer({ port: 0 });
      const client = new NexaClient({ host: '127.0.0.1', port: srv.port });
      await client.connect();
      const a = client.watch('exit');
      const b = client.watch();
      await Promise.all([a.ready, b.ready]);
      const loopB = (async () => {
        let n = 0;
        for await (const ev of b) n += ev ? 1 : 0; // ends normally at disconnect()
        return n;
      })();
      await client.batchWrite('exit', [{ i: 1 }, { i: 2 }, { i: 3 }]);
      let seen = 0;
      for await (const ev of a) {
        if (ev.operationType === 'insert') seen++;
        if (seen === 3) break;
      }
      await client.ping();
      await client.disconnect();
      const nB = await loopB;
      await srv.close();
      return { seen, nB }; // then it returns from everything, never calling process.exit()
    }, null, { killAfter: 5000 });
    exitedCleanly(r);
    assert.deepStrictEqual(r.result, { seen: 3, nB: 3 });
  });

  it('closing every stream (close() and break) without disconnect() lets the process exit', async () => {
    const r = await createProcess(async ({ NexaClient, startDevServer }) => {
      const srv = await startDevServer({ port: 0 });
      const client = new NexaClient({ host: '127.0.0.1', port: srv.port });
      const writer = new NexaClient({ host: '127.0.0.1', port: srv.port });
      const a = client.watch('c');
      const b = client.watch('c');
      await Promise.all([a.ready, b.ready]);
      await writer.create('c', { x: 1 });
      let n = 0;
      for await (const ev of a) {
        n += ev ? 1 : 0;
        break;
      }
      await b.close();
      await writer.disconnect();
      await srv.close();
      return { n, closed: [a.closed, b.closed] };
    }, null, { killAfter: 5000 });
    exitedCleanly(r);
    assert.deepStrictEqual(r.result, { n: 1, closed: [true, true] });
  });

  it('a process that never connected exits', async () => {
    const r = await createProcess(({ NexaClient }) => {
      const client = new NexaClient({ host: '127.0.0.1', port: 1 });
      return { connected: client.connected };
    }, null, { killAfter: 5000 });
    exitedCleanly(r);
    assert.deepStrictEqual(r.result, { connected: false });
  });

  it('a process whose connect() was refused exits and printed no unhandled error', async () => {
    const r = await createProcess(async ({ NexaClient }) => {
      const net = require('net');
      const probe = net.createServer();
      await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const { port } = probe.address();
      await new Promise((resolve) => probe.close(resolve)); // nothing listens there now
      const client = new NexaClient({ host: '127.0.0.1', port });
      const stream = client.watch('never'); // its failure must not be unhandled either
      let code = null;
      try {
        await client.connect();
      } catch (err) {
        code = err.code;
      }
      let streamCode = null;
      try {
        for await (const ev of stream) console.log('unexpected event', ev);
      } catch (err) {
        streamCode = err.code;
      }
      return { code, streamCode };
    }, null, { killAfter: 5000 });
    exitedCleanly(r);
    assert.doesNotMatch(r.stdout + r.stderr, /unhandled|Uncaught|triggerUncaughtException/i);
    assert.deepStrictEqual(r.result, { code: 'ECONNREFUSED', streamCode: 'ECONNREFUSED' });
  });

  describe('with a server in this process', () => {
    let srv;
    before(async () => {
      srv = await startDevServer({ port: 0 });
    });
    after(async () => {
      if (srv) await srv.close();
    });

    // The dev server runs here rather than in the child: a server inside the
    // child would keep it alive by itself and prove nothing.
    it('an open watch that is never closed keeps the process alive (like an open socket)', async () => {
      let readyAt = null;
      const r = await createProcess(({ NexaClient }, port) => {
        const client = new NexaClient({ host: '127.0.0.1', port });
        const stream = client.watch('held'); // never closed
        stream.ready.then(() => console.log('ready'), (err) => {
          console.error('subscribe failed:', err);
          process.exitCode = 1;
        });
      }, srv.port, {
        killAfter: 8000,
        onStdout: (out, child) => {
          if (readyAt === null && out.includes('ready')) {
            readyAt = Date.now();
            setTimeout(() => {
              // Still running 1.5 s after it subscribed?
              child.stillRunning = child.exitCode === null && child.signalCode === null;
              child.kill('SIGTERM');
            }, 1500);
          }
        },
      });
      assert.ok(readyAt !== null, `the scenario never subscribed: ${explain(r)}`);
      assert.strictEqual(r.child.stillRunning, true, `it exited on its own: ${explain(r)}`);
      assert.strictEqual(r.signal, 'SIGTERM', explain(r));
      assert.strictEqual(r.stderr, '', explain(r));
    });
  });

  it('process.exit() with streams open and events flowing exits cleanly (code 0, no signal)', async () => {
    // A few times: teardown races show up intermittently.
    for (let i = 0; i < 3; i++) {
      const r = await createProcess(async ({ NexaClient, startDevServer, report }) => {
        const srv = await startDevServer({ port: 0 });
        const client = new NexaClient({ host: '127.0.0.1', port: srv.port });
        const streams = [client.watch('flow'), client.watch(), client.watch('flow', ['insert']), client.watch('idle')];
        await Promise.all(streams.map((s) => s.ready));
        let consumed = 0;
        for (const s of streams.slice(0, 2)) {
          (async () => {
            for await (const ev of s) consumed += ev ? 1 : 0;
          })().catch(() => {});
        }
        // Keep writes in flight while exiting.
        const writer = new NexaClient({ host: '127.0.0.1', port: srv.port });
        await writer.batchWrite('flow', Array.from({ length: 500 }, (_, k) => ({ k })));
        writer.batchWrite('flow', Array.from({ length: 2000 }, (_, k) => ({ k }))).catch(() => {});
        setImmediate(() => {
          report({ exiting: true, consumed });
          process.exit(0);
        });
      }, null, { killAfter: 10000 }); // 500 writes and their events first: slow under ASan
      exitedCleanly(r);
      assert.strictEqual(r.result.exiting, true);
      assert.ok(r.result.consumed >= 0);
    }
  });

  it('the addon in 2 worker_threads at once: each streams from its own dev server and reports its count', async () => {
    const N = 1500;
    const r = await createProcess(async ({ createWorker }, { streamInWorker, n }) => {
      const results = [];
      await Promise.all(['w1', 'w2'].map((name) => new Promise((resolve) => {
        const w = createWorker(streamInWorker, { name, n });
        w.on('message', (m) => results.push(m));
        w.on('error', (err) => {
          console.error(`worker ${name} failed:`, err);
          process.exitCode = 1;
        });
        w.on('exit', (exitCode) => {
          results.push({ name, exitCode });
          resolve();
        });
      })));
      return results;
    }, { streamInWorker: streamInWorker.toString(), n: N }, { killAfter: 12000 });
    exitedCleanly(r);
    for (const name of ['w1', 'w2']) {
      const report = r.result.find((m) => m.name === name && 'events' in m);
      assert.ok(report, `no report from ${name}: ${JSON.stringify(r.result)}`);
      assert.strictEqual(report.error, undefined);
      assert.strictEqual(report.events, N, `${name} got ${report.events} events`);
      assert.strictEqual(report.exact, true, `${name} got other ids than it wrote`);
      assert.strictEqual(r.result.find((m) => m.name === name && 'exitCode' in m).exitCode, 0);
    }
    const thread = (name) => r.result.find((m) => m.name === name && m.threadId).threadId;
    assert.notStrictEqual(thread('w1'), thread('w2'));
  });

  // Terminating a worker_thread while it is in an addon call once aborted the
  // whole process (napi_throw failing during termination):
  // NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS in binding.gyp keeps it from that.
  it('terminating busy worker_threads neither crashes nor disturbs another worker', async () => {
    const r = await createProcess(async ({ createWorker }, { streamInWorker, busyInWorker, rounds }) => {
      const out = { terminated: [], survivor: null, errors: [] };
      const survivor = createWorker(streamInWorker, { name: 'survivor', n: 3000 });
      survivor.on('message', (m) => { out.survivor = m; });
      survivor.on('error', (err) => out.errors.push(String(err && err.stack)));
      const survivorExit = new Promise((resolve) => survivor.on('exit', resolve));
      for (let i = 0; i < rounds; i++) {
        await new Promise((resolve) => {
          const w = createWorker(busyInWorker);
          w.on('error', (err) => out.errors.push(String(err && err.stack)));
          w.on('message', () => setTimeout(() => w.terminate(), 20 + 15 * i)); // events flow: stop it mid-work
          w.on('exit', (code) => {
            out.terminated.push(code);
            resolve();
          });
        });
      }
      out.survivorExit = await survivorExit;
      return out;
    }, { streamInWorker: streamInWorker.toString(), busyInWorker: busyInWorker.toString(), rounds: 3 }, { killAfter: 12000 });
    assert.strictEqual(r.killed, false, explain(r));
    assert.strictEqual(r.signal, null, explain(r));
    assert.strictEqual(r.code, 0, explain(r));
    const out = r.result;
    assert.deepStrictEqual(out.errors, []);
    assert.deepStrictEqual(out.terminated, [1, 1, 1]);
    assert.deepStrictEqual(out.survivor && [out.survivor.events, out.survivor.exact], [3000, true]);
    assert.strictEqual(out.survivorExit, 0);
  });
});
