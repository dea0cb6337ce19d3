'use strict';
// `nexaclient relay`: runs a relay (lib/relay) until Ctrl-C or SIGTERM, then
// drains it. Its figures go to stdout as JSON lines, messages to stderr.
const { UsageError } = require('./errors');
const { operationsOption } = require('./input');
const { NexaConnectionError } = require('../errors');
const { streamName } = require('../diagnostics');

const DURATION = /^(\d+)(ms|s|m|h|d)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 };

/** "90s", "7d", "250ms", "60000" (ms) -> milliseconds */
function durationMs(text, name) {
  const m = DURATION.exec(String(text).trim());
  if (!m) throw new UsageError(`--${name} wants a duration such as 7d, 12h, 30m, 90s or milliseconds, not ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2] || 'ms'];
}

function positiveInt(text, name) {
  if (!/^\d+$/.test(String(text)) || Number(text) < 1) throw new UsageError(`--${name} wants a positive integer, not ${JSON.stringify(text)}`);
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

module.exports = {
  summary: 'relay changes into a Redis stream that consumer groups read (needs the redis package)',
  usage: `usage: nexaclient relay [--redis URL] [--stream NAME] [--collection NAME] [--ops LIST]
                        [--max-len N | --retention 7d] [--max-stall 10s] [--stats-every 10s]
                        [--reorder-window-ms 50] [--relay-id ID] [connection options]

Watches NexaDB and appends every change to a Redis stream, once (run two for
availability), in order, every hole a gap entry (README, "Beyond one process").
  --redis URL        Redis (default: $REDIS_URL, else redis://127.0.0.1:6379)
  --stream NAME      the stream; '{collection}' in it makes one per collection
                     (default nexadb:changes)
  --collection NAME  one collection (default: every collection)
  --ops LIST         insert,update,delete,dropCollection (default insert,update,delete)
  --max-len N        trim the stream to about N entries (MAXLEN ~)
  --retention AGE    trim entries older than AGE (MINID ~): 7d, 12h, 30m, 90s or ms
  --max-stall AGE    how long Redis may hold the relay up before it discards
                     into a gap entry (default 10s)
  --stats-every AGE  print the relay's figures as a JSON line this often
                     (default 10s; 0: only at the end)

Runs until Ctrl-C or SIGTERM: then it appends what it holds and prints its
last figures (exit 0).`,
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

  async run(values, positionals, ctx) {
    if (positionals.length) throw new UsageError(`relay takes no arguments, got ${positionals.join(' ')}`);
    const redis = values.redis || ctx.env.REDIS_URL || 'redis://127.0.0.1:6379';
    const opts = { redis, stream: values.stream, collection: values.collection, relayId: values['relay-id'] };
    if (values.ops !== undefined) opts.operations = operationsOption(values.ops);
    if (values['max-len'] !== undefined) opts.maxLen = positiveInt(values['max-len'], 'max-len');
    if (values.retention !== undefined) opts.retention = durationMs(values.retention, 'retention');
    if (values['reorder-window-ms'] !== undefined) opts.reorderWindowMs = durationMs(values['reorder-window-ms'], 'reorder-window-ms');
    if (values['max-stall'] !== undefined) opts.maxStallMs = durationMs(values['max-stall'], 'max-stall');
    const statsEvery = values['stats-every'] === undefined ? 10000 : durationMs(values['stats-every'], 'stats-every');
    const { relay } = require('../relay'); // says "npm install redis" when it is missing

    // A relay outlives any NexaDB outage, as watch does.
    const client = await ctx.connect(values, { reconnectAttempts: Infinity });
    let r;
    try {
      r = relay({ nexadb: client, ...opts });
    } catch (err) {
      throw err instanceof TypeError ? new UsageError(err.message) : err;
    }
    let failure = null;
    r.on('error', (err) => { failure = err; });
    try {
      await r.ready;
    } catch (err) {
      // Redis refused or unreachable: a connection failure (exit 3), saying it was Redis.
      if (err && err.syscall === 'connect') throw new NexaConnectionError(`Redis at ${shown(redis)}: ${err.message}`, err.code, { address: shown(redis) });
      throw err;
    }
    ctx.log(`relaying ${streamName(values.collection || null)} to ${r.stream} on ${shown(redis)} as ${r.id}`);
    const figures = () => {
      ctx.output.line(r.stats());
      ctx.output.drain();
    };
    const timer = statsEvery > 0 ? setInterval(figures, statsEvery) : null;
    await Promise.race([
      r.done,
      new Promise((resolve) => {
        if (ctx.signal.aborted) resolve();
        else ctx.signal.addEventListener('abort', resolve, { once: true });
      }),
    ]);
    if (timer) clearInterval(timer);
    await r.close();
    figures();
    if (failure) throw failure;
    return ctx.EXIT.OK;
  },
};
