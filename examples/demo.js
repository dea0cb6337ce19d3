'use strict';
/**
 * `npm run demo`: what nexaclient does, in a few seconds.
 *
 * Starts an in-memory NexaDB dev server on a free port (nothing to install,
 * nothing persisted), runs the order-processing example against it, prints
 * the summary and stops the server. The process then exits by itself.
 */

const { startDevServer } = require('../lib/dev-server'); // in your project: require('nexaclient/dev-server')
const { run } = require('./order-processing');

async function main() {
  const server = await startDevServer({ port: 0 }); // port 0: any free port
  try {
    console.log('nexaclient demo: change streams on an order-processing workload');
    console.log(`embedded NexaDB dev server (in memory) listening on ${server.address}\n`);

    const summary = await run({ host: server.host, port: server.port });

    console.log('\nsummary:');
    console.log(`  change events seen by the watcher: ${summary.events.toLocaleString('en-US')}`);
    console.log(`  burst: ${summary.burst.count.toLocaleString('en-US')} inserts in ${summary.burst.seconds} s` +
      ` = ${summary.burst.perSecond.toLocaleString('en-US')} events/s`);
  } finally {
    await server.close();
  }
}

// No process.exit() on success: once the clients and the server are closed,
// nothing is left to keep Node running and it exits on its own.
main().catch((err) => {
  console.error(`demo failed: ${err && err.stack ? err.stack : err}`);
  process.exitCode = 1;
});
