'use strict';
// Items oldest first (a stream's, for its consumer; the dev server's outbox
// under blockingDelivery): an array read
// from a head index (shifting an array per item would be O(n)), compacted
// once the consumed part is the larger half.

class EventBuffer {
  constructor() {
    this.items = [];
    this.head = 0;
  }

  /** Items waiting. */
  get length() {
    return this.items.length - this.head;
  }

  /**
   * A run of events the caller hands over and no longer touches: adopted as
   * the buffer when it is empty (the common case, a consumer busy
   * elsewhere), else appended.
   * @param {object[]} run
   */
  pushRun(run) {
    if (this.items.length === 0) this.items = run;
    else for (let i = 0; i < run.length; i++) this.items.push(run[i]);
  }

  push(item) {
    this.items.push(item);
  }

  /** The oldest item, taken out; undefined when empty. */
  shift() {
    const items = this.items;
    if (this.head >= items.length) return undefined;
    const item = items[this.head];
    items[this.head++] = undefined;
    if (this.head === items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= items.length) {
      this.compact();
    }
    return item;
  }

  /** The oldest item, left in place. */
  peek() {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Puts an item back in front of the oldest. */
  unshift(item) {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  /** Lets go of the slots of items taken, once they are the larger part (after many taken at once). */
  release() {
    if (this.head > 0 && this.head * 2 >= this.items.length) this.compact();
  }

  compact() {
    this.items = this.items.slice(this.head);
    this.head = 0;
  }

  clear() {
    this.items = [];
    this.head = 0;
  }

  /** How many items `test` accepts. */
  countWhere(test) {
    let n = 0;
    for (let i = this.head; i < this.items.length; i++) if (test(this.items[i])) n++;
    return n;
  }

  /** The newest `timestamp` among the items and `t`. */
  newestTimestamp(t) {
    for (let i = this.head; i < this.items.length; i++) {
      const ts = this.items[i].timestamp;
      if (ts > t) t = ts;
    }
    return t;
  }
}

module.exports = { EventBuffer };
