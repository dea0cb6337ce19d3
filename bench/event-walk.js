'use strict';
// Measures the walk of ONE small change event through the project's own
// functions, from the worker thread's socket read to the consumer's `next()`
// resolving, then the acknowledgement that follows its consumption.
// Scenario: `for await` over client.watch('orders') with default options, the
// consumer already waiting in next(), the event alone in its batch; by default
// after one earlier event of the same shape (steady state; --first: the first).
//
// How: the addon is rebuilt into build/walk/ at -O0 -fno-inline with
// -finstrument-functions (bench/walk-trace.c prints every C/C++ entry); the
// measuring process runs under node's --trace (every JS entry) on the same
// stdout, so one thread's lines keep their order. Precise coverage (call
// counts) says which lib/ file each JS name belongs to. The dev server and the
// writer run in a child process of their own: none of their functions count.
//
//   node bench/event-walk.js [--first] [--sequence] [--no-build]
// (see bench/README.md)

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, execSync, spawnSync, fork } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const WALK_DIR = path.join(ROOT, 'build', 'walk');
const ADDON = path.join(WALK_DIR, 'nexaclient.node');
const MARK = { begin: 'walkMarkBegin', ack: 'walkMarkAck', end: 'walkMarkEnd' };

// --- the instrumented addon -------------------------------------------------------

/** binding.gyp's `<!(cmd)` / `<!@(cmd)` expansions, run in the project root. */
function expand(list) {
  const out = [];
  for (const item of list || []) {
    const m = /^<!(@?)\((.*)\)$/.exec(item);
    if (!m) out.push(item);
    else {
      const text = execSync(m[2], { cwd: ROOT, encoding: 'utf8' }).trim();
      if (m[1]) out.push(...text.split(/\s+/).filter(Boolean));
      else out.push(text);
    }
  }
  return out;
}

function buildAddon() {
  const target = JSON.parse(fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8')).targets[0];
  const includes = expand(target.include_dirs).map((d) => `-I${path.resolve(ROOT, d)}`);
  const common = ['-c', '-fPIC', '-pthread', '-gdwarf-4', '-O0', '-fno-inline', '-w',
    '-finstrument-functions', '-finstrument-functions-exclude-file-list=node-addon-api,/usr/include',
    `-I${path.join(process.execPath, '..', '..', 'include', 'node')}`, '-I/usr/include/node', ...includes,
    ...(target.defines || []).map((d) => `-D${d}`),
    ...expand(target.cflags).filter((f) => !f.startsWith('-W'))];
  fs.rmSync(WALK_DIR, { recursive: true, force: true });
  fs.mkdirSync(WALK_DIR, { recursive: true });
  const objects = target.sources.map((src) => {
    const obj = path.join(WALK_DIR, src.replace(/[/.]/g, '_') + '.o');
    const cxx = /\.cc$/.test(src);
    const flags = cxx ? [...target.cflags_cc, '-fno-rtti'] : target.cflags_c; // -fno-rtti: node-gyp's default
    execFileSync(cxx ? 'g++' : 'gcc', [...common, ...flags, path.join(ROOT, src), '-o', obj], { stdio: 'inherit' });
    return obj;
  });
  const tracer = path.join(WALK_DIR, 'walk-trace.o');
  execFileSync('gcc', ['-c', '-fPIC', '-O2', '-std=c11', path.join(__dirname, 'walk-trace.c'), '-o', tracer], { stdio: 'inherit' });
  execFileSync('g++', ['-shared', '-pthread', '-o', ADDON, ...objects, tracer, ...expand(target.libraries), '-ldl'], { stdio: 'inherit' });
}

// --- the server child: dev server plus a writer client ----------------------------

async function serve() {
  const { startDevServer } = require(path.join(ROOT, 'lib', 'dev-server'));
  const NexaClient = require(path.join(ROOT, 'lib'));
  const server = await startDevServer({ port: 0 });
  const writer = new NexaClient({ host: '127.0.0.1', port: server.port });
  let n = 0;
  process.on('message', () => {
    writer.create('orders', { customer: 'ada', item: 'widget', qty: ++n }).catch((err) => console.error(err));
  });
  process.on('disconnect', () => process.exit(0));
  process.send(server.port);
}

// --- the measuring process (runs under --trace) -----------------------------------

function walkMarkBegin() {}
function walkMarkAck() {}
function walkMarkEnd() {}

async function measure(first) {
  const dlopen = process.dlopen;
  process.dlopen = (module, filename, ...rest) =>
    dlopen(module, path.basename(filename) === 'nexaclient.node' ? ADDON : filename, ...rest);
  const inspector = require('inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) => {
    let result;
    session.post(method, params, (err, r) => {
      if (err) throw err;
      result = r;
    });
    return result;
  };
  post('Profiler.enable');
  post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  // lib/ files' functions entered since the last call; '' for code made by `new Function` (the shape builders).
  const entered = () => post('Profiler.takePreciseCoverage').result
    .filter((s) => s.url.startsWith('file://') || s.url === '')
    .map((s) => ({
      file: s.url && path.relative(ROOT, new URL(s.url).pathname),
      // a script's own top level (unnamed, at 0) is not a function of the walk
      functions: s.functions.filter((f) => f.ranges[0].count > 0 && (f.functionName !== '' || f.ranges[0].startOffset > 0))
        .map((f) => ({ name: f.functionName, start: f.ranges[0].startOffset, end: f.ranges[0].endOffset, count: f.ranges[0].count })),
    }))
    .filter((s) => (s.file === '' || (s.file.startsWith('lib' + path.sep) && !s.file.startsWith(path.join('lib', 'dev-server')))) && s.functions.length);

  const NexaClient = require(path.join(ROOT, 'lib'));
  const server = fork(__filename, ['--serve'], { execArgv: [] });
  const port = await new Promise((resolve) => server.once('message', resolve));
  const client = new NexaClient({ host: '127.0.0.1', port });
  const stream = client.watch('orders');
  await stream.ready;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  // Fires once the loop waits in next() again and the previous event's acknowledgement is done.
  const arm = () => setTimeout(() => {
    entered();
    walkMarkBegin();
    server.send('insert');
  }, 200);
  let warmups = first ? 0 : 1;
  if (warmups === 0) arm();
  else server.send('insert');
  const result = {};
  for await (const ev of stream) { // eslint-disable-line no-unused-vars
    if (warmups-- > 0) {
      arm();
      continue;
    }
    result.walk = entered();
    walkMarkAck();
    await new Promise((resolve) => setImmediate(resolve)); // after the acknowledgement's own setImmediate
    await sleep(200); // the worker thread takes the command
    result.ack = entered();
    walkMarkEnd();
    break;
  }
  fs.writeFileSync(process.env.WALK_OUT, JSON.stringify(result));
  await client.disconnect();
  server.disconnect();
  process.exit(0);
}

// --- reading the trace ------------------------------------------------------------

/** `ns::f(int, char*) const` -> `ns::f`; a lambda keeps its `{lambda(...)#1}`. */
function withoutParameters(name) {
  let end = name.lastIndexOf(')');
  if (end < 0 || name.endsWith('}')) return name;
  for (let open = 0, i = end; i >= 0; i--) {
    if (name[i] === ')') open++;
    else if (name[i] === '(' && --open === 0) return name.slice(0, i);
  }
  return name;
}

/** addr2line over every offset: {name, file} with file relative to the root. */
function symbolize(offsets) {
  const out = spawnSync('addr2line', ['-f', '-C', '-e', ADDON], { input: offsets.map((o) => '0x' + o).join('\n'), encoding: 'utf8' });
  const lines = out.stdout.split('\n');
  const map = new Map();
  offsets.forEach((o, i) => {
    const name = withoutParameters(lines[2 * i]).replace(/\(anonymous namespace\)::/g, '');
    const file = path.relative(ROOT, lines[2 * i + 1].replace(/:[0-9?]+( .*)?$/, ''));
    map.set(o, { name, file });
  });
  return map;
}

/** The entries between the markers, in stream order: {kind: 'C'|'JS', thread, depth, name}. */
function readTrace(text) {
  text = text.replace(/@C [^\n]*\n/g, (m) => '\n' + m); // a worker line may cut a JS line in two
  const windows = { walk: [], ack: [] };
  let current = null;
  for (const line of text.split('\n')) {
    const c = /^@C ([MW])(\d+) (\d+) ([0-9a-f]+)$/.exec(line);
    if (c) {
      if (current) current.push({ kind: 'C', thread: c[1], depth: +c[3], offset: c[4] });
      continue;
    }
    const js = /^\s*(\d+):\s*[~*^+]?([^(]*?)\+\d+\(this=/.exec(line);
    if (!js) continue;
    const name = js[2];
    if (name === MARK.begin) current = windows.walk;
    else if (name === MARK.ack) current = windows.ack;
    else if (name === MARK.end) current = null;
    else if (current) current.push({ kind: 'JS', thread: 'M', depth: +js[1], name });
  }
  return windows;
}

/** Where code made by `new Function` in the walk comes from: the per-shape builders. */
const GENERATED_BY = path.join('lib', 'tape.js');

/**
 * JS names to lib/ functions: coverage holds each entered function's file,
 * place and call count; a trace line only its name, depth and caller.
 */
function jsResolver(coverage) {
  const byName = new Map(); // name -> [{name, file, start, end, left}]
  const generated = [];
  for (const script of coverage) {
    if (script.file === '') {
      for (const f of script.functions) generated.push({ name: `<shape builder ${generated.length + 1}>`, file: GENERATED_BY, left: f.count });
      continue;
    }
    const source = fs.readFileSync(path.join(ROOT, script.file), 'utf8');
    for (const f of script.functions) {
      const line = source.slice(0, f.start).split('\n').length;
      const list = byName.get(f.name) || [];
      list.push({ name: f.name || `<anonymous:${line}>`, file: script.file, start: f.start, end: f.end, left: f.count });
      byName.set(f.name, list);
    }
  }
  const take = (fn) => {
    if (fn) fn.left--;
    return fn || null;
  };
  const within = (inner, outer) => inner.file === outer.file && outer.start <= inner.start && inner.end <= outer.end;
  /**
   * An anonymous function called by a lib/ function is one written inside
   * it (a callback of a builtin such as map), else a generated builder.
   * Otherwise the first function of that name with calls left takes the entry.
   */
  const resolve = (name, caller) => {
    const list = (byName.get(name) || []).filter((f) => f.left > 0);
    if (name === '' && caller && caller.file) {
      return take(list.find((f) => within(f, caller)) || generated.find((f) => f.left > 0) || list[0]);
    }
    return take(list[0]);
  };
  const unclaimed = () => [...byName.values(), generated].flat().filter((f) => f.left > 0).map((f) => `${path.basename(f.file)}:${f.name} ×${f.left}`);
  return { resolve, unclaimed };
}

/**
 * Node's functions that call a callback straight from the event loop: an
 * anonymous function is taken for a lib/ one only when one of these, a lib/
 * function or native code called it (node's own anonymous functions abound).
 */
const DISPATCHERS = new Set(['processImmediate', 'listOnTimeout', 'processTimers', 'processTicksAndRejections', 'runNextTicks', 'emit']);

/** The walk's project functions in the order entered: {section, file, name}. */
function analyse(entries, coverage, symbols) {
  const { resolve, unclaimed } = jsResolver(coverage);
  const steps = [];
  // The JS stack: {depth, name, fn}. Builtins (map, say) are frames the trace counts but does not print.
  const stack = [];
  for (const e of entries) {
    let fn;
    if (e.kind === 'C') fn = symbols.get(e.offset);
    else {
      while (stack.length && stack[stack.length - 1].depth >= e.depth) stack.pop();
      const caller = stack.length ? stack[stack.length - 1] : null;
      const callerFits = !caller || caller.fn !== null || DISPATCHERS.has(caller.name);
      fn = e.name === '' && !callerFits ? null : resolve(e.name, caller && caller.fn);
      stack.push({ depth: e.depth, name: e.name, fn });
    }
    if (!fn || !(fn.file.startsWith('src' + path.sep) || fn.file.startsWith('lib' + path.sep))) continue;
    const section = e.kind === 'JS' ? 'js' : e.thread === 'W' ? 'worker' : 'main';
    steps.push({ section, file: fn.file, name: fn.name, depth: e.depth });
  }
  return { steps, unclaimed: unclaimed() };
}

const SECTIONS = [['worker', 'worker thread, C/C++'], ['main', 'main thread, C/C++'], ['js', 'main thread, JS (lib/)']];

/** Times a step is in another file than the step before it. */
function fileChanges(steps) {
  let n = 0;
  for (let i = 1; i < steps.length; i++) if (steps[i].file !== steps[i - 1].file) n++;
  return n;
}

/**
 * The functions a reader follows: each one entered from another file, or that
 * calls on into another project function. What is left out is a leaf helper
 * entered only from its own file (op, be32, read_str, a shape builder of a
 * nested map, ...): read in place, not a hop. A step's caller is the nearest
 * earlier step of its stack (worker C, main-thread C, JS) with a smaller
 * depth; it calls on when the next step of its stack is deeper.
 */
function followed(steps) {
  const byKey = new Map(); // file:name -> {crossed, callsOn}
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    const key = `${s.file}:${s.name}`;
    const f = byKey.get(key) || { crossed: false, callsOn: false };
    let caller = null;
    for (let j = i - 1; j >= 0 && !caller; j--) {
      if (steps[j].section === s.section && steps[j].depth < s.depth) caller = steps[j];
    }
    if (!caller || caller.file !== s.file) f.crossed = true;
    for (let j = i + 1; j < steps.length; j++) {
      if (steps[j].section !== s.section) continue;
      if (steps[j].depth > s.depth) f.callsOn = true;
      break;
    }
    byKey.set(key, f);
  }
  return [...byKey].filter(([, f]) => f.crossed || f.callsOn).map(([key]) => path.basename(key));
}

function report(title, { steps, unclaimed }, sequence) {
  const lines = [`## ${title}`];
  for (const [section, label] of SECTIONS) {
    const files = new Map(); // file -> Map(name -> calls), first-entered order
    for (const s of steps) {
      if (s.section !== section) continue;
      if (!files.has(s.file)) files.set(s.file, new Map());
      const fns = files.get(s.file);
      fns.set(s.name, (fns.get(s.name) || 0) + 1);
    }
    const count = [...files.values()].reduce((n, f) => n + f.size, 0);
    lines.push(`${label}: ${count} functions, ${files.size} files`);
    for (const [file, fns] of files) {
      lines.push(`  ${path.basename(file)}: ${[...fns].map(([n, k]) => (k > 1 ? `${n} ×${k}` : n)).join(', ')}`);
    }
  }
  const files = new Set(steps.map((s) => s.file));
  const seen = new Set();
  const firsts = steps.filter((s) => !seen.has(`${s.file}:${s.name}`) && seen.add(`${s.file}:${s.name}`));
  const followedFns = followed(steps);
  lines.push(`total: ${seen.size} functions (${steps.length} calls), ${files.size} files, ` +
    `${fileChanges(steps)} file changes (${fileChanges(firsts)} over each function's first entry); ` +
    `${followedFns.length} followed (same-file leaf helpers left out)`);
  if (unclaimed.length) lines.push(`entered (coverage) but not placed in the order: ${unclaimed.join(', ')}`);
  if (sequence) lines.push('followed: ' + followedFns.join(', '));
  if (sequence) lines.push('sequence: ' + steps.map((s) => `${s.section === 'worker' ? 'W' : 'M'}:${path.basename(s.file)}:${s.name}`).join(' > '));
  return lines.join('\n');
}

function main(args) {
  if (!args.includes('--no-build') || !fs.existsSync(ADDON)) buildAddon();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'event-walk-'));
  const out = path.join(tmp, 'coverage.json');
  const tracePath = path.join(tmp, 'trace.txt');
  const fd = fs.openSync(tracePath, 'w');
  const run = spawnSync(process.execPath, ['--trace', __filename, '--measure', ...(args.includes('--first') ? ['--first'] : [])], {
    stdio: ['ignore', fd, 'inherit'], env: { ...process.env, WALK_OUT: out }, timeout: 120000,
  });
  fs.closeSync(fd);
  if (run.status !== 0) throw new Error(`the measuring process failed (${run.status || run.signal}); trace in ${tracePath}`);
  const coverage = JSON.parse(fs.readFileSync(out, 'utf8'));
  const windows = readTrace(fs.readFileSync(tracePath, 'utf8'));
  const offsets = [...new Set([...windows.walk, ...windows.ack].filter((e) => e.kind === 'C').map((e) => e.offset))];
  const symbols = symbolize(offsets);
  const walk = analyse(windows.walk, coverage.walk, symbols);
  const ack = analyse(windows.ack, coverage.ack, symbols);
  const commit = execSync('git rev-parse --short HEAD', { cwd: ROOT, encoding: 'utf8' }).trim();
  console.log(`# event walk at ${commit}: one small insert event, ${args.includes('--first') ? 'the first of its shape' : 'after one of the same shape'}, consumer waiting in next()`);
  console.log(report('walk: socket read to next() resolved', walk, args.includes('--sequence')));
  console.log(report('acknowledgement: report after consumption to the core', ack, args.includes('--sequence')));
  fs.rmSync(tmp, { recursive: true, force: true });
}

const args = process.argv.slice(2);
if (args.includes('--serve')) serve();
else if (args.includes('--measure')) measure(args.includes('--first'));
else main(args);
