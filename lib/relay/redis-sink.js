'use strict';
// The Redis Streams sink: where the relay's entries go. A sink is any object
// with these methods (see the README and relay.d.ts, "Sink"):
//   open()                      connect
//   append(entries)             append a batch in order, at most once per
//                               entry key; resolves {appended, duplicates};
//                               rejects when nothing may be assumed written
//                               (the relay retries the whole batch: the keys
//                               make that safe)
//   putRecord(relayId, record)  store this relay's liveness record
//   records()                   every relay's record, id -> record
//   close()
const crypto = require('crypto');
const { redisClient, closeClient, fieldPairs } = require('./redis-client');
const { APPEND_LUA } = require('./append-script');
const { settlesBy, TIMED_OUT } = require('./time-bound');

/** How long a close waits for the replies of commands sent before it. */
const CLOSE_GRACE_MS = 500;

const APPEND_SHA = crypto.createHash('sha1').update(APPEND_LUA).digest('hex');

class RedisSink {
  /**
   * @param {object} opts
   * @param {string|object} opts.redis URL, createClient() options or a node-redis client
   * @param {number} opts.dedupWindowMs how long an entry's key is kept
   * @param {number} [opts.maxLen] trim to about this many entries (MAXLEN ~)
   * @param {number} [opts.retention] trim entries older than this many ms (MINID ~)
   * @param {string} opts.stateKey the hash holding the relays' records
   * @param {(err: Error) => void} [opts.onError] connection errors (node-redis reconnects by itself)
   */
  constructor(opts) {
    this._given = opts.redis;
    this._window = String(opts.dedupWindowMs);
    this._maxLen = opts.maxLen;
    this._retention = opts.retention;
    this._stateKey = opts.stateKey;
    this._onError = opts.onError || (() => {});
    this._client = null;
    this._owned = false;
  }

  async open() {
    const { client, owned } = await redisClient(this._given, { onError: (err) => this._onError(err) });
    this._client = client;
    this._owned = owned;
  }

  _trim() {
    if (this._maxLen !== undefined) return ['MAXLEN', String(this._maxLen)];
    if (this._retention !== undefined) return ['MINID', `${Math.max(0, Date.now() - this._retention)}-0`];
    return ['', ''];
  }

  /**
   * @param {Array<{stream: string, key: string, fields: string[]}>} entries
   * @returns {Promise<{appended: number, duplicates: number}>}
   */
  async append(entries) {
    const keys = [];
    const argv = [this._window, ...this._trim()];
    for (const e of entries) {
      keys.push(e.key, e.stream);
      argv.push(String(e.fields.length));
      for (const f of e.fields) argv.push(f);
    }
    let ids;
    try {
      ids = await this._client.sendCommand(['EVALSHA', APPEND_SHA, String(keys.length), ...keys, ...argv]);
    } catch (err) {
      // A restarted Redis has lost its script cache.
      if (!/NOSCRIPT/.test(String(err && err.message))) throw err;
      ids = await this._client.sendCommand(['EVAL', APPEND_LUA, String(keys.length), ...keys, ...argv]);
    }
    let appended = 0;
    for (const id of ids) if (id !== '') appended++;
    return { appended, duplicates: ids.length - appended };
  }

  async putRecord(relayId, record) {
    await this._client.sendCommand(['HSET', this._stateKey, relayId, JSON.stringify(record)]);
  }

  async records() {
    const out = new Map();
    for (const [id, json] of fieldPairs(await this._client.sendCommand(['HGETALL', this._stateKey]))) {
      try { out.set(String(id), JSON.parse(json)); } catch (_) { /* not ours */ }
    }
    return out;
  }

  async removeRecords(ids) {
    if (ids.length) await this._client.sendCommand(['HDEL', this._stateKey, ...ids]);
  }

  /** Closes a connection of its own; one that Redis stopped answering is dropped after CLOSE_GRACE_MS. */
  async close() {
    const client = this._client;
    this._client = null;
    if (!client || !this._owned) return;
    if (await settlesBy(closeClient(client), Date.now() + CLOSE_GRACE_MS) === TIMED_OUT) await closeClient(client, { now: true });
  }
}

module.exports = { RedisSink };
