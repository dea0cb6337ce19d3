'use strict';
// CI forms of the native hardening tools. Skipped unless CI is set or
// NEXACLIENT_HARDENING=1 (they need clang-14 with libclang-rt-14-dev):
//  - each libFuzzer target for 10 s (fuzz/run.sh 10)
//  - the C unit tests built with -fsanitize=address,undefined (scripts/asan.sh core)
// The full forms: npm run fuzz, npm run test:asan, npm run test:valgrind.
const assert = require('assert');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..');
const enabled = (process.env.CI && process.env.CI !== 'false') || process.env.NEXACLIENT_HARDENING === '1';

function run(script, args, timeout) {
  const r = spawnSync('bash', [path.join(root, script), ...args], {
    cwd: root, encoding: 'utf8', timeout, env: { ...process.env, FUZZ_PARALLEL: '' },
  });
  return { ...r, text: `${r.stdout || ''}${r.stderr || ''}` };
}

(enabled ? describe : describe.skip)('hardening: native tools (CI)', function () {
  this.timeout(180000);

  it('libFuzzer: fuzz_frame and fuzz_check, 10 s each, no crash', () => {
    const r = run('fuzz/run.sh', ['10'], 170000);
    assert.strictEqual(r.status, 0, r.text);
    assert.match(r.text, /fuzz: no crashes/, r.text);
    for (const t of ['fuzz_frame', 'fuzz_check']) assert.match(r.text, new RegExp(`fuzz: ${t} +executions [1-9]\\d*`), r.text);
  });

  it('the C unit tests under ASan + UBSan (LeakSanitizer on): clean', () => {
    const r = run('scripts/asan.sh', ['core'], 170000);
    assert.strictEqual(r.status, 0, r.text);
    assert.match(r.text, /C unit tests under ASan\+UBSan: clean/, r.text);
  });
});
