'use strict';
// Loads the compiled addon. One instance per environment (main thread or
// worker_thread): its worker thread, caches and handler are its own.
let addon;
try {
  addon = require('../build/Release/nexaclient.node');
} catch (err) {
  try {
    addon = require('../build/Debug/nexaclient.node');
  } catch {
    err.message = `nexaclient: the native addon is not built (${err.message}). Run \`npm install\` (it needs msgpack-c: apt-get install libmsgpack-dev).`;
    throw err;
  }
}

/** int64 option names to the addon's numeric modes. */
const INT64_MODES = { number: 0, bigint: 1, auto: 2, string: 3 };

module.exports = {
  addon,
  INT64_MODES,
  /**
   * @param {*} value
   * @param {number} [maxLevels] levels the value may nest; default: documents
   *   at most MAX_DEPTH, as the client sends them
   * @returns {Buffer} MessagePack bytes
   */
  encode: (value, maxLevels) => addon.encode(value, maxLevels),
  /**
   * @param {Uint8Array} buf one MessagePack value
   * @param {{int64?: 'number'|'bigint'|'auto'|'string', maxLevels?: number}} [opts]
   *   maxLevels: levels the value may nest; default: documents at most
   *   MAX_DEPTH, as the client reads them
   */
  decode: (buf, opts) => addon.decode(buf, INT64_MODES[(opts && opts.int64) || 'number'], opts && opts.maxLevels),
  /** A whole frame (header + payload). */
  frame: (type, value) => addon.frame(type, value),
};
