'use strict';
// A program in a child process, watched to its end: what the CLI tests and
// the inline scenarios (scenario.js) both run on.
const { spawn } = require('child_process');

/**
 * Runs a program; resolves when it has exited, or after `killAfter` ms
 * (then it is killed with SIGKILL and `killed` is true), with
 * {code, signal, stdout, stderr, killed, ms, child}. `input` is written to
 * its stdin (else stdin is closed, or, with `openStdin`, left open for the
 * caller's child.stdin); onStdout/onStderr see everything printed so far,
 * at each chunk.
 */
function runProcess(command, argv, { killAfter = 8000, onStdout, onStderr, env, cwd, input, openStdin = false } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const piped = input !== undefined || openStdin;
    const child = spawn(command, argv, { stdio: [piped ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: env || process.env, cwd });
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

module.exports = { runProcess };
