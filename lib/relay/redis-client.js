'use strict';
// The `redis` package (node-redis) is an optional peer dependency: it is
// loaded here, once, and a missing install is one line saying what to do.

let redis;
try {
  redis = require('redis');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && /'redis'/.test(err.message)) {
    throw new Error("nexaclient/relay needs the redis package: npm install redis");
  }
  throw err;
}

/**
 * Reconnects once connected (100 ms doubling to 5 s, with jitter); the
 * first connection is not retried, as NexaClient's first connect() is not:
 * a Redis that is not there is an error at once.
 */
function reconnectStrategy(state) {
  return (retries, cause) => (state.connected ? Math.min(100 * 2 ** Math.min(retries, 6), 5000) * (0.5 + Math.random() / 2) : cause);
}

/**
 * A connected node-redis client for the `redis` option: a URL string
 * (redis://host:port), createClient() options, or a client of yours (then
 * `duplicate()`d when `ownConnection`, else used as it is and never closed).
 * Commands fail at once while disconnected (no offline queue): the callers
 * retry with their own backoff, so nothing waits unbounded in node-redis.
 * @param {string|object} given
 * @param {{ownConnection?: boolean, onError: (err: Error) => void}} how
 * @returns {Promise<{client: object, owned: boolean}>}
 */
async function redisClient(given, { ownConnection = false, onError }) {
  let client;
  const state = { connected: false };
  if (given && typeof given === 'object' && typeof given.sendCommand === 'function') {
    if (!ownConnection) return { client: given, owned: false };
    client = given.duplicate({ disableOfflineQueue: true });
  } else if (typeof given === 'string') {
    client = redis.createClient({ url: given, disableOfflineQueue: true, socket: { reconnectStrategy: reconnectStrategy(state) } });
  } else if (given && typeof given === 'object') {
    client = redis.createClient({
      disableOfflineQueue: true, ...given, socket: { reconnectStrategy: reconnectStrategy(state), ...given.socket },
    });
  } else {
    throw new TypeError('redis must be a redis:// URL, createClient() options or a node-redis client');
  }
  client.on('error', onError); // node-redis emits every socket error; unlistened it would throw
  try {
    await client.connect();
  } catch (err) {
    // node-redis wraps the socket's error (ECONNREFUSED, ...) when its strategy gives up: the cause is what to say.
    throw (err && (err.originalError || err.socketError)) || err;
  }
  state.connected = true;
  return { client, owned: true };
}

/** Ends a client made by redisClient(): `close()` in node-redis 5+, `quit()` before. */
async function closeClient(client, { now = false } = {}) {
  try {
    if (now) {
      if (typeof client.destroy === 'function') client.destroy();
      else await client.disconnect();
    } else if (typeof client.close === 'function') {
      await client.close();
    } else {
      await client.quit();
    }
  } catch (_) { /* already closed */ }
}

/**
 * A reply of field/value pairs (HGETALL, XINFO GROUPS' entries) as [field,
 * value] pairs: RESP2 answers a flat array, RESP3 clients a map object.
 * @returns {Array<[*, *]>}
 */
function fieldPairs(reply) {
  if (!Array.isArray(reply)) return Object.entries(reply || {});
  const pairs = [];
  for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([reply[i], reply[i + 1]]);
  return pairs;
}

module.exports = { redisClient, closeClient, fieldPairs };
