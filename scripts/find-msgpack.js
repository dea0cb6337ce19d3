#!/usr/bin/env node
'use strict';
// Finds msgpack-c through pkg-config for binding.gyp. Newer releases name the
// package `msgpack-c`, older ones (Debian's 4.0.0) `msgpack`.
// --check: exit 1 with one clear line when it is missing (npm preinstall).
// --cflags / --libs: print the flags for gyp.
const { execFileSync } = require('child_process');

function pkg(name, flag) {
  try {
    return execFileSync('pkg-config', [flag, name], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}

function find() {
  for (const name of ['msgpack-c', 'msgpack']) {
    if (pkg(name, '--exists') !== null) return name;
  }
  return null;
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
else if (mode === '--libs') process.stdout.write(pkg(name, '--libs') || '');
else if (mode === '--name') process.stdout.write(name);
