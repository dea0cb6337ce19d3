'use strict';
// catchUp: after a reconnect gap, the documents changed meanwhile are read
// (a request, so it takes a while) and must reach the consumer before the
// new live events. Until then what arrives is kept back here, in order:
// runs of events, items, and the catch-up slots they wait behind.

class Holdback {
  /**
   * @param {(evs: object[], conn: object) => void} take hands a run on
   * @param {(items: object[]) => void} takeItems hands gap/catchUp items on
   */
  constructor(take, takeItems) {
    this._take = take;
    this._takeItems = takeItems;
    this._queue = null; // [{evs, conn} | {items} | slot {items: null until filled}]; null: nothing held
    /** Something is held: what arrives must queue behind it. A field, read for every run of events. */
    this.active = false;
  }

  _hold(queue) {
    this._queue = queue;
    this.active = queue !== null;
  }

  /** A run of events, behind what is held. */
  run(evs, conn) {
    this._queue.push({ evs, conn });
  }

  /** Items, behind what is held. */
  items(items) {
    this._queue.push({ items });
  }

  /**
   * A place in the order for items not read yet: everything after it waits.
   * @returns {(items: object[]) => void} fills it, then hands on all that no longer waits
   */
  slot() {
    const slot = { items: null };
    if (this._queue === null) this._hold([]);
    this._queue.push(slot);
    return (items) => {
      slot.items = items;
      this.release(false);
    };
  }

  /** Hands on what was held, in order, up to a slot not yet filled (all: skipping those). */
  release(all) {
    const queue = this._queue;
    if (queue === null) return;
    this._hold(null);
    let k = 0;
    for (; k < queue.length; k++) {
      const h = queue[k];
      if (h.evs) this._take(h.evs, h.conn);
      else if (h.items) this._takeItems(h.items);
      else if (!all) break;
    }
    if (k < queue.length) this._hold(queue.slice(k));
  }

  clear() {
    this._hold(null);
  }

  /** Events held. */
  get events() {
    let n = 0;
    if (this._queue !== null) for (const h of this._queue) if (h.evs) n += h.evs.length;
    return n;
  }

  /** The newest `timestamp` among the events held and `t`. */
  newestTimestamp(t) {
    if (this._queue !== null) {
      for (const h of this._queue) {
        if (h.evs) for (const ev of h.evs) if (ev.timestamp > t) t = ev.timestamp;
      }
    }
    return t;
  }
}

module.exports = { Holdback };
