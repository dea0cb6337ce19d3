'use strict';
/**
 * nexaclient: the native Node.js client for NexaDB.
 * `require('nexaclient')` is the NexaClient class; the rest hangs off it.
 */
const { NexaClient } = require('./client');
const { ChangeStream } = require('./change-stream');
const errors = require('./errors');

module.exports = NexaClient;
module.exports.NexaClient = NexaClient;
module.exports.default = NexaClient;
module.exports.ChangeStream = ChangeStream;
for (const [name, value] of Object.entries(errors)) {
  if (name !== 'fromCore' && name !== 'serverText') module.exports[name] = value;
}
