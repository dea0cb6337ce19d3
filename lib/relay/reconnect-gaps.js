'use strict';
// Gap items for a change stream that does not yield them in band (a client
// without the `gaps` watch option): built from its 'disconnect' and
// 'reconnect' events, and put in the place the hole has among the items.
// What was buffered when the connection dropped came before the hole, what
// arrives after 'reconnect' after it.

class ReconnectGaps {
  /**
   * @param {import('events').EventEmitter & {buffered: number}} stream
   * @param {string|null} collection
   * @param {(gap: object) => void} onReady called with a gap once its place is reached
   */
  constructor(stream, collection, onReady) {
    this._collection = collection;
    this._onReady = onReady;
    this._pulled = 0; // items the reader has taken
    this._newest = null; // the newest timestamp taken
    this._open = null; // {at, since} between 'disconnect' and 'reconnect'
    this._due = []; // [{at, gap}] reconnected, waiting for the reader to reach `at`
    stream.on('disconnect', () => {
      if (this._open) return;
      this._open = { at: this._pulled + stream.buffered, since: this._newest === null ? Date.now() / 1000 : this._newest };
    });
    stream.on('reconnect', () => {
      if (!this._open) return;
      const { at, since } = this._open;
      this._open = null;
      const gap = { operationType: 'gap', ns: { db: 'nexadb', coll: collection }, reason: 'reconnect', since, until: Date.now() / 1000 };
      this._due.push({ at, gap });
      this._release();
    });
  }

  /** The reader is about to take an item: gaps whose place this is go first (through onReady). */
  beforeItem() {
    this._release();
  }

  /** The reader took `item`. */
  afterItem(item) {
    this._pulled++;
    if (typeof item.timestamp === 'number' && (this._newest === null || item.timestamp > this._newest)) this._newest = item.timestamp;
  }

  _release() {
    while (this._due.length > 0 && this._due[0].at <= this._pulled) this._onReady(this._due.shift().gap);
  }
}

module.exports = { ReconnectGaps };
