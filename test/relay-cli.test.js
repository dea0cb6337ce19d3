'use strict';
// `nexaclient relay`, run as a user runs it: the real bin in a child process,
// against the dev server and a redis-server of the test's own.
const assert = require('assert');
const NexaClient = require('..');
const { startDevServer } = require('../lib/dev-server');
const { startRedis } = require('./helpers/redis-server');
const { writeChanges, redisFor, readEntries } = require('./helpers/relay-rig');
const { runCli, jsonLines } = require('./helpers/cli');
const { waitFor } = require('./fixtures/helpers');

describe('nexaclient relay (CLI)', function () {
  this.timeout(30000);
  let server;
  let redisServer;
  let client;
  before(async () => {
    server = await startDevServer({ port: 0 });
    redisServer = await startRedis();
    client = new NexaClient({ host: server.host, port: server.port });
  });
  after(async () => {
    if (client) await client.disconnect();
    if (server) await server.close();
    if (redisServer) await redisServer.stop();
  });

  const env = () => ({ NEXADB_URL: `nexadb://root@127.0.0.1:${server.port}`, NEXADB_PASSWORD: 'nexadb123', REDIS_URL: redisServer.url });

  it('is listed by --help, with its options under relay --help', async () => {
    const all = await runCli(['--help'], { env: env() });
    assert.match(all.stdout, /^ {2}relay +relay changes into a Redis stream/m);
    const own = await runCli(['relay', '--help'], { env: env() });
    assert.strictEqual(own.code, 0);
    assert.match(own.stdout, /--retention AGE/);
    assert.match(own.stdout, /--url/); // the connection options, added by the dispatcher
  });

  it('relays until SIGTERM, then drains and prints its last figures as JSON (exit 0)', async () => {
    let child = null;
    let stderr = '';
    let stdout = '';
    const done = runCli(['relay', '--stream', 'cli:{collection}', '--ops', 'insert,update', '--max-len', '1000', '--stats-every', '200ms'], {
      env: env(), killAfter: 25000,
      onStdout: (s, c) => { stdout = s; child = c; },
      onStderr: (s, c) => { stderr = s; child = c; },
    });
    await waitFor(() => /relaying/.test(stderr), 'the relay started', 15000);
    assert.match(stderr, new RegExp(`^nexaclient relay: relaying every collection to cli:\\{collection\\} on redis://127\\.0\\.0\\.1:${redisServer.port} as \\S+\\n$`));
    await writeChanges(client, 'clicoll', { docs: 50, updates: 1 });
    await client.delete('clicoll', (await client.query('clicoll', { k: 0 }))[0]._id); // not in --ops
    await waitFor(() => /"appended":100,/.test(stdout), 'a figures line with 100 appended', 10000);
    child.kill('SIGTERM');
    const r = await done;
    assert.strictEqual(r.code, 0, r.stderr);
    const last = jsonLines(r.stdout).pop();
    assert.deepStrictEqual({ ...last, lagMs: 0, newestTimestamp: 0 }, {
      appended: 100, duplicates: 0, gaps: 0, gapsCovered: 0, discarded: 0, redisErrors: 0, queued: 0, newestTimestamp: 0, lagMs: 0,
    });
    const redis = await redisFor(redisServer.url);
    const entries = await readEntries(redis, 'cli:clicoll');
    await redis.close();
    assert.strictEqual(entries.length, 100);
    assert.deepStrictEqual([...new Set(entries.map((e) => e.op))].sort(), ['insert', 'update']);
  });

  it('bad values (--ops as watch checks it): exit 2 naming the option; Redis unreachable: exit 3 with the reason', async () => {
    const retention = await runCli(['relay', '--retention', 'a week'], { env: env() });
    assert.strictEqual(retention.code, 2);
    assert.match(retention.stderr, /--retention wants a duration/);
    const maxLen = await runCli(['relay', '--max-len', '0'], { env: env() });
    assert.strictEqual(maxLen.code, 2);
    assert.match(maxLen.stderr, /--max-len wants a positive integer/);
    const ops = await runCli(['relay', '--ops', 'insert,upsert'], { env: env() });
    assert.strictEqual(ops.code, 2, ops.stderr);
    assert.match(ops.stderr, /^nexaclient relay: --ops: unknown operation "upsert": expected one of insert, update, delete, dropCollection \(see nexaclient relay --help\)\n$/);
    const down = await runCli(['relay', '--redis', 'redis://127.0.0.1:1'], { env: env() });
    assert.strictEqual(down.code, 3, down.stderr);
    assert.match(down.stderr, /^nexaclient relay: .*ECONNREFUSED/m);
  });
});
