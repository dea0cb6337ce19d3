'use strict';
// `nexaclient watch` and `nexaclient demo`, run as a user runs them: the real
// bin in a child process, in shell pipelines and on a terminal (util-linux
// `script` gives it one), against a dev server.
const assert = require('assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const NexaClient = require('..');
const { startDevServer } = require('../lib/dev-server');
const { waitFor } = require('./fixtures/helpers');
const { explain } = require('./helpers/scenario');
const { CLI, runCli, runShell, jsonLines } = require('./helpers/cli');

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('nexaclient watch', function () {
  let srv;
  let port;
  let client;

  before(async () => {
    srv = await startDevServer({ port: 0 });
    port = srv.port;
    client = new NexaClient({ host: '127.0.0.1', port, int64: 'auto', reconnectDelayMs: 20 });
  });
  after(async () => {
    await client.disconnect();
    if (srv) await srv.close();
  });

  const env = () => ({ NEXADB_URL: `nexadb://root@127.0.0.1:${port}`, NEXADB_PASSWORD: 'nexadb123' });

  /**
   * Starts `nexaclient watch --verbose ...args`. `ready` resolves once it is
   * subscribed (its --verbose line); `lines(n)` once stdout holds n lines;
   * `done` with how the process ended.
   */
  function startWatch(args, opts = {}) {
    let stdout = '';
    let stderr = '';
    let child = null;
    const done = runCli(['watch', '--verbose', ...args], {
      killAfter: 20000,
      ...opts,
      env: { ...env(), ...opts.env },
      onStdout: (s, c) => { stdout = s; child = c; },
      onStderr: (s, c) => { stderr = s; child = c; },
    });
    let ended = false;
    done.then(() => { ended = true; });
    const until = async (cond, what) => {
      await waitFor(() => cond() || ended, what, 10000, 5);
      if (!cond()) assert.fail(`watch ended before ${what}: ${explain(await done)}`);
    };
    return {
      done,
      get child() { return child; },
      get stderr() { return stderr; },
      ready: () => until(() => /: watching /.test(stderr), 'the subscription'),
      lines: (n) => until(() => stdout.split('\n').length > n, `${n} lines on stdout`),
      stderrMatches: (re) => until(() => re.test(stderr), `${re} on stderr`),
    };
  }

  it('prints each event as one JSON line equal to what the iterator yields, and ends after --count with exit 0', async () => {
    const coll = 'cli_w_equal';
    const mine = client.watch(coll);
    await mine.ready;
    const w = startWatch([coll, '--count', '4']);
    await w.ready();
    const { document_id: id } = await client.create(coll, { customer: 'Alice', total: 99.5, tags: ['a'], nested: { ok: true, none: null } });
    await client.update(coll, id, { status: 'shipped', total: 101.25 });
    await client.delete(coll, id);
    await client.create(coll, { big: 2n ** 60n + 1n }); // beyond 2^53: printed exactly
    const r = await w.done;
    assert.strictEqual(r.code, 0, explain(r));

    const expected = [];
    for await (const ev of mine) {
      expected.push(ev);
      if (expected.length === 4) break;
    }
    const lines = r.stdout.trimEnd().split('\n');
    assert.strictEqual(lines.length, 4, r.stdout);
    assert.deepStrictEqual(lines.slice(0, 3).map((l) => JSON.parse(l)), expected.slice(0, 3));
    assert.deepStrictEqual(expected.map((e) => e.operationType), ['insert', 'update', 'delete', 'insert']);
    assert.strictEqual(typeof expected[3].fullDocument.big, 'bigint');
    assert.match(lines[3], /"big":1152921504606846977\}/);
    assert.strictEqual(JSON.parse(lines[3]).documentKey._id, expected[3].documentKey._id);
  });

  it('--ops chooses the operations; a collection-less watch sees every collection', async () => {
    const w = startWatch(['--ops', 'delete,dropCollection', '--count', '2']);
    await w.ready();
    const a = await client.create('cli_w_ops_a', { n: 1 });
    await client.create('cli_w_ops_b', { n: 2 });
    await client.delete('cli_w_ops_a', a.document_id);
    await client.dropCollection('cli_w_ops_b');
    const r = await w.done;
    assert.strictEqual(r.code, 0, explain(r));
    assert.deepStrictEqual(jsonLines(r.stdout).map((e) => [e.operationType, e.ns.coll]),
      [['delete', 'cli_w_ops_a'], ['dropCollection', 'cli_w_ops_b']]);
  });

  for (const signal of ['SIGINT', 'SIGTERM']) {
    it(`${signal} ends it cleanly: exit 0, every printed line whole, nothing on stderr but --verbose`, async () => {
      const w = startWatch(['cli_w_sig']);
      await w.ready();
      await client.create('cli_w_sig', { n: 1 });
      await w.lines(1);
      w.child.kill(signal);
      const r = await w.done;
      assert.strictEqual(r.code, 0, explain(r));
      assert.strictEqual(r.signal, null);
      assert.strictEqual(jsonLines(r.stdout)[0].fullDocument.n, 1);
      assert.ok(r.stderr.split('\n').filter(Boolean).every((l) => /^nexaclient watch: (connecting|watching) /.test(l)), r.stderr);
    });
  }

  it('Ctrl-C while still connecting (a server that never answers): watch ends with 0 at once, ping with 130', async () => {
    const silent = net.createServer((sock) => sock.on('error', () => {})); // accepts, never answers CONNECT
    await new Promise((r) => silent.listen(0, '127.0.0.1', r));
    try {
      for (const [cmd, code] of [['watch', 0], ['ping', 130]]) {
        let asked = false;
        const done = runCli([cmd, '--verbose', '--port', String(silent.address().port), '--host', '127.0.0.1', '--timeout', '60000'], {
          killAfter: 20000,
          onStderr: (s, child) => {
            if (!asked && /connecting to root@127\.0\.0\.1/.test(s)) {
              asked = true;
              setTimeout(() => child.kill('SIGINT'), 200);
            }
          },
        });
        const r = await done;
        assert.strictEqual(r.code, code, `${cmd}: ${explain(r)}`);
        assert.ok(r.ms < 10000, `${cmd} took ${r.ms} ms`);
        if (code === 130) assert.match(r.stderr, /nexaclient ping: interrupted \(SIGINT\)\n$/);
        else assert.doesNotMatch(r.stderr, /interrupted|Error/);
      }
    } finally {
      silent.close();
    }
  });

  it('ends with exit 0 and no EPIPE when its reader goes away (| head -1)', async () => {
    let ready = false;
    const done = runShell(`${CLI} watch cli_w_head --verbose | head -1`, {
      env: env(),
      killAfter: 20000,
      onStderr: (s) => { ready = ready || /: watching /.test(s); },
    });
    await waitFor(() => ready, 'the subscription', 10000, 5);
    // head exits after the first line; the watch learns it at a write after that.
    let ended = false;
    done.then(() => { ended = true; });
    for (let i = 1; !ended && i <= 500; i++) {
      await client.create('cli_w_head', { i });
      await new Promise((res) => setTimeout(res, 10));
    }
    const r = await done;
    assert.strictEqual(r.code, 0, explain(r)); // pipefail: the watch's own exit code
    assert.strictEqual(jsonLines(r.stdout).length, 1);
    assert.strictEqual(jsonLines(r.stdout)[0].fullDocument.i, 1);
    assert.doesNotMatch(r.stderr, /EPIPE|Error|at /);
  });

  it('reports a server restart on stderr and carries on printing events; --gaps prints the gap in line', async () => {
    const w = startWatch(['cli_w_restart', '--count', '3', '--gaps']);
    await w.ready();
    await client.create('cli_w_restart', { n: 1 });
    await w.lines(1);
    await srv.close();
    await w.stderrMatches(/disconnected: /);
    srv = await startDevServer({ port });
    await w.stderrMatches(/reconnected after \d+ attempts?, \d+ ms without a subscription/);
    await client.create('cli_w_restart', { n: 2 });
    const r = await w.done;
    assert.strictEqual(r.code, 0, explain(r));
    const [first, gap, second] = jsonLines(r.stdout);
    assert.deepStrictEqual([first.fullDocument.n, second.fullDocument.n], [1, 2]);
    assert.deepStrictEqual({ ...gap, since: 0, until: 0 },
      { operationType: 'gap', ns: { db: 'nexadb', coll: 'cli_w_restart' }, reason: 'reconnect', since: 0, until: 0 });
    assert.ok(gap.since >= first.timestamp && gap.since <= gap.until && gap.until <= second.timestamp, JSON.stringify([first, gap, second]));
    assert.match(r.stderr, /nexaclient watch: disconnected: (ECONNRESET|NEXA_CLOSED|connection to)[^\n]*; reconnecting\n/);
  });

  (hasScript ? it : it.skip)('on a terminal: a status line on stderr, never in stdout; the password prompt does not echo', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexacli-'));
    const out = path.join(dir, 'events.jsonl');
    try {
      // stdin, stderr on a terminal (script's), stdout into a file. The password is typed at the prompt.
      let typed = false;
      let terminal = '';
      const done = runShell(`script -qec ${shellQuote(`${CLI} watch cli_w_tty --count 3 --verbose > ${out}`)} /dev/null`, {
        env: { NEXADB_URL: `nexadb://root@127.0.0.1:${port}` },
        openStdin: true,
        killAfter: 20000,
        onStdout: (s, child) => {
          terminal = s;
          if (!typed && /Password for root@127\.0\.0\.1:\d+ \(Enter: the default\): $/.test(s)) {
            typed = true;
            child.stdin.write('nexadb123\r');
          }
        },
      });
      await waitFor(() => /: watching /.test(terminal), 'the subscription', 10000, 5);
      for (let i = 1; i <= 3; i++) await client.create('cli_w_tty', { i });
      const r = await done;
      assert.strictEqual(r.code, 0, explain(r));
      assert.match(terminal, /password from the prompt/);
      assert.ok(!terminal.includes('nexadb123'), 'the typed password was echoed');
      assert.match(terminal, /\r\x1b\[2K\d+ events\/s · \d+ total · 0 reconnects · lag /);
      const events = jsonLines(fs.readFileSync(out, 'utf8'));
      assert.deepStrictEqual(events.map((e) => e.fullDocument.i), [1, 2, 3]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('nexaclient demo', () => {
  it('runs the order-processing demo against an embedded dev server and ends by itself, exit 0', async () => {
    const r = await runCli(['demo'], { killAfter: 120000 });
    assert.strictEqual(r.code, 0, explain(r));
    assert.strictEqual(r.killed, false);
    assert.match(r.stdout, /embedded NexaDB dev server \(in memory\) listening on 127\.0\.0\.1:\d+/);
    assert.match(r.stdout, /watcher: saw all 8 events/);
    assert.match(r.stdout, /burst: 20,000 inserts in [\d.]+ s = [\d,]+ events\/s/);
    assert.strictEqual(r.stderr, '');
  });
});

function shellQuote(s) {
  return `'${s.replace(/'/g, "'\\''")}'`;
}
