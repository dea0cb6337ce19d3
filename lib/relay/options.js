'use strict';
// The relay's options, checked, with their defaults.
const os = require('os');
const crypto = require('crypto');
const { parseOperations } = require('../arguments');
const NexaClient = require('../index');

const WHOLE_MS = (v) => Number.isInteger(v) && v >= 0 && v <= 0x7fffffff;

const DEFAULTS = Object.freeze({
  collection: null,
  operations: undefined, // the server's default: insert, update, delete
  stream: 'nexadb:changes',
  reorderWindowMs: 50,
  dedupWindowMs: 60000,
  maxQueue: 10000,
  maxQueueBytes: 64 * 1024 * 1024,
  maxStallMs: 10000,
  batchSize: 256,
  heartbeatMs: 1000,
  catchUp: false,
  closeTimeoutMs: 10000,
});

/**
 * @param {object} given relay() options
 * @returns {object} every option, checked
 */
function relayOptions(given) {
  if (given === null || typeof given !== 'object') throw new TypeError('relay options must be an object');
  const o = { ...DEFAULTS };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) o[k] = v;
  if (o.nexadb === undefined || o.nexadb === null) throw new TypeError('nexadb is required: a NexaClient, its options or a nexadb:// URL');
  if (o.redis === undefined && o.sink === undefined) throw new TypeError('redis is required: a redis:// URL, createClient() options or a node-redis client');
  if (o.collection !== null && (typeof o.collection !== 'string' || o.collection === '')) throw new TypeError('collection must be a non-empty string or null (every collection)');
  if (o.operations !== undefined && o.operations !== null) o.operations = parseOperations(o.operations);
  if (typeof o.stream !== 'string' || o.stream === '') throw new TypeError("stream must be a non-empty string (may hold '{collection}')");
  for (const k of ['reorderWindowMs', 'dedupWindowMs', 'maxStallMs', 'heartbeatMs', 'closeTimeoutMs']) {
    if (!WHOLE_MS(o[k]) && !(k === 'maxStallMs' && o[k] === Infinity)) throw new TypeError(`${k} must be a whole number of milliseconds`);
  }
  if (o.dedupWindowMs < 1) throw new TypeError('dedupWindowMs must be at least 1');
  if (o.heartbeatMs < 50) throw new TypeError('heartbeatMs must be at least 50');
  for (const k of ['maxQueue', 'maxQueueBytes', 'batchSize']) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new TypeError(`${k} must be a positive integer`);
  }
  if (o.maxLen !== undefined && o.retention !== undefined) throw new TypeError('give maxLen or retention, not both');
  if (o.maxLen !== undefined && (!Number.isInteger(o.maxLen) || o.maxLen < 1)) throw new TypeError('maxLen must be a positive integer (entries)');
  if (o.retention !== undefined && (!Number.isInteger(o.retention) || o.retention < 1)) throw new TypeError('retention must be a positive whole number of milliseconds');
  if (typeof o.catchUp !== 'boolean') throw new TypeError('catchUp must be a boolean');
  if (o.relayId === undefined) o.relayId = `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  if (typeof o.relayId !== 'string' || o.relayId === '') throw new TypeError('relayId must be a non-empty string');
  return o;
}

/**
 * The client the `nexadb` option names: a NexaClient used as it is, or one
 * of the relay's own (reconnecting for ever) from its options or a URL.
 * @returns {{client: object, owned: boolean}}
 */
function nexadbClient(nexadb) {
  if (typeof nexadb === 'object' && typeof nexadb.watch === 'function') return { client: nexadb, owned: false };
  const client = typeof nexadb === 'string'
    ? new NexaClient(nexadb, { reconnectAttempts: Infinity })
    : new NexaClient({ reconnectAttempts: Infinity, ...nexadb });
  return { client, owned: true };
}

module.exports = { relayOptions, nexadbClient };
