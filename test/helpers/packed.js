'use strict';
// The package as a user gets it: the prebuilt addon (built when missing or
// older than the sources), `npm pack`, and the tarball installed into an
// empty project by an npm that finds nothing but `node`, `npm` and `npx` on
// its PATH (no cc, make, python3 or pkg-config). Built once per test process and
// shared by the suites that need it (install, types).
const { runProcess } = require('./process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const PREBUILD = path.join('prebuilds', `${process.platform}-${process.arch}`, 'nexaclient.glibc.node');

/** Whether this platform is one nexaclient ships a prebuilt binary for. */
const shipsPrebuild = process.platform === 'linux' && process.arch === 'x64' && !fs.existsSync('/etc/alpine-release');

/** npm's CLI script, which runs under whichever node starts it. */
function npmCli() {
  if (process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath)) return process.env.npm_execpath;
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const f = path.join(dir, 'npm');
    if (fs.existsSync(f)) return fs.realpathSync(f);
  }
  throw new Error('npm not found on PATH');
}

/** Runs a command to its end (killed after `timeout` ms); `out` is its stdout, then its stderr. */
async function run(cmd, args, { timeout = 10 * 60 * 1000, cwd, env } = {}) {
  const r = await runProcess(cmd, args, { cwd, env, killAfter: timeout });
  return { code: r.code, signal: r.signal, out: r.stdout + r.stderr, ms: r.ms };
}

function newest(p) {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...fs.readdirSync(p).map((f) => newest(path.join(p, f))));
}

/** `npm run prebuilds` when the binary is missing or older than what it is built from. */
async function ensurePrebuild() {
  const file = path.join(root, PREBUILD);
  const inputs = ['binding.gyp', 'src', 'scripts/find-msgpack.js', 'scripts/prebuild.js'].map((f) => path.join(root, f));
  if (fs.existsSync(file) && fs.statSync(file).mtimeMs >= Math.max(...inputs.map(newest))) return { built: false };
  const r = await run(process.execPath, [npmCli(), 'run', 'prebuilds'], { cwd: root });
  if (r.code !== 0) throw new Error(`npm run prebuilds failed (exit ${r.code}):\n${r.out.slice(-3000)}`);
  return { built: true, ms: r.ms };
}

/** A directory holding only `node` (this test's) and npm (`npm`, `npx`). */
function bareBin(dir) {
  fs.mkdirSync(dir);
  fs.symlinkSync(process.execPath, path.join(dir, 'node'));
  fs.symlinkSync(npmCli(), path.join(dir, 'npm'));
  fs.symlinkSync(path.join(path.dirname(npmCli()), 'npx-cli.js'), path.join(dir, 'npx'));
  return dir;
}

/**
 * The environment of a user with only Node: nothing else on PATH, no npm_*
 * settings from this run. npm runs scripts with `sh`, found on the PATH
 * unless `script-shell` names it: named here, so the PATH holds nothing else.
 */
function bareEnv(bin) {
  return { PATH: bin, HOME: os.homedir(), TMPDIR: os.tmpdir(), LANG: 'C.UTF-8', npm_config_script_shell: '/bin/sh' };
}

let packed;

/**
 * Packs the package and installs it into an empty project. npm 11 runs the
 * install script of a tarball named on its command line (it blocks only
 * registry dependencies' scripts until approved), so this install runs
 * `node-gyp-build` as an approved install does. Resolves with
 * { dir, bin, env, tarball, pack, install }.
 */
function packAndInstall() {
  packed ??= (async () => {
    const prebuild = await ensurePrebuild();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexaclient-packed-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const p = await run(process.execPath, [npmCli(), 'pack', '--json', '--pack-destination', dir], { cwd: root });
    if (p.code !== 0) throw new Error(`npm pack failed:\n${p.out.slice(-3000)}`);
    const pack = JSON.parse(p.out.slice(p.out.indexOf('[')))[0];
    const tarball = path.join(dir, pack.filename);
    const project = path.join(dir, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ private: true }));
    const bin = bareBin(path.join(dir, 'bin'));
    const env = bareEnv(bin);
    const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', tarball], { cwd: project, env });
    if (install.code !== 0) throw new Error(`npm install of the tarball failed (exit ${install.code}):\n${install.out.slice(-3000)}`);
    return { dir: project, bin, env, tarball, pack, install, prebuild };
  })();
  return packed;
}

/** The last line of `out` that is a JSON object or array, parsed: what a packed program reports. */
function lastJson(out) {
  const lines = out.trim().split('\n').filter((l) => l.startsWith('{') || l.startsWith('['));
  if (lines.length === 0) throw new Error(`no JSON in the output: ${out.slice(-2000)}`);
  return JSON.parse(lines[lines.length - 1]);
}

module.exports = { packAndInstall, shipsPrebuild, run, lastJson, PREBUILD };
