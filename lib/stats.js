'use strict';
// The request counters of client.stats(). A stream's counters live on the
// stream itself (lib/change-stream.js; pauses in lib/stream/overflow.js),
// added to once per run of events.

class RequestCounters {
  constructor() {
    this.sent = 0;
    this.answered = 0;
    this.failedTotal = 0;
    this.failed = Object.create(null); // error code -> count
    /** A request's promise settles through these (bound once: no closure per request). */
    this.answer = (value) => {
      this.answered++;
      return value;
    };
    this.failure = (err) => {
      this.failedTotal++;
      const code = (err && typeof err.code === 'string' && err.code) || (err && err.name) || 'Error';
      this.failed[code] = (this.failed[code] || 0) + 1;
      throw err;
    };
  }

  /** @returns {{sent: number, answered: number, failed: Object<string, number>, inFlight: number}} */
  snapshot() {
    return { sent: this.sent, answered: this.answered, failed: { ...this.failed }, inFlight: this.sent - this.answered - this.failedTotal };
  }
}

module.exports = { RequestCounters };
