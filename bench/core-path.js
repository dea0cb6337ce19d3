'use strict';
// Builds bench/core-path.c and runs it on the small and the large event:
//   node bench/core-path.js [--callgrind]
// Native timing by default; --callgrind counts instructions per event
// (deterministic, the figure to judge a change of the worker path by).
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { MSG, frame, smallEvent, largeEvent } = require('./protocol');

const root = path.join(__dirname, '..');
const out = path.join(root, 'build', 'core-path');
const flags = (n) => execFileSync('pkg-config', ['--cflags', '--libs', n], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().split(/\s+/).filter(Boolean);
let msgpack;
try { msgpack = flags('msgpack-c'); } catch { msgpack = flags('msgpack'); }
const core = ['frame.c', 'codec.c', 'intern.c', 'tape.c'].map((f) => path.join(root, 'src', 'core', f));
fs.mkdirSync(path.dirname(out), { recursive: true });
execFileSync('cc', ['-std=c11', '-O2', '-g', '-Wall', '-Wextra', '-Werror', `-I${path.join(root, 'src', 'core')}`,
  ...core, path.join(__dirname, 'core-path.c'), ...msgpack, '-o', out], { stdio: 'inherit' });
const callgrind = process.argv.includes('--callgrind');
for (const [name, ev] of [['small', smallEvent()], ['large', largeEvent()]]) {
  const file = path.join(os.tmpdir(), `nexa-core-path-${name}.bin`);
  fs.writeFileSync(file, frame(MSG.CHANGE_EVENT, ev.payload));
  if (callgrind) {
    const n = 20000;
    const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', out, file, String(n)], { encoding: 'utf8' });
    const m = /Collected : (\d+)/.exec(r.stderr);
    console.log(`${name}: ${m ? Math.round(Number(m[1]) / n) : '?'} instructions/event (callgrind, ${n} events, setup included)`);
  } else {
    process.stdout.write(`${name}: ${execFileSync(out, [file, '2000000']).toString()}`);
  }
}
