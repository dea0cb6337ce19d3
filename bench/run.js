'use strict';
// Issue 6's benchmark suite: nexaclient against two pure-JS baselines (node
// `net` + msgpackr, node `net` + msgpack-lite), each consumer in a child
// process of its own against a source process of its own, one at a time.
//
//   npm run bench                    full suite (~2-3 minutes)
//   node bench/run.js --quick        fewer events, shorter runs (~30-40 s)
//   options: --only throughput|latency|idle (comma-separated)
//            --events N   small events per flood run (large: 0.3 N)
//            --reps N     runs per throughput measurement (median reported)
//            --consumers nexaclient,msgpackr,msgpack-lite
//            --json FILE  also write every raw result
// Tables go to stdout (markdown), progress to stderr.
const { fork, execSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { smallEvent, largeEvent, monoMs } = require('./protocol');
const { walk } = require('./walk');

const CONSUMERS = ['nexaclient', 'msgpackr', 'msgpack-lite'];
const LABEL = { nexaclient: 'nexaclient', msgpackr: 'net + msgpackr', 'msgpack-lite': 'net + msgpack-lite' };

function parseArgs(argv) {
  const o = { quick: false, only: ['throughput', 'latency', 'idle'], events: null, reps: null, consumers: CONSUMERS, json: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--only') o.only = val().split(',');
    else if (a === '--events') o.events = Number(val());
    else if (a === '--reps') o.reps = Number(val());
    else if (a === '--consumers') o.consumers = val().split(',');
    else if (a === '--json') o.json = val();
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown option ${a}`);
  }
  for (const m of o.only) if (!['throughput', 'latency', 'idle'].includes(m)) usage(`--only: unknown run ${m}`);
  for (const c of o.consumers) if (!CONSUMERS.includes(c)) usage(`--consumers: unknown consumer ${c}`);
  if (o.events !== null && !(Number.isInteger(o.events) && o.events > 0)) usage('--events must be a positive integer');
  if (o.reps !== null && !(Number.isInteger(o.reps) && o.reps > 0)) usage('--reps must be a positive integer');
  return o;
}

function usage(err) {
  const text = 'usage: node bench/run.js [--quick] [--only throughput|latency|idle[,...]] [--events N] [--reps N]\n' +
    '                         [--consumers nexaclient,msgpackr,msgpack-lite] [--json FILE]';
  if (err) {
    console.error(`${err}\n${text}`);
    process.exit(2);
  }
  console.log(text);
  process.exit(0);
}

const opts = parseArgs(process.argv.slice(2));
const plan = opts.quick
  ? { small: 150000, reps: 1, rates: [10000, 50000, 200000], duration: 1.2, warmupMs: 300, idleSeconds: 2 }
  : { small: 1000000, reps: 3, rates: [10000, 50000, 200000], duration: 3, warmupMs: 500, idleSeconds: 5 };
if (opts.events) plan.small = opts.events;
if (opts.reps) plan.reps = opts.reps;
plan.large = Math.max(1, Math.round(plan.small * 0.3));
// Repeats stop once a measurement has taken this long (so the slow baseline
// is run once): the table says how many runs each median is of. --reps N forces N.
const CELL_BUDGET_S = opts.reps ? Infinity : 11;

let clkTck = 100;
try {
  clkTck = Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim()) || 100;
} catch {}

const log = (s) => process.stderr.write(`${s}\n`);

/** Starts a source process; resolves with it and its port. */
function startSource(args) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'source.js'), args, { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve({ child, port: m.port, info: m }));
    child.once('exit', (code) => reject(new Error(`source exited (${code}) before listening`)));
    child.once('error', reject);
  });
}

/** Runs one consumer to its result (or {error}). */
function runConsumer(cfg) {
  return new Promise((resolve) => {
    const child = fork(path.join(__dirname, 'consumer.js'), [JSON.stringify(cfg)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result = null;
    child.on('message', (m) => { result = m; });
    child.once('exit', (code, signal) => resolve(result || { error: `consumer exited (${signal || code}) without a result` }));
  });
}

async function measure(sourceArgs, cfg) {
  const src = await startSource(sourceArgs);
  try {
    return await runConsumer({ ...cfg, port: src.port, clkTck });
  } finally {
    if (src.child.connected) src.child.disconnect();
    await new Promise((r) => (src.child.exitCode !== null ? r() : src.child.once('exit', r)));
  }
}

const median = (xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// --- Runs ---------------------------------------------------------------------

const raw = { throughput: [], latency: [], idle: [] };

async function throughput() {
  const out = {};
  for (const kind of ['small', 'large']) {
    const n = plan[kind];
    for (const impl of opts.consumers) {
      const runs = [];
      for (let rep = 0; rep < plan.reps; rep++) {
        const r = await measure(['--mode', 'flood', '--kind', kind, '--events', String(n)],
          { impl, mode: 'flood', events: n, timeoutMs: 120000 });
        raw.throughput.push({ kind, impl, rep, ...r });
        if (r.error) {
          log(`  ${LABEL[impl]} ${kind}: ERROR ${r.error.split('\n')[0]}`);
          break;
        }
        log(`  ${LABEL[impl]} ${kind} #${rep + 1}: ${fmtInt(r.eventsPerSec)} events/s, main ${r.mainUsPerEvent.toFixed(2)} µs/event, ` +
          `process ${r.procUsPerEvent.toFixed(2)} µs/event, peak RSS ${r.maxRssMB.toFixed(0)} MB`);
        runs.push(r);
        const spent = runs.reduce((a, x) => a + x.seconds, 0);
        if (spent + r.seconds > CELL_BUDGET_S) break;
      }
      if (runs.length === 0) {
        out[`${kind}/${impl}`] = { error: true };
        continue;
      }
      out[`${kind}/${impl}`] = {
        runs: runs.length,
        events: n,
        eventsPerSec: median(runs.map((r) => r.eventsPerSec)),
        mainUsPerEvent: median(runs.map((r) => r.mainUsPerEvent)),
        procUsPerEvent: median(runs.map((r) => r.procUsPerEvent)),
        maxRssMB: median(runs.map((r) => r.maxRssMB)),
        leaves: runs[0].leavesPerEvent,
        strChars: runs[0].strCharsPerEvent,
      };
    }
  }
  return out;
}

async function latency() {
  const out = {};
  for (const rate of plan.rates) {
    for (const impl of opts.consumers) {
      const total = Math.round(rate * plan.duration);
      const epochOffsetMs = Date.now() - monoMs(); // one clock for source and consumer
      const r = await measure(['--mode', 'rate', '--kind', 'small', '--rate', String(rate), '--duration', String(plan.duration),
        '--epochOffsetMs', String(epochOffsetMs)],
      { impl, mode: 'rate', events: total, warmupMs: plan.warmupMs, epochOffsetMs, timeoutMs: 60000 });
      raw.latency.push({ rate, impl, ...r });
      out[`${rate}/${impl}`] = r;
      if (r.error) log(`  ${LABEL[impl]} at ${fmtInt(rate)}/s: ERROR ${r.error.split('\n')[0]}`);
      else log(`  ${LABEL[impl]} at ${fmtInt(rate)}/s: p50 ${fmtUs(r.p50)} p99 ${fmtUs(r.p99)} p99.9 ${fmtUs(r.p999)}`);
    }
  }
  return out;
}

async function idle() {
  const out = {};
  for (const impl of opts.consumers) {
    const r = await measure(['--mode', 'idle'], { impl, mode: 'idle', idleSeconds: plan.idleSeconds, timeoutMs: 60000 });
    raw.idle.push({ impl, ...r });
    out[impl] = r;
    if (r.error) log(`  ${LABEL[impl]} idle: ERROR ${r.error.split('\n')[0]}`);
    else log(`  ${LABEL[impl]} idle ${r.seconds.toFixed(1)} s: process ${r.procCpuMs.toFixed(1)} ms CPU, main thread ${r.mainCpuMs.toFixed(0)} ms`);
  }
  return out;
}

// --- Formatting -------------------------------------------------------------

function fmtInt(x) {
  return Math.round(x).toLocaleString('en-US');
}
function fmtUs(us) {
  return us >= 10000 ? `${(us / 1000).toFixed(0)} ms` : us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} µs`;
}
function fmtRatio(a, b) {
  return a > 0 && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
}
function row(cells) {
  return `| ${cells.join(' | ')} |`;
}

/** The official client's events/s, the high end of what issue 6 reports (it is not in the registry here). */
const OFFICIAL_EVENTS_PER_SEC = 120000;

/** The walk alone, on one decoded event, in this process: what every consumer pays on top of decoding. */
function walkCost(payload) {
  const { unpack } = require('msgpackr');
  const ev = unpack(payload);
  for (let i = 0; i < 20000; i++) walk(ev);
  const n = 300000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) walk(ev);
  return Number(process.hrtime.bigint() - t0) / 1e3 / n;
}

/** Share of all cores busy over `ms` (from /proc/stat): what other processes use while this one waits. */
async function busyShare(ms) {
  const read = () => {
    const f = fs.readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idleTicks = f[3] + (f[4] || 0);
    return { idle: idleTicks, total: f.reduce((a, b) => a + b, 0) };
  };
  try {
    const a = read();
    await new Promise((r) => setTimeout(r, ms));
    const b = read();
    return 1 - (b.idle - a.idle) / (b.total - a.total);
  } catch {
    return NaN;
  }
}

async function main() {
  const loadBefore = await busyShare(500);
  const started = Date.now();
  const small = smallEvent();
  const large = largeEvent();
  let walkUs = null; // measured once, after the runs
  const cmd = process.env.npm_lifecycle_event === 'bench' && process.argv.length === 2
    ? 'npm run bench'
    : `node bench/run.js${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
  const cpus = os.cpus();
  const lines = [];
  const say = (s = '') => lines.push(s);

  const results = {};
  for (const what of ['throughput', 'latency', 'idle']) {
    if (!opts.only.includes(what)) continue;
    log(`${what}:`);
    results[what] = await { throughput, latency, idle }[what]();
  }

  say(`## nexaclient benchmarks`);
  say();
  say(`- machine: ${cpus[0].model}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}; Node ${process.version}`);
  say(`- command: \`${cmd}\` (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  const loadAfter = await busyShare(500);
  const load = Math.max(loadBefore, loadAfter);
  say(`- other load: ${(loadBefore * 100).toFixed(0)} % of all cores busy just before the runs, ${(loadAfter * 100).toFixed(0)} % just after` +
    (load > 0.1 ? ` — **the machine is not quiet: figures are lower and latency tails longer than on an idle machine**` : ''));
  say(`- events: small = ${small.payload.length}-byte payload (${small.origin}); large = ${large.payload.length}-byte payload (${large.origin})`);
  say(`- every consumer is its own process, fed by a source process of its own, one pair at a time; each walks every field of every event`);
  say();

  const T = results.throughput;
  if (T) walkUs = { small: walkCost(small.payload), large: walkCost(large.payload) };
  if (T) {
    say(`### Throughput: flood into \`for await\` (${plan.reps === 1 ? "one run each" : `median of up to ${plan.reps} runs`}; ${CELL_BUDGET_S === Infinity ? '' : `no more once a cell has taken ${CELL_BUDGET_S} s`})`);
    say();
    say(row(['consumer', 'event', 'events', 'runs', 'events/s', 'main-thread CPU µs/event', 'process CPU µs/event', 'peak RSS MB', 'leaves / chars per event']));
    say(row(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
    for (const kind of ['small', 'large']) {
      for (const impl of opts.consumers) {
        const r = T[`${kind}/${impl}`];
        if (!r || r.error) {
          say(row([LABEL[impl], kind, fmtInt(plan[kind]), '-', 'error', '', '', '', '']));
          continue;
        }
        say(row([LABEL[impl], kind, fmtInt(r.events), r.runs, fmtInt(r.eventsPerSec), r.mainUsPerEvent.toFixed(2),
          r.procUsPerEvent.toFixed(2), r.maxRssMB.toFixed(0), `${r.leaves} / ${r.strChars}`]));
      }
    }
    say();
    say(`Main-thread CPU: utime+stime of /proc/self/task/<pid>/stat (${clkTck} ticks/s); process CPU: process.cpuUsage(), ` +
      `every thread. The walk alone costs ~${walkUs.small.toFixed(2)} µs (small) and ~${walkUs.large.toFixed(2)} µs (large) ` +
      `per event (one decoded event walked repeatedly, hot cache): it is in every consumer's main-thread figure.`);
    const consistent = ['small', 'large'].every((kind) => {
      const seen = opts.consumers.map((c) => T[`${kind}/${c}`]).filter((r) => r && !r.error).map((r) => `${r.leaves}/${r.strChars}`);
      return new Set(seen).size <= 1;
    });
    say(consistent ? 'Every consumer saw the same leaves and characters per event.' : '**The consumers disagree on leaves / characters per event: a decoder is wrong.**');
    say();
    if (opts.consumers.includes('nexaclient')) {
      say('### Ratios: nexaclient against the baselines');
      say();
      say(row(['event', 'baseline', 'throughput (nexaclient / baseline)', 'main-thread CPU per event (nexaclient / baseline)', 'process CPU per event (nexaclient / baseline)']));
      say(row(['---', '---', '---:', '---:', '---:']));
      for (const kind of ['small', 'large']) {
        const nx = T[`${kind}/nexaclient`];
        for (const base of opts.consumers.filter((c) => c !== 'nexaclient')) {
          const b = T[`${kind}/${base}`];
          if (!nx || nx.error || !b || b.error) continue;
          say(row([kind, LABEL[base], fmtRatio(nx.eventsPerSec, b.eventsPerSec), fmtRatio(nx.mainUsPerEvent, b.mainUsPerEvent),
            fmtRatio(nx.procUsPerEvent, b.procUsPerEvent)]));
        }
      }
      say();
    }
  }

  const L = results.latency;
  if (L) {
    say(`### Latency: small events at a fixed rate for ${plan.duration} s (now − send time, both read on the system's monotonic clock; first ${plan.warmupMs} ms dropped; one run each)`);
    say();
    say(row(['consumer', 'rate/s', 'received/s', 'p50', 'p99', 'p99.9', 'max', 'main-thread CPU µs/event', 'process CPU µs/event']));
    say(row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
    for (const rate of plan.rates) {
      for (const impl of opts.consumers) {
        const r = L[`${rate}/${impl}`];
        if (!r || r.error) {
          say(row([LABEL[impl], fmtInt(rate), 'error', '', '', '', '', '', '']));
          continue;
        }
        const behind = r.receivedPerSec < rate * 0.97 ? ' (fell behind)' : '';
        say(row([LABEL[impl], fmtInt(rate), fmtInt(r.receivedPerSec) + behind, fmtUs(r.p50), fmtUs(r.p99), fmtUs(r.p999), fmtUs(r.max),
          r.mainUsPerEvent.toFixed(2), r.procUsPerEvent.toFixed(2)]));
      }
    }
    say();
    say('The source writes every due event at once, stamped with that write\'s time, then sleeps until the next is due ' +
      '(at 200k/s that is a few events per write). "fell behind": the consumer received fewer events a second than were sent, so its latency is queueing.');
    say();
  }

  const I = results.idle;
  if (I) {
    say(`### Idle: subscribed, no events, ${plan.idleSeconds} s`);
    say();
    say(row(['consumer', 'process CPU ms', 'main-thread CPU ms', 'process CPU % of one core']));
    say(row(['---', '---:', '---:', '---:']));
    for (const impl of opts.consumers) {
      const r = I[impl];
      if (!r || r.error) {
        say(row([LABEL[impl], 'error', '', '']));
        continue;
      }
      say(row([LABEL[impl], r.procCpuMs.toFixed(1), r.mainCpuMs.toFixed(0), `${((r.procCpuMs / 10) / r.seconds).toFixed(3)} %`]));
    }
    say();
  }

  if (opts.consumers.includes('nexaclient')) {
    say('### Targets (nexaclient)');
    say();
    const pf = (ok) => (ok ? 'PASS' : 'FAIL');
    if (T) {
      for (const kind of ['small', 'large']) {
        const nx = T[`${kind}/nexaclient`];
        const b = T[`${kind}/msgpackr`];
        if (nx && !nx.error && b && !b.error) {
          say(`- ${pf(nx.eventsPerSec >= 2 * b.eventsPerSec)} throughput ≥ 2× net + msgpackr (${kind} events): ` +
            `${fmtInt(nx.eventsPerSec)} vs ${fmtInt(b.eventsPerSec)} events/s = ${fmtRatio(nx.eventsPerSec, b.eventsPerSec)}`);
        }
      }
      const nxS = T['small/nexaclient'];
      if (nxS && !nxS.error) {
        say(`- ${pf(nxS.mainUsPerEvent <= 0.5)} main-thread CPU ≤ 0.5 µs/event (small events, the recorded insert the issue sets it on; walk included): ` +
          `${nxS.mainUsPerEvent.toFixed(2)} µs/event`);
        // The official client itself is not in the registry here: issue 6 gives its figure, measured elsewhere.
        say(`- ${pf(nxS.eventsPerSec >= 8 * OFFICIAL_EVENTS_PER_SEC)} throughput ≥ 8× the official client (small events), ` +
          `taking its ${fmtInt(OFFICIAL_EVENTS_PER_SEC)} events/s as measured outside this repo (issue 6: ~100–120k): ` +
          `${fmtInt(nxS.eventsPerSec)} events/s = ${fmtRatio(nxS.eventsPerSec, OFFICIAL_EVENTS_PER_SEC)}`);
      }
      const nxL = T['large/nexaclient'];
      const bL = T['large/msgpackr'];
      if (nxL && !nxL.error) {
        say(`- (no target) main-thread CPU on large events: ${nxL.mainUsPerEvent.toFixed(2)} µs/event, of which the walk alone ~${walkUs.large.toFixed(2)}` +
          `${bL && !bL.error ? `; net + msgpackr ${bL.mainUsPerEvent.toFixed(2)}` : ''}`);
      }
    }
    if (L) {
      const r = L['50000/nexaclient'];
      if (r && !r.error) say(`- ${pf(r.p99 <= 1000)} p99 ≤ 1 ms at 50,000 events/s: ${fmtUs(r.p99)}`);
    }
    if (I) {
      const r = I.nexaclient;
      // "≈ 0": at most 0.1 % of one core, i.e. 1 ms of CPU a second.
      if (r && !r.error) say(`- ${pf(r.procCpuMs <= r.seconds * 1)} idle CPU ≈ 0 (≤ 0.1 % of a core): ${r.procCpuMs.toFixed(1)} ms over ${r.seconds.toFixed(1)} s`);
    }
    say();
  }

  process.stdout.write(`${lines.join('\n')}\n`);
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ plan, clkTck, cmd, machine: { cpu: cpus[0].model, cores: cpus.length, node: process.version }, results, raw }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
