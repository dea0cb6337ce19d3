#!/usr/bin/env node
'use strict';
// `npm test`: the C core's unit tests (built here, run without Node), then
// every mocha suite in test/, then one line totalling both:
// "N passed, M failed".
// NEXACLIENT_TEST_NODES (set by .ci/run): more node binaries, separated by
// ':'; the mocha suites run again under each (the addon is built once: it is
// Node-API), except those that do not depend on the Node running them, and
// their counts join the total. `--mocha-only`: that run, by itself.
const { execFileSync, spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
let passed = 0;
let failed = 0;

function runCoreTests() {
  const out = path.join(root, 'build', 'test_core');
  const build = spawnSync('bash', [path.join(__dirname, 'build-c-tests.sh'), out, '-g', '-O1'], { stdio: 'inherit' });
  if (build.status !== 0) {
    if (build.status !== 2) console.error('C core tests: the build failed'); // 2: it said what is missing
    failed++;
    return;
  }
  const run = spawnSync(out, [], { encoding: 'utf8', timeout: 120000 });
  process.stdout.write(run.stdout || '');
  process.stderr.write(run.stderr || '');
  const m = /C core: (\d+) passed, (\d+) failed/.exec(run.stdout || '');
  if (!m) {
    console.error(`C core tests: no result line (exit ${run.status}, signal ${run.signal})`);
    failed++;
    return;
  }
  passed += Number(m[1]);
  failed += Number(m[2]);
  if (run.status !== 0 && Number(m[2]) === 0) failed++;
}

// The typed example must compile against index.d.ts: one check.
function runTypeCheck() {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'examples', 'tsconfig.json')], { encoding: 'utf8' });
  process.stdout.write(r.stdout || '');
  process.stderr.write(r.stderr || '');
  if (r.status === 0) {
    console.log('typed example (examples/typed.ts): tsc --noEmit passed');
    passed++;
  } else {
    console.error('typed example (examples/typed.ts): tsc --noEmit FAILED');
    failed++;
  }
}

/** Suites whose outcome does not depend on the Node that runs them: run once. */
const NODE_INDEPENDENT = new Set(['hardening-native.test.js', 'runtimes.test.js', 'types.test.js']);

function runMocha({ all }) {
  const Mocha = require('mocha');
  const mocha = new Mocha({ timeout: 20000, reporter: 'spec' });
  const dir = path.join(root, 'test');
  for (const f of fs.readdirSync(dir).sort()) {
    if (f.endsWith('.test.js') && (all || !NODE_INDEPENDENT.has(f))) mocha.addFile(path.join(dir, f));
  }
  return new Promise((resolve) => {
    const runner = mocha.run(() => {
      passed += runner.stats.passes;
      failed += runner.stats.failures;
      resolve();
    });
  });
}

/** The mocha suites again under another node binary, its counts added to ours. */
function runMochaUnder(node) {
  return new Promise((resolve) => {
    let version = '';
    try {
      version = execFileSync(node, ['--version']).toString().trim();
    } catch (err) {
      console.error(`mocha under ${node}: cannot run it (${err.message})`);
      failed++;
      resolve();
      return;
    }
    console.log(`\n# The mocha suites under Node ${version} (${node})`);
    const child = spawn(node, [__filename, '--mocha-only'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on('close', (code, signal) => {
      const m = /^Node v[\d.]+: (\d+) passed, (\d+) failed$/m.exec(out);
      if (!m) {
        console.error(`mocha under Node ${version}: no result line (exit ${code}, signal ${signal})`);
        failed++;
      } else {
        passed += Number(m[1]);
        failed += Number(m[2]);
        if (code !== 0 && Number(m[2]) === 0) failed++;
      }
      resolve();
    });
  });
}

(async () => {
  if (process.argv.includes('--mocha-only')) {
    await runMocha({ all: false });
    console.log(`Node ${process.version}: ${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  }
  runCoreTests();
  runTypeCheck();
  await runMocha({ all: true });
  for (const node of (process.env.NEXACLIENT_TEST_NODES || '').split(':').filter(Boolean)) await runMochaUnder(node);
  console.log(`${passed} passed, ${failed} failed`);
  // Suites may leave servers in child processes; this runner's job is done.
  process.exit(failed ? 1 : 0);
})();
