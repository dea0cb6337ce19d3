'use strict';
// The requests of one request channel, in call order: sent at once while
// the channel is open and nothing waits before them, else held until it
// opens (or failed with its error), each still bounded by its own timeout
// and signal while it waits.
const { bound, abortError } = require('./abort');

class RequestQueue {
  /** @param {import('./channel').Channel} channel */
  constructor(channel) {
    this._channel = channel;
    this._waiting = []; // {type, payload, context, signal, timeout, started, resolve, reject, unbound}
    this._flushing = false; // a flush waits for the channel to open
  }

  /**
   * Sends a request (its arguments already checked); resolves with the answer.
   * @param {number} type
   * @param {object} payload
   * @param {object} context what its errors say
   * @param {number} timeout ms, 0: none
   * @param {AbortSignal|undefined} signal
   */
  send(type, payload, context, timeout, signal) {
    const ch = this._channel;
    if (ch.state === 'open' && !this._flushing) return ch.conn.request(type, payload, context, { timeout, signal });
    return new Promise((resolve, reject) => {
      const item = { type, payload, context, signal, timeout, started: Date.now(), resolve, reject, unbound: null };
      const drop = (err) => {
        const i = this._waiting.indexOf(item);
        if (i >= 0) this._waiting.splice(i, 1);
        item.unbound();
        reject(err);
      };
      item.unbound = bound(timeout, signal, () => drop(ch.waitTimeoutError(timeout, context)), () => drop(abortError(signal, context)));
      this._waiting.push(item);
      if (!this._flushing) this._flushWhenOpen();
    });
  }

  /** Sends what waits, in order, once the channel is open; or fails it all with the channel's error. */
  _flushWhenOpen() {
    this._flushing = true;
    this._channel.whenOpen().then((conn) => {
      const items = this._takeAll();
      for (const it of items) {
        const left = it.timeout > 0 ? Math.max(1, it.timeout - (Date.now() - it.started)) : 0;
        conn.request(it.type, it.payload, it.context, { timeout: left, signal: it.signal, configuredTimeout: it.timeout })
          .then(it.resolve, it.reject);
      }
    }, (err) => {
      for (const it of this._takeAll()) it.reject(err);
    });
  }

  _takeAll() {
    this._flushing = false;
    const items = this._waiting;
    this._waiting = [];
    for (const it of items) it.unbound();
    return items;
  }
}

module.exports = { RequestQueue };
