'use strict';
// `nexaclient relay`: runs a relay until SIGINT/SIGTERM (ctx.signal), then
// drains it. The NexaDB connection options are the CLI's own (ctx.connect).

const DURATION = /^(\d+)(ms|s|m|h|d)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 };

/** "90s", "7d", "250ms", "60000" (ms) -> milliseconds */
function durationMs(text, name) {
  const m = DURATION.exec(String(text).trim());
  if (!m) throw new TypeError(`--${name} wants a duration such as 7d, 12h, 30m, 90s or milliseconds, not ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2] || 'ms'];
}

function positiveInt(text, name) {
  if (!/^\d+$/.test(String(text)) || Number(text) < 1) throw new TypeError(`--${name} wants a positive integer, not ${JSON.stringify(text)}`);
  return Number(text);
}

/** The URL without its password, for messages. */
function shown(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch (_) {
    return '(redis)';
  }
}

const statsLine = (s) => `appended ${s.appended}, duplicates skipped ${s.duplicates}, gaps ${s.gaps}, discarded ${s.discarded}, ` +
  `redis errors ${s.redisErrors}, queued ${s.queued}, lag ${s.lagMs === null ? '-' : `${Math.round(s.lagMs)} ms`}`;

module.exports = {
  summary: 'relay changes into a Redis stream (consumer groups read it; see README "Beyond one process")',
  usage: `nexaclient relay [--redis URL] [--stream NAME] [--collection NAME] [--ops insert,update,delete]
                 [--max-len N | --retention 7d] [--reorder-window-ms 50] [--max-stall 10s]
                 [--relay-id ID] [--stats-every 10s]
  --redis          Redis URL (default: $REDIS_URL, else redis://127.0.0.1:6379)
  --stream         stream name; '{collection}' in it makes one stream per collection (default nexadb:changes)
  --collection     one collection (default: every collection)
  --ops            operations, comma-separated (default: insert,update,delete)
  --max-len        trim the stream to about N entries (MAXLEN ~)
  --retention      trim entries older than this (MINID ~): 7d, 12h, 30m, 90s or ms
  --max-stall      how long Redis may hold the relay up before it discards into a gap entry (default 10s)
  --stats-every    print the relay's figures this often (0: only at the end)`,
  options: {
    redis: { type: 'string' },
    stream: { type: 'string' },
    collection: { type: 'string' },
    ops: { type: 'string' },
    'max-len': { type: 'string' },
    retention: { type: 'string' },
    'reorder-window-ms': { type: 'string' },
    'max-stall': { type: 'string' },
    'relay-id': { type: 'string' },
    'stats-every': { type: 'string' },
  },

  /**
   * @param {object} values parsed options
   * @param {string[]} positionals
   * @param {{stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream, env: object,
   *   signal: AbortSignal, connect: (values: object) => Promise<object>}} ctx
   * @returns {Promise<number>} the exit code
   */
  async run(values, positionals, ctx) {
    if (positionals.length) throw new TypeError(`relay takes no arguments, got ${positionals.join(' ')}`);
    const { relay } = require('../relay'); // says "npm install redis" when it is missing
    const redis = values.redis || ctx.env.REDIS_URL || 'redis://127.0.0.1:6379';
    const opts = { redis, stream: values.stream, collection: values.collection, relayId: values['relay-id'] };
    if (values.ops) opts.operations = values.ops.split(',').map((s) => s.trim()).filter(Boolean);
    if (values['max-len'] !== undefined) opts.maxLen = positiveInt(values['max-len'], 'max-len');
    if (values.retention !== undefined) opts.retention = durationMs(values.retention, 'retention');
    if (values['reorder-window-ms'] !== undefined) opts.reorderWindowMs = durationMs(values['reorder-window-ms'], 'reorder-window-ms');
    if (values['max-stall'] !== undefined) opts.maxStallMs = durationMs(values['max-stall'], 'max-stall');
    const statsEvery = values['stats-every'] === undefined ? 10000 : durationMs(values['stats-every'], 'stats-every');

    const client = await ctx.connect(values);
    const r = relay({ nexadb: client, ...opts });
    let failure = null;
    r.on('error', (err) => { failure = err; });
    try {
      await r.ready;
    } catch (err) {
      await client.disconnect().catch(() => {});
      ctx.stderr.write(`nexaclient relay: ${err.message}\n`);
      return 1;
    }
    ctx.stdout.write(`relaying ${values.collection ? `'${values.collection}'` : 'every collection'} to ${r.stream} on ${shown(redis)} as ${r.id}\n`);
    const timer = statsEvery > 0 ? setInterval(() => ctx.stdout.write(`${statsLine(r.stats())}\n`), statsEvery) : null;
    await Promise.race([
      r.done,
      new Promise((resolve) => {
        if (ctx.signal.aborted) resolve();
        else ctx.signal.addEventListener('abort', resolve, { once: true });
      }),
    ]);
    if (timer) clearInterval(timer);
    await r.close();
    await client.disconnect().catch(() => {});
    ctx.stdout.write(`stopped: ${statsLine(r.stats())}\n`);
    if (failure) {
      ctx.stderr.write(`nexaclient relay: ${failure.message}\n`);
      return 1;
    }
    return 0;
  },
};
