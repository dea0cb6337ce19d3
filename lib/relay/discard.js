'use strict';
// What the reader discards once the sink has held it up longer than
// maxStallMs, until the sink takes entries again: then one gap entry stands
// in its place. The stream's own holes met meanwhile (a reconnect, say) are
// kept too: nothing else may be discarded to record them.
const { gapItem } = require('../stream/gaps');

class Discard {
  /** @param {number} since where the hole begins: the newest change queued before it (epoch s) */
  constructor(since) {
    this.since = since;
    this._from = Infinity; // the oldest change discarded (s): it may be older than `since`
    this._until = null;
    /** Changes discarded. */
    this.count = 0;
    /** Their collections: with '{collection}' streams, the gap goes to each one's stream. */
    this.collections = new Set();
    /** The stream's gap items met while discarding, in order. */
    this.holes = [];
  }

  /**
   * An item read while discarding.
   * @returns {boolean} whether it was a change (counted), not one of the stream's gaps (kept)
   */
  take(item) {
    if (item.operationType === 'gap') {
      this.holes.push(item);
      return false;
    }
    this.count++;
    this._until = typeof item.timestamp === 'number' ? item.timestamp : Date.now() / 1000;
    this._from = Math.min(this._from, this._until);
    if (item.ns && item.ns.coll) this.collections.add(item.ns.coll);
    return true;
  }

  /**
   * The relayStall gap item for what was discarded (count > 0), spanning the stream's holes too.
   * @param {string|null} collection
   */
  gapItem(collection) {
    return gapItem(collection, 'relayStall',
      Math.min(this.since, this._from, ...this.holes.map((gap) => gap.since)),
      Math.max(this._until, ...this.holes.map((gap) => gap.until)),
      { count: this.count });
  }

  /** The connection losses among the holes: the relayStall gap is their gap too. */
  get reconnects() {
    return this.holes.filter((gap) => gap.reason === 'reconnect').length;
  }
}

module.exports = { Discard };
