#!/usr/bin/env node
'use strict';

// Starts an in-memory NexaDB dev server:
//   nexa-dev-server [--port 6970] [--host 127.0.0.1] [--user name:password ...] [--shuffle-events] [--blocking-delivery]
// Prints "NexaDB dev server listening on host:port" and runs until SIGINT/SIGTERM.

const path = require('path');
const { startDevServer } = require(path.join(__dirname, '..', 'lib', 'dev-server'));

const USAGE = 'usage: nexa-dev-server [--port 6970] [--host 127.0.0.1] [--user name:password ...] [--shuffle-events] [--blocking-delivery]';

function parseArgs(argv) {
  const opts = { port: 6970, host: '127.0.0.1', users: null };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const takeValue = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--port':
      case '-p': {
        const v = takeValue();
        const port = Number(v);
        if (!/^\d+$/.test(v) || port > 65535) throw new Error(`invalid port: ${v}`);
        opts.port = port;
        break;
      }
      case '--host':
      case '-h':
        opts.host = takeValue();
        break;
      case '--user':
      case '-u': {
        const v = takeValue();
        const colon = v.indexOf(':');
        if (colon <= 0) throw new Error(`--user wants name:password, got ${v}`);
        if (!opts.users) opts.users = {};
        opts.users[v.slice(0, colon)] = v.slice(colon + 1);
        break;
      }
      case '--shuffle-events':
        opts.shuffleEvents = true;
        break;
      case '--blocking-delivery': // a subscriber that stops reading stalls every subscriber, as on the reference server
        opts.blockingDelivery = true;
        break;
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument: ${arg}`);
    }
  }
  if (!opts.users) delete opts.users; // the server's default: root / nexadb123
  return opts;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`nexa-dev-server: ${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  const server = await startDevServer(opts);
  process.stdout.write(`NexaDB dev server listening on ${server.address}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  process.stderr.write(`nexa-dev-server: ${err.message}\n`);
  process.exit(1);
});
