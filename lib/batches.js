'use strict';
// The one receiver of the core's batches (src/binding/handover.cc hands each
// over on the main thread, Handover::Hand). It owns what every connection of
// this environment shares: the table of live connections, the tape decoder
// and the typed arrays batches arrive in; it tells each connection what is its
// own through the connection's public methods.
const { addon, constants } = require('./native');
const { TapeDecoder } = require('./tape');

const ITEM = constants.item;
const INT64 = constants.int64;
const MAX_CONN_ID = 0xffffffff;

class BatchDispatcher {
  constructor() {
    this._live = new Map(); // id -> Connection without its terminal item
    this._nextId = 1;
    this._started = false;
    this._tape = new TapeDecoder();
    /** Uint32Array: entry i is entries[5i .. 5i+4] = kind, connId, the request id (a change run: its payload bytes), msgType, how many of its values are next on the tape (a change run: its events; else 0 or 1); reused from batch to batch. */
    this._entries = null;
  }

  /** Gives `conn` an id and routes its items to it; starts the core's thread on first use. */
  add(conn) {
    if (!this._started) {
      addon.start(this._onBatch.bind(this));
      this._started = true;
    }
    let id = this._nextId;
    while (this._live.has(id)) id = id === MAX_CONN_ID ? 1 : id + 1; // after a wrap: never a live connection's id
    this._nextId = id === MAX_CONN_ID ? 1 : id + 1;
    this._live.set(id, conn);
    return id;
  }

  /** `conn` will get no more items (its open failed before reaching the core). */
  remove(id) {
    this._live.delete(id);
  }

  /**
   * n entries; values[i] is the value an entry has off the tape (a failure's
   * reason, a terminal item's [code, message, payload]; values is undefined
   * when no entry has one); events and answers are next on the batch's tape
   * (str: its text segments). arrays: new typed arrays when they changed,
   * arrays[4] true when made for this batch alone.
   */
  _onBatch(n, values, str, arrays) {
    if (arrays !== undefined) {
      this._entries = arrays[0];
      this._tape.arrays(arrays[1], arrays[2], arrays[3]);
    }
    const e = this._entries;
    try {
      if (str !== undefined) this._tape.begin(str);
      for (let i = 0, at = 0; i < n; i++, at += 5) {
        if (e[at] !== ITEM.CHANGE) {
          this._item(i, values);
          continue;
        }
        // A change run, most entries: its events from the tape, read even when
        // nobody wants them (the tape announces table entries).
        const conn = this._live.get(e[at + 1]);
        try {
          const evs = this._tape.events(e[at + 4], conn === undefined ? INT64.number : conn.int64Mode);
          if (conn !== undefined) conn.onChanges(evs, conn, e[at + 2]); // the run's payload bytes
        } catch (err) {
          rethrowLater(err);
        }
      }
    } finally {
      this._tape.end(); // the batch's text is the events' now, not the decoder's
      if (arrays !== undefined && arrays[4]) {
        // Made for this batch alone (too large to reuse): not kept past it.
        this._entries = null;
        this._tape.arrays(null, null, null);
      }
    }
  }

  /** Entry i, not a change run: an item with its payload from the tape or its value from values[i]. */
  _item(i, values) {
    const e = this._entries;
    const at = 5 * i;
    const kind = e[at];
    const conn = this._live.get(e[at + 1]);
    try {
      let value = values === undefined ? undefined : values[i];
      if (e[at + 4] !== 0) {
        // Read even when nobody wants it: the tape announces table entries.
        const payload = this._tape.payload(conn === undefined ? INT64.number : conn.int64Mode);
        if (value === undefined) value = payload;
        else value[2] = payload; // a refused handshake's answer, after [code, message]
      }
      if (conn === undefined) return;
      switch (kind) {
        case ITEM.REPLY: conn.answered(e[at + 2], e[at + 3], value); break;
        case ITEM.REPLY_FAILED: conn.answerFailed(e[at + 2], value); break;
        case ITEM.UNDECODABLE: conn.onUndecodable(value); break;
        case ITEM.OPEN: conn.opened(value); break;
        case ITEM.PAUSED: conn.onBackpressure(true); break;
        case ITEM.RESUMED: conn.onBackpressure(false); break;
        case ITEM.OPEN_FAILED:
        case ITEM.CLOSED:
          this._live.delete(e[at + 1]);
          conn.ended(value);
          break;
      }
    } catch (err) {
      rethrowLater(err);
    }
  }
}

/** A bug in a callback must not lose the rest of the batch: thrown once it is done. */
function rethrowLater(err) {
  process.nextTick(() => { throw err; });
}

/** This environment's dispatcher (the addon, and so this module, is per environment). */
const batches = new BatchDispatcher();

module.exports = { batches };
