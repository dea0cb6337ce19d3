'use strict';
// Waiting on Redis with a bound: a Redis that stopped answering (hung,
// SIGSTOPped, partitioned without a reset) never settles a command, and
// close() must settle all the same.

const TIMED_OUT = Symbol('timed out');

/**
 * What `promise` resolves with (undefined if it rejects), or TIMED_OUT once
 * the clock reaches `at` (epoch ms), whichever comes first. A promise left
 * behind is not cancelled: its outcome is ignored.
 * @param {Promise<*>|*} promise
 * @param {number} at
 * @returns {Promise<*>}
 */
function settlesBy(promise, at) {
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(resolve, Math.max(0, at - Date.now()), TIMED_OUT); });
  return Promise.race([Promise.resolve(promise).catch(() => undefined), late]).finally(() => clearTimeout(timer));
}

/**
 * A deadline that can only be brought forward, and what waits on it: race()
 * resolves TIMED_OUT once it passes, in the middle of whatever it waits on.
 * Each race waits on a promise of its own, let go when it settles: the
 * writer races once per append for the relay's whole life.
 */
class Deadline {
  constructor() {
    /** Epoch ms; Infinity until set. */
    this.at = Infinity;
    this._timer = null;
    this._done = false;
    this._passed = false;
    this._waiting = new Set(); // wake-ups of the races under way
    this._pass = () => {
      this._passed = true;
      for (const wake of this._waiting) wake();
      this._waiting.clear();
    };
  }

  /** Passes at `at` (epoch ms) at the latest. */
  by(at) {
    if (at >= this.at) return;
    this.at = at;
    clearTimeout(this._timer);
    if (this._done) return;
    this._timer = setTimeout(this._pass, Math.max(0, at - Date.now()));
    this._timer.unref(); // what waits on it holds the process up, if anything should
  }

  /** What `promise` resolves with (a rejection is thrown), or TIMED_OUT once the deadline passes. */
  race(promise) {
    if (this._passed) return Promise.race([promise, TIMED_OUT]);
    let wake;
    const passed = new Promise((resolve) => { wake = () => resolve(TIMED_OUT); });
    this._waiting.add(wake);
    return Promise.race([promise, passed]).finally(() => this._waiting.delete(wake));
  }

  /** Waits `ms`, or until the deadline passes (TIMED_OUT); no timer is left behind either way. */
  async sleep(ms) {
    let timer;
    const slept = new Promise((resolve) => { timer = setTimeout(resolve, ms); });
    try {
      return await this.race(slept);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Nothing waits on it any more: no timer left behind, now or later. */
  clear() {
    this._done = true;
    clearTimeout(this._timer);
  }
}

module.exports = { settlesBy, TIMED_OUT, Deadline };
