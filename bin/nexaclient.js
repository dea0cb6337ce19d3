#!/usr/bin/env node
'use strict';
// The `nexaclient` command line (`npx nexaclient --help`). Subcommands live in
// lib/cli/; lib/cli/index.js describes how to add one.
const { main } = require('../lib/cli');

main(process.argv.slice(2)).then((code) => {
  // Every client is disconnected and stdout flushed by now; exit even if a
  // timer or handle was left behind by mistake, a CLI must not hang.
  process.exit(code);
}, (err) => {
  process.stderr.write(`nexaclient: ${err && err.message}\n`);
  process.exit(1);
});
