'use strict';
// Running the real `nexaclient` bin in child processes, as a user runs it.
const path = require('path');
const { runProcess } = require('./process');

const BIN = path.join(__dirname, '..', '..', 'bin', 'nexaclient.js');

/** The test's environment without any NEXADB_* variable, plus `extra`. */
function cliEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('NEXADB_')) env[k] = v;
  return { ...env, ...extra };
}

/** `nexaclient ...args` in a child process; opts.env is added to a clean environment (no NEXADB_*). */
function runCli(args, opts = {}) {
  return runProcess(process.execPath, [BIN, ...args], { ...opts, env: cliEnv(opts.env) });
}

/** The bin as a shell command (for runShell's command lines). */
const CLI = `'${process.execPath}' '${BIN}'`;

/** A bash command line (`set -o pipefail` on), in the environment runCli gives. */
function runShell(command, opts = {}) {
  return runProcess('bash', ['-c', `set -o pipefail; ${command}`], { ...opts, env: cliEnv(opts.env) });
}

/** The lines of a command's stdout, each parsed as JSON. */
function jsonLines(stdout) {
  return stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

module.exports = { BIN, CLI, cliEnv, runCli, runShell, jsonLines };
