'use strict';
/**
 * nexaclient: the native Node.js client for NexaDB.
 * `require('nexaclient')` is the NexaClient class; the rest hangs off it.
 */
const { NexaClient } = require('./client');
const { ChangeStream } = require('./change-stream');
const errors = require('./errors');
const { addon } = require('./native');

module.exports = NexaClient;
module.exports.NexaClient = NexaClient;
module.exports.default = NexaClient;
module.exports.ChangeStream = ChangeStream;
/** Documents nest at most this many levels of objects and arrays, written and read. */
module.exports.MAX_DEPTH = addon.MAX_DEPTH;
for (const [name, value] of Object.entries(errors)) {
  if (name !== 'fromCore' && name !== 'serverText') module.exports[name] = value;
}
