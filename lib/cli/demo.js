'use strict';
const path = require('path');
const { expectArgs } = require('./input');

module.exports = {
  summary: 'run the order-processing demo against an embedded dev server',
  usage: `usage: nexaclient demo

Starts an in-memory NexaDB dev server on a free port (nothing to install,
nothing kept), runs the order-processing example against it (a watcher
printing the orders a writer places, ships and cancels, then a burst of
20,000 inserts), prints a summary and ends by itself.
The example's code: ${path.join('node_modules', 'nexaclient', 'examples', 'order-processing.js')}`,
  options: {},
  connects: false,
  async run(values, positionals, ctx) {
    expectArgs(positionals, []);
    const { startDevServer } = require('../dev-server');
    const { run } = require('../../examples/order-processing');
    const print = (line) => ctx.stdout.write(`${line}\n`);
    const server = await startDevServer({ port: 0 }); // port 0: any free port
    // Everything is in this process: Ctrl-C has nothing to save.
    const interrupted = () => {
      print('\ndemo interrupted');
      process.exit(ctx.EXIT.INTERRUPTED);
    };
    ctx.signal.addEventListener('abort', interrupted, { once: true });
    try {
      print('nexaclient demo: change streams on an order-processing workload');
      print(`embedded NexaDB dev server (in memory) listening on ${server.address}\n`);
      const summary = await run({ host: server.host, port: server.port, log: print });
      print('\nsummary:');
      print(`  change events seen by the watcher: ${summary.events.toLocaleString('en-US')}`);
      print(`  burst: ${summary.burst.count.toLocaleString('en-US')} inserts in ${summary.burst.seconds} s` +
        ` = ${summary.burst.perSecond.toLocaleString('en-US')} events/s`);
    } finally {
      ctx.signal.removeEventListener('abort', interrupted);
      await server.close();
    }
  },
};
