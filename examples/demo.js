'use strict';
/**
 * `npm run demo`: the same as `npx nexaclient demo` (lib/cli/demo.js).
 *
 * Starts an in-memory NexaDB dev server on a free port (nothing to install,
 * nothing persisted), runs the order-processing example against it, prints
 * the summary and stops the server.
 */
const { main } = require('../lib/cli');

main(['demo']).then((code) => { process.exitCode = code; });
