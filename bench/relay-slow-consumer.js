#!/usr/bin/env node
'use strict';
// Issue 14's comparison: a consumer handling 5 ms per change, watching NexaDB
// directly, holds a fast watcher back (the server waits on a subscriber whose
// socket is full); behind the relay it does not.
//
//   node bench/relay-slow-consumer.js [--events 20000] [--per-event-ms 5]
//
// The dev server runs with --blocking-delivery (the reference server's
// delivery, PROTOCOL.md point 5) in a process of its own, so does
// redis-server; the slow consumer and the relay each in a child process; the
// writer (batchWrite, 1,000 a request) and the fast watcher here. For each
// setup it prints how long the fast watcher took, from the first write to
// its last change, and where the slow consumer was then.
const path = require('path');
const net = require('net');
const { spawn, fork } = require('child_process');
const NexaClient = require('..');
const { closedPort } = require('../test/fixtures/helpers');
const { startRedis } = require('../test/helpers/redis-server');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function args() {
  const o = { events: 20000, 'per-event-ms': 5 };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) {
    const k = a[i].replace(/^--/, '');
    if (!(k in o)) throw new Error(`unknown option ${a[i]}`);
    o[k] = Number(a[i + 1]);
  }
  return o;
}

async function listening(port) {
  for (let i = 0; i < 400; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(25);
  }
  throw new Error(`nothing listens on ${port}`);
}

// --- child roles ----------------------------------------------------------------

async function role(name, o) {
  const perEvent = o.perEventMs;
  let handled = 0;
  process.on('message', (m) => { if (m === 'count') process.send({ handled }); });
  if (name === 'direct') {
    const client = new NexaClient({ port: o.nexaPort });
    const stream = client.watch(o.coll);
    await stream.ready;
    process.send({ ready: true });
    for await (const _ of stream) { await sleep(perEvent); handled++; } // eslint-disable-line no-unused-vars
  } else if (name === 'relay') {
    const { relay } = require('../lib/relay');
    const r = relay({ nexadb: { port: o.nexaPort }, redis: o.redis, stream: 'bench', collection: o.coll });
    await r.ready;
    process.on('message', (m) => { if (m === 'stats') process.send({ stats: r.stats() }); });
    process.send({ ready: true });
  } else if (name === 'relayed') {
    const { consume } = require('../lib/relay');
    const c = consume({ redis: o.redis, stream: 'bench', group: 'slow', from: '0' });
    process.send({ ready: true });
    for await (const _ of c) { await sleep(perEvent); handled++; } // eslint-disable-line no-unused-vars
  }
}

// --- the runs -------------------------------------------------------------------

function child(name, o) {
  const proc = fork(__filename, ['--role', name, JSON.stringify(o)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = new Promise((resolve, reject) => {
    proc.once('message', resolve);
    proc.once('exit', (code) => reject(new Error(`${name} exited ${code}`)));
  });
  const ask = (what, key) => new Promise((resolve) => {
    const on = (m) => { if (m[key] !== undefined) { proc.off('message', on); resolve(m[key]); } };
    proc.on('message', on);
    proc.send(what);
  });
  return { proc, ready, ask };
}

async function run(setup, o, ports) {
  const coll = `bench_${setup}`;
  const kids = [];
  if (setup === 'direct') kids.push(child('direct', { ...o, coll }));
  if (setup === 'relayed') kids.push(child('relay', { ...o, coll }), child('relayed', { ...o, coll }));
  await Promise.all(kids.map((k) => k.ready));
  const client = new NexaClient({ port: ports.nexa });
  const fast = client.watch(coll);
  await fast.ready;
  let got = 0;
  let doneAt = 0;
  const done = (async () => {
    for await (const _ of fast) { // eslint-disable-line no-unused-vars
      if (++got === o.events) { doneAt = Date.now(); break; }
    }
  })();
  const t0 = Date.now();
  for (let i = 0; i < o.events; i += 1000) {
    await client.batchWrite(coll, Array.from({ length: Math.min(1000, o.events - i) }, (_, j) => ({ k: i + j })));
  }
  await done;
  const fastMs = doneAt - t0;
  const line = { setup, fastMs };
  const slow = kids.length ? kids[kids.length - 1] : null; // the slow consumer is started last
  if (slow) line.slowHandledThen = await slow.ask('count', 'handled');
  if (setup === 'relayed') {
    const relayKid = kids[0];
    for (;;) {
      const s = await relayKid.ask('stats', 'stats');
      if (s.appended >= o.events) { line.relayAppendedAllMs = Date.now() - t0; break; }
      await sleep(20);
    }
  }
  for (const k of kids) k.proc.kill();
  await client.disconnect();
  return line;
}

async function main() {
  const o = args();
  const nexaPort = await closedPort();
  const server = spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'nexa-dev-server.js'), '--port', String(nexaPort), '--blocking-delivery'], { stdio: 'ignore' });
  let redis = null;
  try {
    redis = await startRedis();
    await listening(nexaPort);
    const common = { perEventMs: o['per-event-ms'], nexaPort, redis: redis.url };
    console.log(`${o.events} inserts (batchWrite, 1,000 a request); slow consumer ${o['per-event-ms']} ms per change; dev server --blocking-delivery`);
    console.log('| setup | fast watcher: all changes after (ms) | slow consumer had handled | relay appended all after (ms) |');
    console.log('|---|---:|---:|---:|');
    for (const setup of ['alone', 'direct', 'relayed']) {
      const r = await run(setup, { ...common, events: o.events }, { nexa: nexaPort });
      const label = { alone: 'fast watcher alone', direct: 'slow consumer watching NexaDB directly', relayed: 'slow consumer behind the relay (Redis group)' }[setup];
      console.log(`| ${label} | ${r.fastMs} | ${r.slowHandledThen ?? '-'} | ${r.relayAppendedAllMs ?? '-'} |`);
    }
  } finally {
    server.kill();
    if (redis) await redis.stop();
  }
}

if (process.argv[2] === '--role') {
  role(process.argv[3], JSON.parse(process.argv[4])).catch((err) => { console.error(err); process.exit(1); });
} else {
  main().catch((err) => { console.error(err); process.exit(1); });
}
