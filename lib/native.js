'use strict';
// Loads the compiled addon. One instance per environment (main thread or
// worker_thread): its worker thread, caches and handler are its own.
const path = require('path');

/**
 * The runtime, when it is not Node.js: the C core runs its own libuv loop on
 * a worker thread, which needs the libuv Node.js exports to addons; Bun and
 * Deno implement only part of it and would abort or exit on load.
 */
function foreignRuntime() {
  if (process.versions.bun) return `Bun ${process.versions.bun}`;
  if (process.versions.deno || typeof globalThis.Deno !== 'undefined') return `Deno ${process.versions.deno || ''}`.trim();
  return null;
}

function load() {
  const runtime = foreignRuntime();
  if (runtime) {
    const err = new Error(`nexaclient: ${runtime} is not supported: its native addon runs its own libuv loop, which needs Node.js (20 or newer)`);
    err.code = 'NEXA_UNSUPPORTED_RUNTIME';
    throw err;
  }
  try {
    // build/Release (built from source) first, else prebuilds/<platform>-<arch>/.
    return require('node-gyp-build')(path.join(__dirname, '..'));
  } catch (err) {
    err.message = `nexaclient: no native addon for ${process.platform}-${process.arch}: no prebuilt binary fits and none was built from source `
      + `(${err.message.split('\n')[0]}). Build it: install msgpack-c (Debian/Ubuntu: apt-get install build-essential pkg-config libmsgpack-dev; `
      + 'Alpine: apk add build-base python3 pkgconf msgpack-c-dev; macOS: brew install msgpack pkg-config), then `npm rebuild nexaclient` '
      + '(npm 11 runs install scripts of dependencies only once allowed: `npm install-scripts approve nexaclient`).';
    throw err;
  }
}

const addon = load();

/**
 * What JS and the core agree on, from the C headers (src/binding/constants.cc):
 * `msg` message types, `item` the kinds of item a batch holds, `tape` the
 * event tape's ops, `int64` the option's modes, `maxRequestId`, the frame
 * header's `headerSize`, `magic`, `version`, and the document rule's
 * `maxDocDepth` and `docEnvelope`.
 */
const { constants } = addon;

module.exports = {
  addon,
  constants,
  /**
   * @param {Uint8Array} buf one MessagePack value
   * @param {{int64?: 'number'|'bigint'|'auto'|'string', maxLevels?: number}} [opts]
   *   maxLevels: levels the value may nest; default: documents at most
   *   MAX_DEPTH, as the client reads them
   */
  decode: (buf, opts) => addon.decode(buf, constants.int64[(opts && opts.int64) || 'number'], opts && opts.maxLevels),
};
