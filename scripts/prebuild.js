#!/usr/bin/env node
'use strict';
// `npm run prebuilds [-- --arch arm64]` (not `prebuild`: npm would run that
// before every `npm run build`): the prebuilt addon that ships inside the
// npm package, prebuilds/<platform>-<arch>/nexaclient.<libc>.node (the layout
// node-gyp-build loads; with Node-API the name carries no ABI). One build
// serves every Node version. msgpack-c is linked statically (its symbols
// hidden), and the result is checked: stripped, no shared msgpack-c among its
// dependencies. `npm publish` runs it first (prepublishOnly).
//
// It builds in build-prebuild/ (a copy of the sources), so build/Release, the
// development build, is left as it is. --arch arm64 cross-compiles on an x64
// Debian host (gcc-aarch64-linux-gnu, g++-aarch64-linux-gnu, libmsgpack-dev:arm64);
// that binary is not shipped yet: it has not run (Node under qemu-user did not start).
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const prebuildify = require('prebuildify');

const root = path.join(__dirname, '..');
const work = path.join(root, 'build-prebuild');
const argv = process.argv.slice(2);
const arch = argv.includes('--arch') ? argv[argv.indexOf('--arch') + 1] : os.arch();

const CROSS = {
  arm64: { triplet: 'aarch64-linux-gnu' },
};

function crossEnv() {
  if (arch === os.arch()) return { strip: 'strip', env: {} };
  const cross = CROSS[arch];
  if (!cross || os.platform() !== 'linux') throw new Error(`prebuild: cannot cross-compile for ${arch} here (known: ${Object.keys(CROSS).join(', ')})`);
  const t = cross.triplet;
  return {
    strip: `${t}-strip`,
    env: { CC: `${t}-gcc`, CXX: `${t}-g++`, LINK: `${t}-g++`, AR: `${t}-ar`, PKG_CONFIG_LIBDIR: `/usr/lib/${t}/pkgconfig:/usr/share/pkgconfig` },
  };
}

function copySources() {
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(path.join(work, 'scripts'), { recursive: true });
  for (const f of ['binding.gyp', 'package.json', 'src', 'scripts/find-msgpack.js']) {
    fs.cpSync(path.join(root, f), path.join(work, f), { recursive: true });
  }
}

/** The shared libraries a binary needs (its DT_NEEDED entries). */
function needed(file) {
  const out = execFileSync('readelf', ['-d', file]).toString();
  return [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
}

function main() {
  if (!process.env.npm_config_node_gyp) {
    console.error('prebuild: run it as `npm run prebuilds` (it builds with the node-gyp npm provides)');
    process.exit(1);
  }
  const { strip, env } = crossEnv();
  Object.assign(process.env, env, { NEXACLIENT_MSGPACK_STATIC: '1' });
  copySources();
  const before = new Set(readdir(path.join(root, 'prebuilds', `${os.platform()}-${arch}`)));
  prebuildify({
    cwd: work,
    out: root,
    arch,
    napi: true,
    strip: true,
    stripBin: strip,
    tagLibc: true,
    targets: [process.versions.node], // Node-API: the headers' version does not matter; these are at hand
    nodeGyp: process.env.npm_config_node_gyp,
  }, (err) => {
    if (err) {
      console.error(`prebuild: ${err.message}`);
      process.exit(1);
    }
    const dir = path.join(root, 'prebuilds', `${os.platform()}-${arch}`);
    for (const name of readdir(dir)) {
      const file = path.join(dir, name);
      const libs = needed(file);
      if (libs.some((l) => /msgpack/.test(l))) {
        console.error(`prebuild: ${file} still needs a shared msgpack-c (${libs.join(', ')})`);
        process.exit(1);
      }
      if (/\.symtab\b/.test(execFileSync('readelf', ['-S', file]).toString())) {
        console.error(`prebuild: ${file} is not stripped`);
        process.exit(1);
      }
      const state = before.has(name) ? 'rebuilt' : 'built';
      console.log(`prebuild: ${state} ${path.relative(root, file)} (${fs.statSync(file).size} bytes; needs ${libs.join(', ')})`);
    }
    fs.rmSync(work, { recursive: true, force: true });
  });
}

function readdir(dir) {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.node'));
  } catch {
    return [];
  }
}

main();
