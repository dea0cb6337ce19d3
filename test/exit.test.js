'use strict';
// Process lifetime: each case runs a fixture from test/fixtures in a child
// process, so a hang or a crash there cannot take the test run with it.
const assert = require('assert');

const { startDevServer } = require('../lib/dev-server');
const { runFixture, explain, lastJson } = require('./fixtures/helpers');


const run = runFixture;

describe('process lifetime', function () {
  this.timeout(15000);

  it('after disconnect() the process exits by itself with code 0', async () => {
    const r = await run('exit-after-disconnect.js', [], { killAfter: 5000 });
    assert.strictEqual(r.killed, false, `still running after 5 s: ${explain(r)}`);
    assert.strictEqual(r.code, 0, explain(r));
    assert.strictEqual(r.signal, null);
    assert.strictEqual(r.stderr, '', explain(r));
    assert.deepStrictEqual(lastJson(r.stdout), { done: true, seen: 3, nB: 3 });
  });

  it('closing every stream (close() and break) without disconnect() lets the process exit', async () => {
    const r = await run('close-streams-exit.js', [], { killAfter: 5000 });
    assert.strictEqual(r.killed, false, `still running after 5 s: ${explain(r)}`);
    assert.strictEqual(r.code, 0, explain(r));
    assert.strictEqual(r.stderr, '', explain(r));
    assert.deepStrictEqual(lastJson(r.stdout), { done: true, n: 1, closed: [true, true] });
  });

  it('a process that never connected exits', async () => {
    const r = await run('never-connected.js', [], { killAfter: 5000 });
    assert.strictEqual(r.killed, false, explain(r));
    assert.strictEqual(r.code, 0, explain(r));
    assert.strictEqual(r.stderr, '', explain(r));
    assert.deepStrictEqual(lastJson(r.stdout), { done: true, connected: false });
  });

  it('a process whose connect() was refused exits and printed no unhandled error', async () => {
    const r = await run('refused.js', [], { killAfter: 5000 });
    assert.strictEqual(r.killed, false, explain(r));
    assert.strictEqual(r.code, 0, explain(r));
    assert.strictEqual(r.signal, null);
    assert.strictEqual(r.stderr, '', explain(r));
    assert.doesNotMatch(r.stdout + r.stderr, /unhandled|Uncaught|triggerUncaughtException/i);
    assert.deepStrictEqual(lastJson(r.stdout), { done: true, code: 'ECONNREFUSED', streamCode: 'ECONNREFUSED' });
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
      const r = await run('open-watch.js', [String(srv.port)], {
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
      assert.ok(readyAt !== null, `the fixture never subscribed: ${explain(r)}`);
      assert.strictEqual(r.child.stillRunning, true, `it exited on its own: ${explain(r)}`);
      assert.strictEqual(r.signal, 'SIGTERM', explain(r));
      assert.strictEqual(r.stderr, '', explain(r));
    });
  });

  it('process.exit() with streams open and events flowing exits cleanly (code 0, no signal)', async () => {
    // A few times: teardown races show up intermittently.
    for (let i = 0; i < 3; i++) {
      const r = await run('exit-with-open-streams.js', [], { killAfter: 5000 });
      assert.strictEqual(r.killed, false, explain(r));
      assert.strictEqual(r.signal, null, explain(r));
      assert.strictEqual(r.code, 0, explain(r));
      assert.strictEqual(r.stderr, '', explain(r));
      const out = lastJson(r.stdout);
      assert.strictEqual(out.exiting, true);
      assert.ok(out.consumed >= 0);
    }
  });

  it('the addon in 2 worker_threads at once: each streams from its own dev server and reports its count', async () => {
    const N = 1500;
    const r = await run('workers.js', [String(N)], { killAfter: 12000 });
    assert.strictEqual(r.killed, false, explain(r));
    assert.strictEqual(r.signal, null, explain(r));
    assert.strictEqual(r.code, 0, explain(r));
    assert.strictEqual(r.stderr, '', explain(r));
    const results = lastJson(r.stdout);
    for (const name of ['w1', 'w2']) {
      const report = results.find((m) => m.name === name && 'events' in m);
      assert.ok(report, `no report from ${name}: ${r.stdout}`);
      assert.strictEqual(report.error, undefined);
      assert.strictEqual(report.events, N, `${name} got ${report.events} events`);
      assert.strictEqual(report.exact, true, `${name} got other ids than it wrote`);
      const exit = results.find((m) => m.name === name && 'exitCode' in m);
      assert.strictEqual(exit.exitCode, 0);
    }
    assert.notStrictEqual(results.find((m) => m.name === 'w1' && m.threadId).threadId,
      results.find((m) => m.name === 'w2' && m.threadId).threadId);
  });

  // BUG (src/binding, binding.gyp): terminating a worker_thread while it is
  // in an addon call (client.request -> addon.request, or the dev server's
  // addon.decode) aborts the WHOLE process: "FATAL ERROR:
  // Error::ThrowAsJavaScriptException napi_throw" (exit 134, SIGABRT).
  // During termination N-API calls fail with napi_pending_exception; the
  // addon then throws a Napi::Error, napi_throw fails and node-addon-api
  // treats that as fatal. Defining NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS in
  // binding.gyp "defines" makes this test pass (checked on a scratch build).
  // Left failing: it must be fixed.
  it('terminating busy worker_threads neither crashes nor disturbs another worker', async () => {
    const r = await run('worker-terminate.js', ['3'], { killAfter: 12000 });
    assert.strictEqual(r.killed, false, explain(r));
    assert.strictEqual(r.signal, null, explain(r));
    assert.strictEqual(r.code, 0, explain(r));
    const out = lastJson(r.stdout);
    assert.deepStrictEqual(out.errors, []);
    assert.deepStrictEqual(out.terminated, [1, 1, 1]);
    assert.deepStrictEqual(out.survivor && [out.survivor.events, out.survivor.exact], [3000, true]);
    assert.strictEqual(out.survivorExit, 0);
  });
});
