'use strict';
// What a stream tells the outside as its connection comes and goes: its
// 'disconnect', 'reconnect' and 'gap' events, the diagnostics channels and
// the NODE_DEBUG=nexaclient log (lib/diagnostics.js), together, so that
// each report says the same in all three. Messages are built only when a
// channel has a subscriber.
const { channels, publish, debug, streamName } = require('../diagnostics');

class Reports {
  #stream; // private: a stream stays free of cycles for JSON.stringify and inspect

  /**
   * @param {import('../change-stream').ChangeStream} stream emits the events, and is named in the messages
   * @param {{host: string, port: number}} opts the server's address
   */
  constructor(stream, opts) {
    this.#stream = stream;
    this._address = `${opts.host}:${opts.port}`;
  }

  /** The connection was lost; it is being dialled again. */
  disconnected(error) {
    const s = this.#stream;
    debug('stream on %s: disconnected (%s), reconnecting', streamName(s.collection), error && error.message);
    publish(channels.disconnect, () => ({ stream: s, collection: s.collection, address: this._address, error }));
    s.emit('disconnect', { error });
  }

  /** Subscribed again after a loss. */
  reconnected(info) {
    const s = this.#stream;
    debug('stream on %s: re-subscribed after %d attempts, %d ms without a subscription', streamName(s.collection), info.attempts, info.downtimeMs);
    publish(channels.reconnect, () => ({ stream: s, collection: s.collection, address: this._address, ...info }));
    s.emit('reconnect', info);
  }

  /** Every gap, in-band or not. */
  gap(gap) {
    const s = this.#stream;
    publish(channels.gap, () => ({ stream: s, collection: s.collection, gap }));
    s.emit('gap', gap);
  }

  /** The stream has ended (error null: on purpose). Its 'close' event comes later, once everything is settled. */
  closed(error) {
    const s = this.#stream;
    debug('stream on %s: closed%s', streamName(s.collection), error ? ` (${error.message})` : '');
    publish(channels.close, () => ({ stream: s, collection: s.collection, error }));
  }
}

module.exports = { Reports };
