#!/usr/bin/env node
'use strict';
// Finds msgpack-c through pkg-config for binding.gyp. Newer releases name the
// package `msgpack-c`, older ones (Debian's 4.0.0) `msgpack`.
// --check: exit 1 with one clear line when it is missing (run before a build
//   from source: `node-gyp-build` runs it only when no prebuilt binary fits).
// --cflags / --libs: print the flags for gyp. With NEXACLIENT_MSGPACK_STATIC=1
//   (scripts/prebuild.js), --libs names the static archive instead, so that the
//   prebuilt addon needs no msgpack-c on the user's machine, and keeps its
//   symbols out of the addon's exports.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

function run(cmd, args) {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}

const pkg = (name, ...flags) => run('pkg-config', [...flags, name]);

function find() {
  for (const name of ['msgpack-c', 'msgpack']) {
    if (pkg(name, '--exists') !== null) return name;
  }
  return null;
}

/** `-L/dir -lmsgpackc` -> the full path of each `lib<name>.a`, as the compiler finds it. */
function staticLibs(name) {
  const words = (pkg(name, '--libs') || '').split(/\s+/).filter(Boolean);
  const dirs = words.filter((w) => w.startsWith('-L')).map((w) => w.slice(2));
  const cc = (process.env.CC || 'cc').split(/\s+/);
  const archives = [];
  for (const lib of words.filter((w) => w.startsWith('-l')).map((w) => `lib${w.slice(2)}.a`)) {
    const found = dirs.map((d) => path.join(d, lib)).find((f) => fs.existsSync(f))
      || run(cc[0], [...cc.slice(1), `-print-file-name=${lib}`]);
    if (!found || !path.isAbsolute(found)) {
      process.stderr.write(`nexaclient: ${lib} (msgpack-c's static library) was not found: the prebuilt binary links it statically\n`);
      process.exit(1);
    }
    archives.push(path.normalize(found));
  }
  // Keep msgpack-c's symbols out of the addon's exports (GNU ld; macOS's ld hides nothing this way).
  return [...archives, ...(process.platform === 'linux' ? ['-Wl,--exclude-libs,ALL'] : [])].join(' ');
}

const name = find();
const mode = process.argv[2] || '--check';
if (!name) {
  if (mode === '--check') {
    process.stderr.write('nexaclient: msgpack-c was not found by pkg-config: install libmsgpack-dev (Debian/Ubuntu: apt-get install libmsgpack-dev pkg-config; macOS: brew install msgpack pkg-config)\n');
  }
  process.exit(1);
}
if (mode === '--cflags') process.stdout.write(pkg(name, '--cflags') || '');
else if (mode === '--libs') process.stdout.write(process.env.NEXACLIENT_MSGPACK_STATIC === '1' ? staticLibs(name) : pkg(name, '--libs') || '');
else if (mode === '--name') process.stdout.write(name);
