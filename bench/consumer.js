'use strict';
// One benchmark consumer, run in a child process of its own by bench/run.js:
//   node bench/consumer.js '<json config>'
// config: { impl: 'nexaclient'|'msgpackr'|'msgpack-lite', mode: 'flood'|'rate'|'idle',
//           port, events (flood: how many; rate: how many the source sends),
//           warmupMs, epochOffsetMs (rate), idleSeconds (idle), clkTck }
// Every consumer reads the stream through `for await` and walks every field
// of every event. It sends one result object to its parent (or prints it).
const fs = require('fs');
const net = require('net');
const { MSG, frame, frameListener, monoMs, epochClock } = require('./protocol');

const cfg = JSON.parse(process.argv[2]);
const CLK_TCK = cfg.clkTck || 100;

const { walk, totals } = require('./walk');

// --- CPU -----------------------------------------------------------------------
const MAIN_STAT = `/proc/self/task/${process.pid}/stat`; // the main thread's tid is the pid
/** Main-thread utime+stime in microseconds (clock-tick resolution). */
function mainThreadCpuUs() {
  const s = fs.readFileSync(MAIN_STAT, 'latin1');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
}
function snap() {
  const c = process.cpuUsage();
  return { t: monoMs(), main: mainThreadCpuUs(), proc: c.user + c.system };
}

// --- A minimal async iterator over a JS array of ready events ------------------
class EventQueue {
  constructor(onReturn) {
    this.buf = [];
    this.head = 0;
    this.waiters = [];
    this.done = false;
    this.error = null;
    this.onReturn = onReturn;
  }

  push(ev) {
    if (this.waiters.length) this.waiters.shift().resolve({ value: ev, done: false });
    else this.buf.push(ev);
  }

  end(err) {
    if (this.done) return;
    this.done = true;
    this.error = err || null;
    for (const w of this.waiters.splice(0)) {
      if (this.error) w.reject(this.error);
      else w.resolve({ value: undefined, done: true });
    }
  }

  next() {
    if (this.head < this.buf.length) {
      const value = this.buf[this.head];
      this.buf[this.head++] = undefined;
      if (this.head === this.buf.length) {
        this.buf = [];
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return this.error ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  return() {
    this.onReturn();
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

/** node `net` + a MessagePack decoder: CONNECT, SUBSCRIBE, then every CHANGE_EVENT decoded into the queue. */
function openPlain(port, decode, encode) {
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  const stream = new EventQueue(() => sock.destroy());
  let step = 0;
  let settle;
  const ready = new Promise((resolve, reject) => { settle = { resolve, reject }; });
  const onData = frameListener((type, payload) => {
    if (type === MSG.CHANGE_EVENT) {
      stream.push(decode(payload));
      return;
    }
    const answer = decode(payload);
    if (type !== MSG.SUCCESS) {
      settle.reject(new Error(`server answered 0x${type.toString(16)}: ${JSON.stringify(answer)}`));
    } else if (step === 0) {
      step = 1;
      sock.write(frame(MSG.SUBSCRIBE_CHANGES, encode({ collection: 'orders', operations: ['insert', 'update', 'delete'] })));
    } else if (step === 1) {
      step = 2;
      settle.resolve(answer);
    }
  });
  sock.on('connect', () => sock.write(frame(MSG.CONNECT, encode({ username: 'root', password: 'nexadb123' }))));
  sock.on('data', (d) => onData(d));
  sock.on('error', (err) => {
    settle.reject(err);
    stream.end(err);
  });
  sock.on('close', () => stream.end());
  const close = () => new Promise((resolve) => {
    if (sock.destroyed) return resolve();
    sock.once('close', resolve);
    sock.end(frame(MSG.DISCONNECT, encode({})));
  });
  return { stream, ready, close };
}

function open(impl, port) {
  if (impl === 'nexaclient') {
    const NexaClient = require('..');
    const client = new NexaClient({ host: '127.0.0.1', port });
    const stream = client.watch('orders');
    return { stream, ready: stream.ready, close: () => client.disconnect() };
  }
  if (impl === 'msgpackr') {
    const { unpack, pack } = require('msgpackr');
    return openPlain(port, unpack, pack);
  }
  if (impl === 'msgpack-lite') {
    const lite = require('msgpack-lite');
    return openPlain(port, lite.decode, lite.encode);
  }
  throw new Error(`unknown consumer ${impl}`);
}

// --- The measurements ---------------------------------------------------------

async function flood(stream, n) {
  let count = 0;
  let end = null;
  const start = snap();
  for await (const ev of stream) {
    walk(ev);
    if (++count === n) {
      end = snap();
      break;
    }
  }
  if (!end) throw new Error(`stream ended after ${count} of ${n} events`);
  return {
    events: count,
    seconds: (end.t - start.t) / 1000,
    eventsPerSec: count / ((end.t - start.t) / 1000),
    mainUsPerEvent: (end.main - start.main) / count,
    procUsPerEvent: (end.proc - start.proc) / count,
  };
}

async function atRate(stream, total, warmupMs, epochOffsetMs) {
  const clock = epochClock(epochOffsetMs); // the source's clock, exactly
  const lat = new Float64Array(total);
  let recorded = 0;
  let count = 0;
  let skipBefore = -1; // events sent before this (ms) are warm-up
  let start = null;
  let end = null;
  for await (const ev of stream) {
    const now = clock();
    const sentMs = ev.timestamp * 1000;
    walk(ev);
    if (skipBefore < 0) skipBefore = sentMs + warmupMs;
    if (sentMs >= skipBefore) {
      if (start === null) start = snap();
      lat[recorded++] = (now - sentMs) * 1000; // µs
    }
    if (++count === total) {
      end = snap();
      break;
    }
  }
  if (!end) throw new Error(`stream ended after ${count} of ${total} events`);
  const l = lat.subarray(0, recorded).sort();
  const q = (p) => l[Math.min(recorded - 1, Math.floor(p * recorded))];
  return {
    events: count,
    recorded,
    p50: q(0.5), p99: q(0.99), p999: q(0.999), max: l[recorded - 1],
    receivedPerSec: recorded / ((end.t - start.t) / 1000),
    mainUsPerEvent: (end.main - start.main) / recorded,
    procUsPerEvent: (end.proc - start.proc) / recorded,
  };
}

async function idle(seconds) {
  const start = snap();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const end = snap();
  return { seconds: (end.t - start.t) / 1000, mainCpuMs: (end.main - start.main) / 1000, procCpuMs: (end.proc - start.proc) / 1000 };
}

async function main() {
  const { stream, ready, close } = open(cfg.impl, cfg.port);
  await ready;
  let r;
  if (cfg.mode === 'flood') r = await flood(stream, cfg.events);
  else if (cfg.mode === 'rate') r = await atRate(stream, cfg.events, cfg.warmupMs || 0, cfg.epochOffsetMs);
  else if (cfg.mode === 'idle') r = await idle(cfg.idleSeconds || 5);
  else throw new Error(`unknown mode ${cfg.mode}`);
  const events = r.events || 0;
  r.leavesPerEvent = events ? totals.leaves / events : 0;
  r.strCharsPerEvent = events ? totals.strChars / events : 0;
  r.maxRssMB = process.resourceUsage().maxRSS / 1024;
  await Promise.race([close(), new Promise((res) => setTimeout(res, 2000).unref())]);
  return r;
}

const watchdog = setTimeout(() => fail(new Error('consumer timed out')), cfg.timeoutMs || 120000);
watchdog.unref();

function fail(err) {
  if (process.send) process.send({ error: String(err && err.stack || err) }, () => process.exit(1));
  else {
    console.error(err);
    process.exit(1);
  }
}

main().then((r) => {
  if (process.send) process.send(r, () => process.exit(0));
  else {
    console.log(JSON.stringify(r));
    process.exit(0);
  }
}, fail);
