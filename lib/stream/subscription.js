'use strict';
// A stream's subscription on the server: a Channel (a connection that is
// dialled again when lost) that sends SUBSCRIBE_CHANGES on every open and
// UNSUBSCRIBE_CHANGES on close, each traced and bounded by requestTimeout
// like every request: a server that never answers must not hang `ready`, a
// reconnect or close(). The connection's events go straight to the
// stream's hooks, not through here.
const { MSG } = require('../connection');
const { Channel } = require('../channel');
const { channels, publish, traceRequest, nextRequestId, debug, streamName } = require('../diagnostics');

class Subscription {
  #stream; // private: a stream stays free of cycles for JSON.stringify and inspect

  /**
   * @param {object} opts the stream's connection options (lib/options.js)
   * @param {import('../change-stream').ChangeStream} stream named in diagnostics messages
   * @param {string|null} collection null: every collection
   * @param {string[]} operations
   * @param {object} hooks the Channel's hooks but onOpen (lib/channel.js)
   */
  constructor(opts, stream, collection, operations, hooks) {
    this.#stream = stream;
    this._collection = collection;
    this._operations = operations;
    this._timeout = opts.requestTimeout;
    this._channel = new Channel({ ...opts, stream: true }, { ...hooks, onOpen: (conn) => this._subscribe(conn) });
  }

  /** Dials and subscribes. Resolves with the server's answer; rejects if either failed. */
  start() {
    return this._channel.start();
  }

  /** How many times the subscription was made again after a loss. */
  get reconnects() {
    return this._channel.reconnects;
  }

  /** UNSUBSCRIBE (when open), then the connection is closed. Resolves once it is. */
  close() {
    const collection = this._collection;
    return this._channel.close(true, (conn) => {
      const context = { operation: 'unwatch', collection };
      traceRequest(() => conn.request(MSG.UNSUBSCRIBE_CHANGES, {}, context, { timeout: this._timeout }),
        () => ({ ...context, address: conn.address, requestId: nextRequestId() })).catch(() => {});
    });
  }

  /** The connection is closed at once (the stream ended with an error). */
  abandon() {
    this._channel.close(false);
  }

  async _subscribe(conn) {
    const s = this.#stream;
    const collection = this._collection;
    const operations = this._operations;
    const context = { operation: 'watch', collection };
    const answer = await traceRequest(() => conn.request(MSG.SUBSCRIBE_CHANGES, { collection, operations }, context, { timeout: this._timeout }),
      () => ({ operation: 'subscribe', collection, address: conn.address, requestId: nextRequestId() }));
    debug('stream on %s: subscribed (%s) on connection #%d', streamName(collection), operations.join(', '), conn.id);
    publish(channels.subscribe, () => ({
      stream: s, collection, operations, address: conn.address, resubscribe: this._channel.everOpened,
    }));
    return answer;
  }
}

module.exports = { Subscription };
