'use strict';
// Bun and Deno implement only part of the libuv that Node.js exports to
// addons; the C core runs its own libuv loop, so under them the addon would
// abort the process (Bun: "unsupported uv function: uv_loop_init") or exit it
// (Deno: "undefined symbol: uv_loop_init"). Loading nexaclient there must be
// one clear, catchable error naming the runtime. Runs where .ci/run provides
// the runtimes (NEXACLIENT_BUN, NEXACLIENT_DENO: paths to their binaries).
const assert = require('assert');
const path = require('path');

const { run, lastJson } = require('./helpers/packed');

const fixture = path.join(__dirname, 'fixtures', 'foreign-runtime.cjs');
const RUNTIMES = [
  { name: 'Bun', bin: process.env.NEXACLIENT_BUN, args: [fixture] },
  { name: 'Deno', bin: process.env.NEXACLIENT_DENO, args: ['run', '--allow-all', fixture] },
];

describe('other JavaScript runtimes', function () {
  this.timeout(30000);

  for (const { name, bin, args } of RUNTIMES) {
    it(`${name}: loading nexaclient throws one error naming the runtime, and nothing crashes`, async function () {
      if (!bin) this.skip(); // set by .ci/run
      const r = await run(bin, args);
      assert.strictEqual(r.code, 0, r.out);
      const seen = lastJson(r.out);
      assert.strictEqual(seen.loaded, false);
      assert.match(seen.message, new RegExp(`^nexaclient: ${name} \\d+\\.\\d+\\.\\d+ is not supported: .*needs Node\\.js \\(20 or newer\\)$`));
      assert.strictEqual(seen.code, 'NEXA_UNSUPPORTED_RUNTIME');
    });
  }
});
