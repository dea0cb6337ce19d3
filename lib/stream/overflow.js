'use strict';
// What a stream does at its bound (highWaterMark), by its `overflow` policy.
// 'pause': the core stops reading the socket until the consumer catches up
// (acks.js); here those pauses are only counted and logged. 'error' and
// 'dropOldest': arrivals are acknowledged every turn whether consumed or
// not, so the buffer is judged once a turn, after the consumer has had its
// own: 'error' ends the stream, 'dropOldest' drops the oldest events and
// says where (a gap).
const { NexaOverflowError } = require('../errors');
const { debug, streamName } = require('../diagnostics');

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
    // dropOldest: the gap item of an earlier drop, still at the head, is not dropped but grows.
    const buf = this.#buf;
    const held = this.#gapTracker.isDropGap(buf.peek()) ? buf.shift() : null;
    const { count, since, until } = buf.dropOldest(this.#hwm);
    if (count === 0) {
      if (held !== null) buf.unshift(held);
      return 0;
    }
    this.#dropped(count);
    const item = this.#gapTracker.dropped(count, since, until, held);
    if (item !== null) buf.unshift(item);
    return count;
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
