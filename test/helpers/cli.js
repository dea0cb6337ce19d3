'use strict';
// Running the real `nexaclient` bin in child processes, as a user runs it.
const path = require('path');
const { spawn } = require('child_process');

const BIN = path.join(__dirname, '..', '..', 'bin', 'nexaclient.js');

/** The test's environment without any NEXADB_* variable, plus `extra`. */
function cliEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('NEXADB_')) env[k] = v;
  return { ...env, ...extra };
}

/**
 * Runs a program; resolves when it has exited, or after `killAfter` ms
 * (then it is killed with SIGKILL and `killed` is true), with
 * {code, signal, stdout, stderr, killed, ms, child}. `input` is written to
 * its stdin (else stdin is closed, or, with `openStdin`, left open for the
 * caller's child.stdin); onStdout/onStderr see everything printed so far,
 * at each chunk.
 */
function runProcess(command, argv, { killAfter = 8000, onStdout, onStderr, env, input, openStdin = false } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const piped = input !== undefined || openStdin;
    const child = spawn(command, argv, { stdio: [piped ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: env || process.env });
    if (input !== undefined) child.stdin.end(input);
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      stdout += d;
      if (onStdout) onStdout(stdout, child);
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      if (onStderr) onStderr(stderr, child);
    });
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, killAfter);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, killed, ms: Date.now() - t0, child });
    });
  });
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
