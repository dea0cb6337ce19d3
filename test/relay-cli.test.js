'use strict';
// `nexaclient relay` (lib/cli/relay.js), run() called directly with the
// context the CLI gives every subcommand.
const assert = require('assert');
const { parseArgs } = require('util');
const NexaClient = require('..');
const { startDevServer } = require('../lib/dev-server');
const relayCommand = require('../lib/cli/relay');
const { startRedis } = require('./helpers/redis-server');
const { writeChanges, redisFor, readEntries } = require('./helpers/relay-rig');
const { waitFor } = require('./fixtures/helpers');

class Sink {
  constructor() { this.text = ''; }
  write(s) { this.text += s; return true; }
}

describe('nexaclient relay (CLI subcommand)', function () {
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

  const ctxFor = (ac) => ({
    stdout: new Sink(),
    stderr: new Sink(),
    env: { REDIS_URL: redisServer.url },
    signal: ac.signal,
    connect: async () => {
      const c = new NexaClient({ host: server.host, port: server.port });
      await c.connect();
      return c;
    },
  });
  const parse = (args) => parseArgs({ args, options: relayCommand.options, allowPositionals: true, strict: true });

  it('has a summary, usage and parseArgs options', () => {
    assert.strictEqual(typeof relayCommand.summary, 'string');
    assert.match(relayCommand.usage, /--redis/);
    assert.deepStrictEqual({ ...parse(['--stream', 's', '--max-len', '5']).values }, { stream: 's', 'max-len': '5' });
  });

  it('relays until the signal, then drains, prints its figures and exits 0', async () => {
    const ac = new AbortController();
    const ctx = ctxFor(ac);
    const { values, positionals } = parse(['--stream', 'cli:{collection}', '--ops', 'insert,update', '--max-len', '1000', '--stats-every', '200ms']);
    const running = relayCommand.run(values, positionals, ctx);
    await waitFor(() => ctx.stdout.text.includes('relaying'), 'the relay started', 10000);
    assert.match(ctx.stdout.text, new RegExp(`relaying every collection to cli:\\{collection\\} on redis://127\\.0\\.0\\.1:${redisServer.port} as `));
    await writeChanges(client, 'clicoll', { docs: 50, updates: 1 });
    await client.delete('clicoll', (await client.query('clicoll', { k: 0 }))[0]._id); // not in --ops
    await waitFor(() => /appended 100,/.test(ctx.stdout.text), 'a stats line with 100 appended', 10000);
    ac.abort();
    assert.strictEqual(await running, 0);
    assert.match(ctx.stdout.text, /stopped: appended 100, duplicates skipped 0, gaps 0, discarded 0, redis errors 0, queued 0, lag \d+ ms\n$/);
    const redis = await redisFor(redisServer.url);
    const entries = await readEntries(redis, 'cli:clicoll');
    await redis.close();
    assert.strictEqual(entries.length, 100);
    assert.deepStrictEqual([...new Set(entries.map((e) => e.op))].sort(), ['insert', 'update']);
  });

  it('bad values: a TypeError naming the option; Redis unreachable: exit 1 with the reason', async () => {
    const ac = new AbortController();
    const ctx = ctxFor(ac);
    await assert.rejects(relayCommand.run(parse(['--retention', 'a week']).values, [], ctx), { name: 'TypeError', message: /--retention/ });
    await assert.rejects(relayCommand.run(parse(['--max-len', '0']).values, [], ctx), { name: 'TypeError', message: /--max-len/ });
    const code = await relayCommand.run(parse(['--redis', 'redis://127.0.0.1:1']).values, [], ctx);
    assert.strictEqual(code, 1);
    assert.match(ctx.stderr.text, /^nexaclient relay: .*ECONNREFUSED/m);
  });
});
