'use strict';
const { integer } = require('./connect');
const { expectArgs, operationsOption, PRETTY } = require('./input');
const { describeError } = require('./errors');
const { StatusLine } = require('./status');
const { streamName } = require('../diagnostics');

module.exports = {
  summary: 'print change events as they happen, one JSON object per line',
  usage: `usage: nexaclient watch [collection] [--ops insert,update,...] [--count N] [--gaps] [--pretty] [connection options]

Subscribes to the changes of a collection (every collection without one) and
prints each event on stdout as one line of JSON, exactly as the client
yields it (pipe it into jq). Integers beyond 2^53 are printed exactly.
  --ops LIST    operations to watch: insert, update, delete, dropCollection
                (default insert,update,delete)
  --count N     end after N events
  --gaps        also print a {"operationType":"gap",...} line where the
                stream lost events (a reconnect)
  --pretty      indented JSON, for people

Runs until --count events, Ctrl-C / SIGTERM, or stdout closing (| head -3):
each ends it cleanly with exit 0. Reconnects on its own; disconnects and
reconnects are reported on stderr. When stderr is a terminal, a status line
there shows events/s, the total, reconnects and the lag.`,
  options: {
    ops: { type: 'string' },
    count: { type: 'string', short: 'n' },
    gaps: { type: 'boolean' },
    ...PRETTY,
  },
  async run(values, positionals, ctx) {
    const { collection = null } = expectArgs(positionals, [], ['collection']);
    const operations = values.ops === undefined ? undefined : operationsOption(values.ops);
    const count = values.count === undefined ? Infinity : integer(values.count, '--count', 1, Number.MAX_SAFE_INTEGER);
    try {
      await watch(collection, operations, count, values, ctx);
    } catch (err) {
      if (!ctx.signal.aborted) throw err;
      // Stopped (Ctrl-C, SIGTERM, stdout closed) while connecting or subscribing: as clean an end as later.
    }
  },
};

/** Connects, subscribes and prints until --count, a stop or a failure. */
async function watch(collection, operations, count, values, ctx) {
  // A watch in a shell outlives any outage, as `tail -F` does.
  const client = await ctx.connect(values, { reconnectAttempts: Infinity });
  const options = { operations };
  if (values.gaps) options.gaps = true;
  const stream = client.watch(collection, options);
  const stop = () => { stream.close(); };
  if (ctx.signal.aborted) stop();
  ctx.signal.addEventListener('abort', stop, { once: true });

  const status = new StatusLine(ctx.stderr, stream);
  const say = (text) => status.log(`nexaclient watch: ${text}`);
  stream.on('disconnect', ({ error }) => say(`disconnected: ${describeError(error)}; reconnecting`));
  stream.on('reconnect', ({ attempts, downtimeMs }) => {
    say(`reconnected after ${attempts} attempt${attempts === 1 ? '' : 's'}, ${downtimeMs} ms without a subscription (its changes are not replayed)`);
  });
  try {
    const answer = await stream.ready;
    ctx.verbose(`watching ${streamName(collection)} (${answer.operations.join(', ')})`);
    status.start();
    const out = ctx.output;
    const pretty = values.pretty === true;
    let n = 0;
    for await (const ev of stream) {
      out.line(ev, pretty);
      if (++n >= count) break;
      // Written once the buffer is empty (or in 64 KiB chunks): and a slow
      // reader slows the stream, which makes the server wait (overflow 'pause').
      if (stream.buffered === 0) await out.drain();
    }
  } finally {
    status.stop();
    ctx.signal.removeEventListener('abort', stop);
  }
}
