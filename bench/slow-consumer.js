#!/usr/bin/env node
'use strict';
// A slow consumer against a flood: does backpressure keep memory flat?
//
//   node bench/slow-consumer.js [--seconds 60] [--per-event-ms 10] [--kind small|large]
//                               [--limit-mb 64] [--high-water-mark 1000] [--json]
//
// bench/source.js runs in a child process of its own and pushes pre-encoded
// insert events as fast as its socket drains. This process watches it with
// nexaclient (default options: overflow 'pause') and handles one event every
// --per-event-ms (await setTimeout), for --seconds. RSS is sampled every
// second. It prints the largest RSS sample, the kernel's peak RSS, the events
// consumed, and PASS/FAIL against --limit-mb. Exit code 0 on PASS, 1 on FAIL.
const path = require('path');
const { fork } = require('child_process');

const NexaClient = require('..');

function parseArgs(argv) {
  const o = { seconds: 60, 'per-event-ms': 10, kind: 'small', 'limit-mb': 64, 'high-water-mark': 1000, json: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o)) throw new Error(`unknown option ${argv[i]} (options: ${Object.keys(o).map((x) => `--${x}`).join(' ')})`);
    if (k === 'json') o.json = true;
    else o[k] = k === 'kind' ? argv[++i] : Number(argv[++i]);
  }
  for (const k of ['seconds', 'per-event-ms', 'limit-mb', 'high-water-mark']) {
    if (!Number.isFinite(o[k]) || o[k] < 0) throw new Error(`--${k} must be a non-negative number`);
  }
  if (o.kind !== 'small' && o.kind !== 'large') throw new Error('--kind must be small or large');
  return o;
}

const MB = 1024 * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts bench/source.js flooding `kind` events (effectively endless); resolves with the child and its port. */
function startSource(kind) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'source.js'), ['--mode', 'flood', '--kind', kind, '--events', String(Number.MAX_SAFE_INTEGER)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`the source exited early (code ${code}, signal ${signal})`)));
    child.once('message', (m) => resolve({ child, port: m.port, payloadBytes: m.payloadBytes }));
  });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const log = (...a) => { if (!o.json) console.log(...a); };
  const { child, port, payloadBytes } = await startSource(o.kind);
  child.removeAllListeners('exit');

  const client = new NexaClient({ host: '127.0.0.1', port, highWaterMark: o['high-water-mark'] });
  const stream = client.watch('orders');
  await stream.ready;
  const disconnects = [];
  stream.on('disconnect', ({ error }) => disconnects.push(error.code));

  const samples = [];
  let consumed = 0;
  let maxBuffered = 0;
  const rss0 = process.memoryUsage().rss;
  const sample = () => {
    const rss = process.memoryUsage().rss;
    samples.push(rss);
    const second = samples.length;
    if (!o.json && (second <= 5 || second % 10 === 0)) {
      log(`  t=${String(second).padStart(3)} s  rss ${(rss / MB).toFixed(1)} MB  consumed ${consumed}  buffered ${stream.buffered}`);
    }
  };
  log(`slow consumer: one ${o.kind} event (${payloadBytes}-byte payload) every ${o['per-event-ms']} ms for ${o.seconds} s, ` +
    `highWaterMark ${o['high-water-mark']}, against a flood from bench/source.js (pid ${child.pid}); rss at start ${(rss0 / MB).toFixed(1)} MB`);
  const sampler = setInterval(sample, 1000);

  const t0 = Date.now();
  const until = t0 + o.seconds * 1000;
  let loopError = null;
  try {
    for await (const ev of stream) {
      if (ev.operationType !== 'insert') throw new Error(`unexpected event ${ev.operationType}`);
      consumed++;
      if (stream.buffered > maxBuffered) maxBuffered = stream.buffered;
      await sleep(o['per-event-ms']);
      if (Date.now() >= until) break;
    }
  } catch (err) {
    loopError = err;
  }
  const elapsed = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  sample();
  await client.disconnect();
  child.disconnect();
  child.kill();

  const maxRss = Math.max(...samples);
  const peakRss = process.resourceUsage().maxRSS * 1024; // kB; includes start-up
  const pass = loopError === null && maxRss < o['limit-mb'] * MB && consumed > 0;
  const result = {
    seconds: Number(elapsed.toFixed(1)),
    kind: o.kind,
    perEventMs: o['per-event-ms'],
    highWaterMark: o['high-water-mark'],
    eventsConsumed: consumed,
    eventsPerSecond: Number((consumed / elapsed).toFixed(1)),
    maxBuffered,
    rssStartMB: Number((rss0 / MB).toFixed(1)),
    maxRssMB: Number((maxRss / MB).toFixed(1)),
    lastRssMB: Number((samples[samples.length - 1] / MB).toFixed(1)),
    peakRssMB: Number((peakRss / MB).toFixed(1)),
    limitMB: o['limit-mb'],
    disconnects,
    error: loopError ? `${loopError.name}: ${loopError.message}` : null,
    result: pass ? 'PASS' : 'FAIL',
  };
  if (o.json) {
    console.log(JSON.stringify(result));
  } else {
    log(`events consumed: ${consumed} in ${result.seconds} s (${result.eventsPerSecond}/s), max buffered ${maxBuffered}`);
    log(`max RSS (1 s samples): ${result.maxRssMB} MB; last ${result.lastRssMB} MB; kernel peak ${result.peakRssMB} MB`);
    if (disconnects.length) log(`disconnects: ${disconnects.join(', ')}`);
    if (loopError) log(`the loop failed: ${result.error}`);
    log(`${result.result}: max RSS ${result.maxRssMB} MB ${maxRss < o['limit-mb'] * MB ? '<' : '>='} ${o['limit-mb']} MB`);
  }
  process.exitCode = pass ? 0 : 1;
}

main().catch((err) => {
  console.error('slow-consumer failed:', err);
  process.exitCode = 1;
});
