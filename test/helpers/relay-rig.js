'use strict';
// What the relay suites share: changes written in a known shape, the stream
// read back, child processes whose output lines are watched.
const path = require('path');
const { spawn } = require('child_process');
const { createClient } = require('redis');
const { waitFor } = require('../fixtures/helpers');

/**
 * Writes `docs` inserts ({k, v: 0}) then `updates` rounds of one update per
 * document ({v: round}): docs × (1 + updates) changes, each document's in
 * order. Resolves with the documents' ids, by k.
 */
async function writeChanges(client, coll, { docs, updates = 0, from = 0 }) {
  const ids = [];
  for (let i = 0; i < docs; i += 500) {
    const batch = [];
    for (let k = i; k < Math.min(docs, i + 500); k++) batch.push({ k: from + k, v: 0 });
    const r = await client.batchWrite(coll, batch);
    ids.push(...r.document_ids);
  }
  for (let v = 1; v <= updates; v++) {
    for (let i = 0; i < ids.length; i += 500) {
      await Promise.all(ids.slice(i, i + 500).map((id) => client.update(coll, id, { v })));
    }
  }
  return ids;
}

/** A node-redis client for looking at the stream from the test. */
async function redisFor(url) {
  const c = createClient({ url });
  c.on('error', () => {});
  await c.connect();
  return c;
}

/**
 * Every entry of `stream`, oldest first: its fields (op, coll, id, ts, event
 * parsed; since, until, reason, relay for gaps) and its stream id, streamId.
 */
async function readEntries(redis, stream) {
  const raw = await redis.sendCommand(['XRANGE', stream, '-', '+']);
  return raw.map(([streamId, flat]) => {
    const e = { streamId };
    for (let i = 0; i < flat.length; i += 2) e[flat[i]] = flat[i + 1];
    e.event = JSON.parse(e.event);
    return e;
  });
}

/** "k:v" of a change the writeChanges() way. */
const keyOf = (change) => `${change.fullDocument.k}:${change.fullDocument.v}`;

/** A fixture in a child process, its stdout kept as lines. */
class Child {
  constructor(fixture, arg) {
    this.lines = [];
    this.stderr = '';
    this.proc = spawn(process.execPath, [path.join(__dirname, '..', 'fixtures', fixture), JSON.stringify(arg)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let rest = '';
    this.proc.stdout.on('data', (d) => {
      const parts = (rest + d).split('\n');
      rest = parts.pop();
      this.lines.push(...parts);
    });
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((r) => this.proc.once('exit', (code, signal) => r({ code, signal })));
  }

  waitLine(pred, what, ms = 15000) {
    return waitFor(() => this.lines.find(pred), `${what} (stderr: ${this.stderr.slice(-500)})`, ms);
  }

  async kill(signal = 'SIGKILL') {
    if (this.proc.exitCode === null && this.proc.signalCode === null) process.kill(this.proc.pid, signal);
    return this.exited;
  }
}

/**
 * What a test opened, ended after it whether it passed or not (relays,
 * consumers, child processes, servers): `live.add(x)` returns x.
 */
class Live {
  constructor() { this.items = []; }
  add(x) { this.items.push(x); return x; }
  async endAll() {
    const items = this.items.reverse();
    this.items = [];
    for (const x of items) {
      const end = x.close ? x.close() : x.kill ? x.kill() : x.stop();
      await Promise.resolve(end).catch(() => {});
    }
  }
}

/**
 * A suite's rig: `live`, and relay(), consume() and Child() whose results it
 * ends after each test (the suite calls `afterEach(() => live.endAll())`).
 */
function relayRig() {
  const relayModule = require('../../lib/relay');
  const live = new Live();
  return {
    live,
    relay: (o) => live.add(relayModule.relay(o)),
    consume: (o) => live.add(relayModule.consume(o)),
    // A function, not an arrow: the suites write `new Child(...)`.
    Child: function LiveChild(fixture, arg) { return live.add(new Child(fixture, arg)); },
  };
}

/**
 * A dev server and a connected client (the tests' writer) for a suite:
 * started before its first test, ended after its last.
 * @returns {{server: object|null, client: object|null}} filled in by then
 */
function nexadbForSuite() {
  const NexaClient = require('../..');
  const { startDevServer } = require('../../lib/dev-server');
  const nexadb = { server: null, client: null };
  before(async () => {
    nexadb.server = await startDevServer({ port: 0 });
    nexadb.client = new NexaClient({ host: nexadb.server.host, port: nexadb.server.port });
    await nexadb.client.connect();
  });
  after(async () => {
    if (nexadb.client) await nexadb.client.disconnect();
    if (nexadb.server) await nexadb.server.close();
  });
  return nexadb;
}

/**
 * A sink in memory (any object with the Sink methods is one): `appended`
 * holds what it took, `kept` the relays' records; while `down`, appends
 * fail; each append takes `appendMs`.
 */
function memorySink({ appendMs = 0 } = {}) {
  const sink = {
    down: false,
    appended: [],
    kept: new Map(), // relay id -> its record
    async open() {},
    async append(entries) {
      if (appendMs > 0) await new Promise((r) => setTimeout(r, appendMs));
      if (sink.down) throw new Error('sink down');
      sink.appended.push(...entries);
      return { appended: entries.length, duplicates: 0 };
    },
    async putRecord(id, rec) { sink.kept.set(id, rec); },
    async records() { return new Map(sink.kept); },
    async removeRecords(ids) { for (const id of ids) sink.kept.delete(id); },
    async close() {},
  };
  return sink;
}

module.exports = { writeChanges, redisFor, readEntries, keyOf, Child, Live, relayRig, nexadbForSuite, memorySink };
