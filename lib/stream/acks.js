'use strict';
// Acknowledgements: the core stops reading a stream's socket at the bound
// and reads on as the stream acknowledges events; when, is the core's
// decision alone (src/core/session.c nx__conn_ack), and it reports both
// (Connection.onBackpressure). What counts as done with an event depends on
// the overflow policy; both kinds share one interface:
//   arrived(conn, n)  n events of `conn` joined the stream
//   notices(n)        n gap/catchUp items joined it (no connection holds them)
//   consumedOne()     the consumer took one item
//   turn()            once an event-loop turn after arrivals (see ArrivalAcks)

/**
 * Consumption is reported every REPORT_EVERY events and at the end of each
 * turn: often enough that the core hears of it while a long synchronous run
 * of consumption goes on (it reads ahead while the consumer still has work),
 * rarely enough that reports (one command to the worker thread each) cost
 * nothing next to the events.
 */
const REPORT_EVERY = 64;

/** A report the core could not take (Connection.ack false) is made again this much later. */
const RETRY_MS = 50;

/**
 * Calls `fn` once, RETRY_MS from now, unless a retry of `owner` is pending;
 * `owner._retry` holds it meanwhile. It does not keep the process alive.
 */
function retryLater(owner, fn) {
  if (owner._retry !== null) return;
  owner._retry = setTimeout(() => {
    owner._retry = null;
    fn();
  }, RETRY_MS);
  owner._retry.unref();
}

/**
 * 'pause': an event is acknowledged, to the connection that delivered it,
 * once consumed, so the core holds at most the bound of unconsumed events.
 */
class ConsumedAcks {
  constructor() {
    this._unacked = []; // [{conn, n}] delivered, not yet acknowledged, oldest first; conn null: notices
    this._consumed = 0;
    this._soon = false;
    this._retry = null;
  }

  arrived(conn, n) {
    const last = this._unacked[this._unacked.length - 1];
    if (last !== undefined && last.conn === conn) last.n += n;
    else this._unacked.push({ conn, n });
  }

  notices(n) {
    this.arrived(null, n);
  }

  consumedOne() {
    if (++this._consumed >= REPORT_EVERY) this.flush();
    else if (!this._soon) {
      this._soon = true;
      setImmediate(() => {
        this._soon = false;
        if (this._consumed > 0) this.flush();
      });
    }
  }

  turn() {}

  flush() {
    if (this._retry !== null) return; // the pending retry reports it all
    let n = this._consumed;
    this._consumed = 0;
    const unacked = this._unacked;
    while (n > 0 && unacked.length) {
      const seg = unacked[0];
      const k = Math.min(n, seg.n);
      if (seg.conn !== null && !seg.conn.ack(k)) {
        this._consumed += n; // kept, and reported again
        retryLater(this, () => this.flush());
        return;
      }
      seg.n -= k;
      n -= k;
      if (seg.n === 0) unacked.shift();
    }
  }
}

/**
 * 'error' and 'dropOldest': arrivals are acknowledged once a turn, after
 * the policy was applied, whether consumed or not: until then the core holds
 * at the bound, so what one turn brings is bounded, and the policy bounds
 * the buffer.
 */
class ArrivalAcks {
  constructor() {
    this._arrivals = 0;
    this._conn = null;
    this._retry = null;
  }

  arrived(conn, n) {
    // A new connection: the old one's arrivals are reported now (it is
    // closed by then, so there is nothing to keep).
    if (conn !== this._conn) {
      if (this._arrivals > 0) this._conn.ack(this._arrivals);
      this._arrivals = 0;
      clearTimeout(this._retry); // a retry was the old connection's
      this._retry = null;
    }
    this._arrivals += n;
    this._conn = conn;
  }

  notices() {}

  consumedOne() {}

  turn() {
    if (this._arrivals === 0) return;
    if (this._conn.ack(this._arrivals)) this._arrivals = 0;
    else retryLater(this, () => this.turn());
  }
}

/** @param {'pause'|'error'|'dropOldest'} policy */
function acksFor(policy) {
  return policy === 'pause' ? new ConsumedAcks() : new ArrivalAcks();
}

module.exports = { acksFor, ConsumedAcks, ArrivalAcks, REPORT_EVERY };
