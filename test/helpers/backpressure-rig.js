'use strict';
// What the backpressure tests share: a watcher of a stream's buffer, a flood
// of events from a child process, a busy main thread, a bounded next(), and
// the check that every event arrived once, in order.
const assert = require('assert');
const path = require('path');
const { fork } = require('child_process');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const range = (n) => Array.from({ length: n }, (_, i) => i);
const docs = (n, extra = {}) => range(n).map((i) => ({ i, ...extra }));

/** How far past highWaterMark one 64 KiB socket read of small (~230-byte) events may take the buffer. */
const OVERSHOOT = 400;

/** Records the largest `stream.buffered` seen, at every turn of the event loop and whenever asked. */
function bufferWatcher(stream) {
  const w = { max: 0, timer: null };
  w.sample = () => {
    const b = stream.buffered;
    if (b > w.max) w.max = b;
  };
  const tick = () => {
    w.sample();
    w.timer = setImmediate(tick);
  };
  tick();
  w.stop = () => clearImmediate(w.timer);
  return w;
}

/**
 * bench/source.js in a child process: after SUBSCRIBE it writes `events`
 * small insert events as fast as its socket drains, independently of this
 * process's event loop. Resolves with `{port, stop()}`.
 */
function floodSource(events) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, '..', '..', 'bench', 'source.js'), ['--mode', 'flood', '--kind', 'small', '--events', String(events)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.once('error', reject);
    child.once('message', (m) => resolve({
      port: m.port,
      stop: () => new Promise((r) => {
        child.once('exit', r);
        child.kill();
      }),
    }));
  });
}

/** Keeps this thread busy for `ms`: a GC pause or a slow synchronous handler elsewhere in the process. */
function hiccup(ms) {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

/** The next event of `stream`; fails (instead of hanging) when none comes within `ms`. */
function nextWithin(stream, ms, what) {
  let timer;
  return Promise.race([
    stream.next(),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no event within ${ms} ms (buffered ${stream.buffered})`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Asserts `got` is exactly 0..n-1. */
function assertAll(got, n, what) {
  assert.strictEqual(got.length, n, `${what}: ${got.length} of ${n} events`);
  for (let k = 0; k < n; k++) {
    if (got[k] !== k) assert.fail(`${what}: event ${k} is i=${got[k]} (previous ${got[k - 1]})`);
  }
}

module.exports = { sleep, range, docs, OVERSHOOT, bufferWatcher, floodSource, hiccup, nextWithin, assertAll };
