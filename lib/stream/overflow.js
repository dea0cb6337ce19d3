'use strict';
// What a stream does at its bound (highWaterMark), by its `overflow` policy.
// 'pause': the core stops reading the socket until the consumer catches up
// (acks.js); here those pauses are only counted and logged. 'error' and
// 'dropOldest': arrivals are acknowledged every turn whether consumed or
// not, so the buffer is judged once a turn, after the consumer has had its
// own: 'error' ends the stream, 'dropOldest' drops the oldest events (and
// catchUp items, never a gap item) and says where (a gap).
const { NexaOverflowError } = require('../errors');
const { debug, streamName } = require('../diagnostics');

/**
 * A gap item is the stream's own word on what it missed: the consumer gets
 * every one, so 'dropOldest' never drops it. catchUp items are dropped like
 * events (a catch-up may bring 100,000 documents; the bound must hold), and
 * counted in the gap that stands for them.
 */
function isGap(item) {
  return item.operationType === 'gap';
}

class Overflow {
  // Private: a stream's JSON.stringify and inspect show its buffer and gap
  // tracker once, not again through this piece.
  #policy;
  #hwm;
  #collection;
  #buf;
  #acks;
  #gapTracker;
  #closed;
  #end;
  #dropped;
  #reportDrops;
  #turnPending = false;

  /**
   * @param {'pause'|'error'|'dropOldest'} policy
   * @param {number} highWaterMark
   * @param {object} how
   * @param {string|null} how.collection named in the error and the log
   * @param {import('./event-buffer').EventBuffer} how.buf what waits for the consumer
   * @param {{turn: () => void}} how.acks told once a turn (acks.js ArrivalAcks)
   * @param {import('./gap-tracker').GapTracker} how.gapTracker announces the drops, and makes their gap item
   * @param {() => boolean} how.closed
   * @param {(err: Error) => void} how.end ends the stream ('error')
   * @param {(count: number) => void} how.dropped `count` events were just dropped (before their gap is announced)
   * @param {(count: number) => void} how.reportDrops once a turn: `count` events were dropped in it
   */
  constructor(policy, highWaterMark, { collection, buf, acks, gapTracker, closed, end, dropped, reportDrops }) {
    this.#policy = policy;
    this.#hwm = highWaterMark;
    this.#collection = collection;
    this.#buf = buf;
    this.#acks = acks;
    this.#gapTracker = gapTracker;
    this.#closed = closed;
    this.#end = end;
    this.#dropped = dropped;
    this.#reportDrops = reportDrops;
    /** 'pause': times the core stopped reading because the stream held its bound unconsumed. */
    this.pauses = 0;
  }

  /**
   * Under 'error' and 'dropOldest', called as events arrive: once a turn the
   * bound is judged after the consumer has had its turn (a burst it takes
   * before the next one is no overflow), then the arrivals are acknowledged
   * and drops reported.
   */
  turnSoon() {
    if (this.#turnPending) return;
    this.#turnPending = true;
    setImmediate(() => {
      this.#turnPending = false;
      const dropped = this.#buf.length > this.#hwm && !this.#closed() ? this.#overflow() : 0;
      this.#acks.turn();
      if (dropped > 0) this.#reportDrops(dropped);
    });
  }

  /**
   * The buffer holds more than highWaterMark after the consumer's turn.
   * @returns {number} how many events were dropped
   */
  #overflow() {
    if (this.#policy === 'error') {
      this.#end(new NexaOverflowError(`change stream on ${streamName(this.#collection)} ` +
        `holds more than highWaterMark (${this.#hwm}) events: the consumer is too slow`, { collection: this.#collection, highWaterMark: this.#hwm }));
      return 0;
    }
    // dropOldest: from the head, events are dropped until the buffer holds
    // highWaterMark of them; the gap items met on the way stay, in their
    // place (not counted), and each run of dropped events becomes a gap item
    // where it was (the item of an earlier drop right before it grows instead).
    const buf = this.#buf;
    let over = buf.countWhere((item) => !isGap(item)) - this.#hwm;
    const front = []; // what stays ahead of the events kept, in order
    let run = null;
    let total = 0;
    const endRun = () => {
      if (run === null) return;
      this.#dropped(run.count);
      const item = this.#gapTracker.dropped(run.count, run.since, run.until, run.held);
      if (item !== null) front.push(item);
      total += run.count;
      run = null;
    };
    while (over > 0 && buf.length > 0) {
      const item = buf.shift();
      if (isGap(item)) {
        endRun();
        front.push(item);
        continue;
      }
      if (run === null) {
        const held = front.length > 0 && this.#gapTracker.isDropGap(front[front.length - 1]) ? front.pop() : null;
        run = { count: 0, since: Infinity, until: -Infinity, held };
      }
      run.count++;
      over--;
      if (item.timestamp < run.since) run.since = item.timestamp;
      if (item.timestamp > run.until) run.until = item.timestamp;
    }
    endRun();
    for (let i = front.length - 1; i >= 0; i--) buf.unshift(front[i]);
    buf.release(); // a consumer that never reads must not let the array grow without bound
    return total;
  }

  /**
   * The core stopped reading this stream's socket at its bound, or reads
   * on: it decides, from what this stream acknowledged. Under 'pause' that
   * is the consumer holding the stream back: counted and logged. Under the
   * other policies arrivals are acknowledged every turn and such a pause
   * lasts a turn: not the consumer's doing, so neither.
   */
  backpressure(paused) {
    if (this.#policy !== 'pause') return;
    if (paused) this.pauses++;
    debug('stream on %s: %s (%d buffered, highWaterMark %d)', streamName(this.#collection), paused ? 'paused reading' : 'resumed reading', this.#buf.length, this.#hwm);
  }
}

module.exports = { Overflow };
