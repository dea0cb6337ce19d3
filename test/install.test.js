'use strict';
// The npm package as a user installs it (test/helpers/packed.js): packed with
// its prebuilt addon, installed by an npm that has nothing but node and npm on
// its PATH, then used by a first program. No compiler, no pkg-config, no
// system msgpack-c: the addon links msgpack-c statically, which `ldd` and the
// running process's own memory map both show.
const assert = require('assert');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const { packAndInstall, shipsPrebuild, run, lastJson, PREBUILD } = require('./helpers/packed');

describe('the npm package, installed without a toolchain', function () {
  this.timeout(180000); // the first run builds the prebuilt addon
  let p;

  before(async function () {
    if (!shipsPrebuild) this.skip(); // no prebuilt binary for this platform: it builds from source
    p = await packAndInstall();
  });

  it('packs the prebuilt addon and the runtime files, no build output or tests', () => {
    const files = p.pack.files.map((f) => f.path);
    assert.ok(files.includes(PREBUILD), files.join(' '));
    for (const f of ['lib/index.js', 'lib/index.mjs', 'lib/dev-server.js', 'index.d.ts', 'index.d.mts', 'bin/nexa-dev-server.js', 'bin/nexaclient.js', 'lib/cli/demo.js', 'examples/order-processing.js', 'binding.gyp', 'scripts/find-msgpack.js']) {
      assert.ok(files.includes(f), `${f} missing from the tarball`);
    }
    assert.deepStrictEqual(files.filter((f) => /^(build|test|prebuilds\/.*\.o$)/.test(f)), []);
  });

  it('installs without compiling: its install script finds the prebuilt addon fits', () => {
    assert.match(p.install.out, /> node-gyp-build/); // the install script ran...
    assert.doesNotMatch(p.install.out, /gyp (info|ERR)|make|cc1/); // ...and built nothing
    assert.strictEqual(fs.existsSync(path.join(p.dir, 'node_modules', 'nexaclient', 'build')), false);
  });

  it('the installed addon does not need a shared msgpack-c (ldd)', () => {
    const addon = path.join(p.dir, 'node_modules', 'nexaclient', PREBUILD);
    const ldd = execFileSync('ldd', [addon]).toString();
    assert.match(ldd, /libc\.so/);
    assert.doesNotMatch(ldd, /msgpack/);
  });

  it('a first program connects to the bundled dev server, watches, gets its event and exits by itself', async () => {
    fs.copyFileSync(path.join(__dirname, 'fixtures', 'packed-consumer.js'), path.join(p.dir, 'consumer.js'));
    const r = await run('node', ['consumer.js'], { cwd: p.dir, env: p.env, timeout: 30000 });
    assert.strictEqual(r.code, 0, r.out);
    const seen = lastJson(r.out);
    assert.deepStrictEqual(seen.change, { operationType: 'insert', coll: 'orders', item: 'tea' });
    assert.strictEqual(seen.esmDefaultIsTheClass, true);
    assert.deepStrictEqual(seen.addons, [fs.realpathSync(path.join(p.dir, 'node_modules', 'nexaclient', PREBUILD))]);
    assert.deepStrictEqual(seen.msgpackLibraries, []);
  });

  /** The packed package's environment with nothing but node (and the sh npx runs its command through) on the PATH. */
  function npxEnv(extra) {
    const sh = fs.mkdtempSync(path.join(path.dirname(p.dir), 'sh-'));
    fs.symlinkSync('/bin/sh', path.join(sh, 'sh'));
    return { ...p.env, PATH: `${p.bin}:${sh}`, ...extra };
  }

  it('npx nexaclient demo runs from the packed package with nothing but node on the PATH, and ends by itself', async () => {
    const r = await run('npx', ['--no-install', 'nexaclient', 'demo'], { cwd: p.dir, env: npxEnv(), timeout: 60000 });
    assert.strictEqual(r.code, 0, r.out);
    assert.match(r.out, /^nexaclient demo: change streams on an order-processing workload$/m);
    assert.match(r.out, /^ {2}change events seen by the watcher: [\d,]+$/m);
  });

  it('npx nexaclient relay and watch refuse an unknown --ops as bad usage (exit 2) before connecting anywhere', async () => {
    const env = npxEnv({ NEXADB_URL: 'nexadb://root@127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1' });
    for (const command of ['relay', 'watch']) {
      const r = await run('npx', ['--no-install', 'nexaclient', command, '--ops', 'insert,upsert'], { cwd: p.dir, env, timeout: 60000 });
      assert.strictEqual(r.code, 2, r.out);
      assert.match(r.out, new RegExp(`^nexaclient ${command}: --ops: unknown operation "upsert"`, 'm'));
    }
  });

  it('with its install script not run (npm 11 blocks it until approved), the prebuilt addon still loads', async () => {
    const project = fs.mkdtempSync(path.join(path.dirname(p.dir), 'scripts-blocked-'));
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ private: true }));
    const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', p.tarball], { cwd: project, env: p.env });
    assert.strictEqual(install.code, 0, install.out);
    fs.copyFileSync(path.join(__dirname, 'fixtures', 'packed-consumer.js'), path.join(project, 'consumer.js'));
    const r = await run('node', ['consumer.js'], { cwd: project, env: p.env, timeout: 30000 });
    assert.strictEqual(r.code, 0, r.out);
    assert.deepStrictEqual(lastJson(r.out).change, { operationType: 'insert', coll: 'orders', item: 'tea' });
  });

  it('where no prebuilt addon fits and none was built, require() says how to build it', async () => {
    // node-gyp-build takes the architecture from npm_config_arch: ask for one nexaclient ships no binary for.
    const r = await run('node', ['-e', "try { require('nexaclient') } catch (e) { console.log(JSON.stringify({ message: e.message })) }"],
      { cwd: p.dir, env: { ...p.env, npm_config_arch: 'riscv64' } });
    assert.strictEqual(r.code, 0, r.out);
    const { message } = lastJson(r.out);
    assert.match(message, /^nexaclient: no native addon for linux-x64: no prebuilt binary fits and none was built from source \(No native build was found for platform=linux arch=riscv64 /);
    assert.match(message, /install msgpack-c .*then `npm rebuild nexaclient` \(npm 11 .*`npm install-scripts approve nexaclient`\)\.$/);
  });

  it('building from source without msgpack-c stops with one line naming the package to install', async () => {
    const project = fs.mkdtempSync(path.join(path.dirname(p.dir), 'from-source-'));
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ private: true }));
    // npm 11 warns about unknown CLI flags such as --build-from-source; the environment form is quiet.
    const env = { ...p.env, npm_config_build_from_source: 'true' };
    const r = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', p.tarball], { cwd: project, env });
    assert.notStrictEqual(r.code, 0, r.out);
    const ours = r.out.split('\n').filter((l) => l.startsWith('nexaclient:'));
    assert.deepStrictEqual(ours, ['nexaclient: msgpack-c was not found by pkg-config: install libmsgpack-dev (Debian/Ubuntu: apt-get install libmsgpack-dev pkg-config; macOS: brew install msgpack pkg-config)'], r.out);
    assert.doesNotMatch(r.out, /gyp info/); // stopped before node-gyp
  });
});
