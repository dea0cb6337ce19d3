'use strict';
// Client options: defaults, validation, and connection strings
// (nexadb://user:password@host:port/database?requestTimeout=5000).

const DEFAULTS = Object.freeze({
  host: 'localhost',
  port: 6970,
  username: 'root',
  password: 'nexadb123',
  database: undefined,
  connectTimeout: 10000,
  requestTimeout: 30000,
  maxFrameBytes: 64 * 1024 * 1024,
  int64: 'number',
  autoReconnect: true,
  reconnectDelayMs: 100,
  reconnectMaxDelayMs: 5000,
  reconnectAttempts: 30,
  keepAliveMs: 30000,
  keepAliveTimeoutMs: 10000,
  highWaterMark: 1000,
  highWaterMarkBytes: 16 * 1024 * 1024,
  overflow: 'pause',
  reorderWindowMs: 0,
});

const NUMERIC = ['port', 'connectTimeout', 'requestTimeout', 'maxFrameBytes', 'reconnectDelayMs', 'reconnectMaxDelayMs',
  'reconnectAttempts', 'keepAliveMs', 'keepAliveTimeoutMs', 'highWaterMark', 'highWaterMarkBytes', 'reorderWindowMs'];
const OVERFLOW = ['pause', 'error', 'dropOldest'];
const CLIENT_OPTIONS = Object.freeze(Object.keys(DEFAULTS));
/** The options a watch() takes for itself (the stream options over the client's, and its own). */
const STREAM_OPTIONS = Object.freeze(['highWaterMark', 'highWaterMarkBytes', 'overflow', 'reorderWindowMs']);
const WATCH_OPTIONS = Object.freeze(['operations', 'signal', 'gaps', 'catchUp', ...STREAM_OPTIONS]);
const MAX_FRAME = 512 * 1024 * 1024 - 64;

/**
 * Options from a connection string. The password is percent-decoded; the
 * query string may set connectTimeout, requestTimeout, maxFrameBytes, int64.
 * @param {string} url
 */
function fromConnectionString(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    // The text may hold a password: never echo it.
    throw new TypeError('invalid connection string: expected nexadb://user:password@host:port/database');
  }
  if (u.protocol !== 'nexadb:') throw new TypeError(`invalid connection string: the scheme must be nexadb://, not ${u.protocol}//`);
  const o = {};
  if (u.hostname) o.host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (u.port) o.port = Number(u.port);
  if (u.username) o.username = percentDecode(u.username, 'the username');
  if (u.password) o.password = percentDecode(u.password, 'the password');
  const db = percentDecode(u.pathname.replace(/^\/+|\/+$/g, ''), 'the database');
  if (db) o.database = db;
  for (const [k, v] of u.searchParams) {
    if (NUMERIC.includes(k)) o[k] = Number(v);
    else if (k === 'int64' || k === 'overflow') o[k] = v;
    else if (k === 'autoReconnect') o[k] = v !== 'false' && v !== '0';
    else throw new TypeError(`invalid connection string: unknown option ${JSON.stringify(k)}`);
  }
  return o;
}

/** decodeURIComponent, with the documented TypeError; the text itself is never echoed (it may be the password). */
function percentDecode(text, what) {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new TypeError(`invalid connection string: ${what} holds a malformed percent escape`);
  }
}

/**
 * Throws a TypeError for the first key of `given` that is not in `known`,
 * naming the closest known name: a typo must not be ignored silently.
 * @param {object} given
 * @param {readonly string[]} known
 * @param {string} what e.g. 'NexaClient option', 'watch option'
 */
function rejectUnknown(given, known, what) {
  for (const k of Object.keys(given)) {
    if (known.includes(k)) continue;
    const near = closest(k, known);
    throw new TypeError(`unknown ${what} ${JSON.stringify(k)}${near ? ` (did you mean '${near}'?)` : ''}`);
  }
}

/** The known name within a third of its length in edits of `name` (case-insensitive), if any. */
function closest(name, known) {
  let best = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return bestD <= Math.max(2, Math.ceil(best.length / 3)) ? best : null;
}

function editDistance(a, b) {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** Node's timers hold at most this many ms; a longer delay fires after 1 ms. */
const MAX_TIMER_MS = 0x7fffffff;

/**
 * A per-call `timeout`: whole milliseconds up to the timer's range; 0 or
 * Infinity mean no limit. Returns the ms to arm (0: none).
 * @param {*} v
 * @param {string} operation for the message
 */
function callTimeout(v, operation) {
  if (typeof v !== 'number') throw new TypeError(`${operation}: timeout must be a number of milliseconds, not ${typeof v}`);
  if (v === Infinity) return 0;
  if (!Number.isInteger(v) || v < 0 || v > MAX_TIMER_MS) {
    throw new RangeError(`${operation}: timeout must be a whole number of milliseconds from 0 to ${MAX_TIMER_MS}, or Infinity (0 and Infinity: no limit); got ${v}`);
  }
  return v;
}

/** An AbortSignal, or undefined. */
function checkSignal(v, operation) {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || typeof v.aborted !== 'boolean' || typeof v.addEventListener !== 'function') {
    throw new TypeError(`${operation}: signal must be an AbortSignal`);
  }
  return v;
}

/**
 * @param {string|object} options
 * @param {object} [extra] applied over options (with a connection string)
 * @returns {object} every option, validated
 */
function parseOptions(options, extra) {
  let given = options === undefined ? {} : options;
  if (typeof given === 'string') given = fromConnectionString(given);
  if (given === null || typeof given !== 'object') throw new TypeError('options must be an object or a nexadb:// connection string');
  if (extra !== undefined && (extra === null || typeof extra !== 'object')) throw new TypeError('the second argument must be an options object');
  const o = { ...DEFAULTS };
  for (const src of [given, extra || {}]) {
    rejectUnknown(src, CLIENT_OPTIONS, 'NexaClient option');
    for (const k of CLIENT_OPTIONS) if (src[k] !== undefined) o[k] = src[k];
  }
  validate(o);
  return o;
}

function validate(o) {
  if (typeof o.host !== 'string' || o.host === '') throw new TypeError('host must be a non-empty string');
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new TypeError('port must be an integer from 1 to 65535');
  if (typeof o.username !== 'string') throw new TypeError('username must be a string');
  if (typeof o.password !== 'string') throw new TypeError('password must be a string');
  if (o.database !== undefined && (typeof o.database !== 'string' || o.database === '')) throw new TypeError('database must be a non-empty string');
  for (const k of ['connectTimeout', 'requestTimeout']) {
    if (!Number.isInteger(o[k]) || o[k] < 0 || o[k] > 0x7fffffff) throw new TypeError(`${k} must be a whole number of milliseconds (0: none)`);
  }
  // V8 strings stop short of 2^29 characters: a larger frame could not become a value anyway.
  if (!Number.isInteger(o.maxFrameBytes) || o.maxFrameBytes < 1024 || o.maxFrameBytes > MAX_FRAME) {
    throw new TypeError(`maxFrameBytes must be an integer from 1024 to ${MAX_FRAME}`);
  }
  if (!['number', 'bigint', 'auto', 'string'].includes(o.int64)) throw new TypeError("int64 must be 'number', 'bigint', 'auto' or 'string'");
  if (typeof o.autoReconnect !== 'boolean') throw new TypeError('autoReconnect must be a boolean');
  const ms = (k, min = 0) => {
    if (!Number.isInteger(o[k]) || o[k] < min || o[k] > 0x7fffffff) throw new TypeError(`${k} must be a whole number of milliseconds`);
  };
  ms('reconnectDelayMs', 1);
  ms('reconnectMaxDelayMs', 1);
  ms('keepAliveMs');
  ms('keepAliveTimeoutMs');
  if (o.reconnectAttempts !== Infinity && (!Number.isInteger(o.reconnectAttempts) || o.reconnectAttempts < 0)) {
    throw new TypeError('reconnectAttempts must be a non-negative integer or Infinity');
  }
  validateStreamOptions(o);
}

/** The options a watch() may set for itself, over the client's. */
function validateStreamOptions(o) {
  if (!Number.isInteger(o.highWaterMark) || o.highWaterMark < 1 || o.highWaterMark > 0x7fffffff) {
    throw new TypeError('highWaterMark must be a positive integer (events)');
  }
  if (!Number.isInteger(o.highWaterMarkBytes) || o.highWaterMarkBytes < 1024) throw new TypeError('highWaterMarkBytes must be an integer of at least 1024');
  if (!OVERFLOW.includes(o.overflow)) throw new TypeError(`overflow must be one of ${OVERFLOW.map((x) => `'${x}'`).join(', ')}`);
  if (!Number.isInteger(o.reorderWindowMs) || o.reorderWindowMs < 0 || o.reorderWindowMs > 60000) {
    throw new TypeError('reorderWindowMs must be a whole number of milliseconds from 0 to 60000');
  }
}

module.exports = {
  parseOptions, fromConnectionString, validateStreamOptions, rejectUnknown, callTimeout, checkSignal,
  DEFAULTS, STREAM_OPTIONS, WATCH_OPTIONS, MAX_TIMER_MS,
};
