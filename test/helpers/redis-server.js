'use strict';
// A redis-server of a test's own: on a free loopback port, no persistence
// unless `dir` is given (then an append-only file there, fsync'd always, so
// that a kill and a restart on the same port lose nothing). Stopped by pid.
const { spawn } = require('child_process');
const net = require('net');
const { closedPort } = require('../fixtures/helpers');

const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

class RedisServer {
  constructor(port, dir) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this._dir = dir;
    this.proc = null;
  }

  async start() {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--daemonize', 'no', '--loglevel', 'warning'];
    if (this._dir) args.push('--dir', this._dir, '--appendonly', 'yes', '--appendfsync', 'always');
    else args.push('--appendonly', 'no');
    const proc = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    let stderr = '';
    let spawnError = null;
    proc.once('error', (err) => { spawnError = err; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise((r) => proc.once('exit', r));
    const until = Date.now() + 10000;
    while (!(await canConnect(this.port))) {
      if (spawnError) throw new Error(`cannot run ${REDIS_SERVER} (${spawnError.code}): install redis-server (Debian: apt-get install redis-server)`);
      if (proc.exitCode !== null || Date.now() > until) throw new Error(`redis-server did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    this._exited = exited;
    return this;
  }

  /** SIGKILL (a crash), and wait for it to be gone. */
  async kill() {
    if (!this.proc || this.proc.exitCode !== null) return;
    process.kill(this.proc.pid, 'SIGKILL');
    await this._exited;
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    process.kill(this.proc.pid, 'SIGTERM');
    await this._exited;
  }
}

/** @returns {Promise<RedisServer>} started */
async function startRedis({ dir } = {}) {
  return new RedisServer(await closedPort(), dir).start();
}

module.exports = { startRedis, REDIS_SERVER };
