'use strict';
// reorderWindowMs: the server sends each event from a thread of its own, so
// a burst may arrive out of order; `timestamp` is taken in order. Events are
// held up to the window and released in timestamp order: once an event has
// waited the window, every held event with a timestamp up to its own goes
// out, smallest first.

class ReorderWindow {
  /**
   * @param {number} ms the window
   * @param {(ev: object) => void} release called with each event, in order
   */
  constructor(ms, release) {
    this.ms = ms;
    this._release = release;
    this._held = []; // [{ts, ev}] sorted by ts, read from _head
    this._head = 0;
    this._arrivals = []; // [{ts, at}] in arrival order
    this._timer = null;
  }

  /** Events held. */
  get size() {
    return this._held.length - this._head;
  }

  add(ev) {
    const ts = typeof ev.timestamp === 'number' ? ev.timestamp : -Infinity;
    const held = this._held;
    let i = held.length;
    while (i > this._head && held[i - 1].ts > ts) i--;
    held.splice(i, 0, { ts, ev });
    this._arrivals.push({ ts, at: Date.now() });
    if (this._timer === null) this._arm();
  }

  _arm() {
    const first = this._arrivals[0];
    if (first === undefined) return;
    const wait = Math.max(0, first.at + this.ms - Date.now());
    this._timer = setTimeout(() => {
      this._timer = null;
      this._releaseDue(false);
      this._arm();
    }, wait);
    this._timer.unref();
  }

  /** Releases everything held now, in timestamp order. */
  flush() {
    this._releaseDue(true);
  }

  _releaseDue(all) {
    const now = Date.now();
    let upTo = -Infinity;
    const arr = this._arrivals;
    let k = 0;
    while (k < arr.length && (all || arr[k].at + this.ms <= now)) {
      if (arr[k].ts > upTo) upTo = arr[k].ts;
      k++;
    }
    if (k > 0) arr.splice(0, k);
    const held = this._held;
    while (this._head < held.length && (all || held[this._head].ts <= upTo)) {
      const { ev } = held[this._head];
      held[this._head++] = undefined;
      this._release(ev);
    }
    if (this._head === held.length) {
      this._held = [];
      this._head = 0;
    }
  }

  /** Drops what is held and stops the timer. */
  clear() {
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
    this._held = [];
    this._head = 0;
    this._arrivals = [];
  }

  /** The newest timestamp held and `t`. */
  newestTimestamp(t) {
    for (let i = this._head; i < this._held.length; i++) if (this._held[i].ts > t) t = this._held[i].ts;
    return t;
  }
}

module.exports = { ReorderWindow };
