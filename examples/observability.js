'use strict';
/**
 * What a running nexaclient tells you: request traces through
 * node:diagnostics_channel, client events, and stats.
 *
 *   node examples/observability.js          (starts an embedded dev server)
 *   NODE_DEBUG=nexaclient node examples/observability.js   (and the debug log)
 */
const dc = require('node:diagnostics_channel');
const NexaClient = require('..'); // in your project: require('nexaclient')
const { startDevServer } = require('../lib/dev-server'); // require('nexaclient/dev-server')

// Any tracer hooks in here; this one prints each request with its duration.
const started = new WeakMap();
dc.tracingChannel('nexaclient:request').subscribe({
  start(ctx) { started.set(ctx, process.hrtime.bigint()); },
  asyncEnd(ctx) {
    const ms = Number(process.hrtime.bigint() - started.get(ctx)) / 1e6;
    console.log(`trace: #${ctx.requestId} ${ctx.operation}${ctx.collection ? ` ${ctx.collection}` : ''} @ ${ctx.address} ${ctx.error ? ctx.error.code : 'ok'} ${ms.toFixed(2)} ms`);
  },
  end() {}, asyncStart() {}, error() {},
});
dc.subscribe('nexaclient:stream:reconnect', ({ collection, attempts, downtimeMs }) => {
  console.log(`channel: stream on ${collection} re-subscribed after ${attempts} attempts, ${downtimeMs} ms`);
});

async function main() {
  let server = await startDevServer({ port: 0 });
  const { port } = server;
  const client = new NexaClient({ host: '127.0.0.1', port, reconnectDelayMs: 50 });
  client.on('connect', () => console.log(`event: connect (status ${client.status})`));
  client.on('disconnect', ({ error }) => console.log(`event: disconnect ${error ? error.code : '(asked for)'} (status ${client.status})`));
  client.on('reconnect', ({ attempts, downtimeMs }) => console.log(`event: reconnect after ${attempts} attempts, ${downtimeMs} ms (status ${client.status})`));
  client.on('error', (err) => console.log(`event: error ${err.code}`));

  await client.connect();
  const stream = client.watch('orders');
  await stream.ready;
  await client.batchWrite('orders', Array.from({ length: 1000 }, (_, i) => ({ n: i, status: 'pending' })));
  await client.update('orders', 'no-such-order', { status: 'shipped' }).catch(() => {});
  let seen = 0;
  for await (const change of stream) { // eslint-disable-line no-unused-vars
    if (++seen === 1000) break;
  }
  console.log('stream.stats():', stream.stats());

  // The server restarts: the client and its streams reconnect on their own.
  const again = client.watch('orders');
  await again.ready;
  await server.close();
  await new Promise((r) => setTimeout(r, 200));
  server = await startDevServer({ port });
  await new Promise((r) => again.once('reconnect', r));
  await client.ping();
  console.log('client.stats():', JSON.stringify(client.stats(), null, 2));
  await client.disconnect();
  await server.close();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
