'use strict';
// Two pieces of a ChangeStream, alone, without a server: what its overflow
// policy does at the bound, and its reports to listeners and tracers.
const assert = require('assert');
const { EventEmitter } = require('events');
const dc = require('diagnostics_channel');
const { EventBuffer } = require('../lib/stream/event-buffer');
const { Holdback } = require('../lib/stream/holdback');
const { GapTracker } = require('../lib/stream/gap-tracker');
const { Overflow } = require('../lib/stream/overflow');
const { Reports } = require('../lib/stream/reports');

const ev = (i, timestamp = i) => ({ operationType: 'insert', i, timestamp });

describe('stream pieces: overflow and reports', () => {
  describe('Overflow', () => {
    /** An Overflow over a real buffer and gap tracker, with recorders for what it tells the stream. */
    function bound(policy, hwm, { inBand = true } = {}) {
      const out = { turns: 0, ended: [], dropped: 0, reports: [], announced: [], closed: false };
      out.buf = new EventBuffer();
      const holdback = new Holdback(() => {}, () => {});
      out.gaps = new GapTracker('orders', {
        inBand, catchUp: null, holdback, newestSeen: () => 0,
        takeItems: () => {}, announce: (gap) => out.announced.push(gap), closed: () => out.closed,
      });
      out.overflow = new Overflow(policy, hwm, {
        collection: 'orders', buf: out.buf, acks: { turn: () => out.turns++ }, gapTracker: out.gaps,
        closed: () => out.closed, end: (err) => { out.ended.push(err); out.closed = true; },
        dropped: (n) => { out.dropped += n; }, reportDrops: (n) => out.reports.push(n),
      });
      return out;
    }
    const turn = () => new Promise((r) => setImmediate(r));

    it("'error': judged once a turn, after the consumer's: a burst taken meanwhile is no overflow; one left over ends the stream", async () => {
      const o = bound('error', 3);
      o.buf.pushRun([ev(1), ev(2), ev(3), ev(4), ev(5)]);
      o.overflow.turnSoon();
      o.overflow.turnSoon(); // a second run in the same turn: still one judgement
      o.buf.shift();
      o.buf.shift(); // the consumer takes two before the turn ends
      await turn();
      assert.deepStrictEqual([o.turns, o.ended.length], [1, 0], 'acknowledged once, not ended');
      o.buf.push(ev(6));
      o.overflow.turnSoon();
      await turn();
      assert.strictEqual(o.turns, 2);
      assert.strictEqual(o.ended.length, 1);
      assert.strictEqual(o.ended[0].code, 'NEXA_OVERFLOW');
      assert.strictEqual(o.ended[0].highWaterMark, 3);
      assert.match(o.ended[0].message, /change stream on 'orders' holds more than highWaterMark \(3\) events/);
      assert.strictEqual(o.buf.length, 4, "'error' drops nothing");
    });

    it("'dropOldest': keeps the newest highWaterMark behind one gap item that grows while not consumed; drops are reported once a turn", async () => {
      const o = bound('dropOldest', 2);
      o.buf.pushRun([ev(1), ev(2), ev(3), ev(4)]);
      o.overflow.turnSoon();
      await turn();
      assert.deepStrictEqual([o.dropped, o.reports, o.turns], [2, [2], 1]);
      const gap = o.buf.peek();
      assert.deepStrictEqual([gap.reason, gap.count, gap.since, gap.until], ['dropOldest', 2, 1, 2]);
      o.buf.pushRun([ev(5), ev(6)]); // gap, 3, 4, 5, 6: the gap item is not an event to drop
      o.overflow.turnSoon();
      await turn();
      assert.deepStrictEqual([o.dropped, o.reports], [4, [2, 2]]);
      const grown = o.buf.shift();
      assert.deepStrictEqual([grown.count, grown.since, grown.until], [4, 1, 4]);
      assert.deepStrictEqual([o.buf.length, o.buf.shift().i, o.buf.shift().i], [2, 5, 6]);
      assert.deepStrictEqual(o.announced.map((g) => g.count), [2, 2], 'each drop announced as it happened');
      o.overflow.turnSoon();
      await turn();
      assert.deepStrictEqual([o.reports, o.turns], [[2, 2], 3], 'nothing dropped: nothing reported, still acknowledged');
    });

    it("'dropOldest' never drops a gap item (a reconnect gap stays in its place, not counted); catchUp items are dropped like events; each run dropped becomes a gap item where it was", async () => {
      const o = bound('dropOldest', 2);
      const reconnect = { operationType: 'gap', reason: 'reconnect', since: 2.5, until: 3.5 };
      const caughtUp = [1, 2].map((k) => ({ operationType: 'catchUp', documentKey: { _id: `d${k}` } }));
      o.buf.pushRun([ev(1), ev(2), reconnect, ...caughtUp, ev(4), ev(5), ev(6)]);
      o.overflow.turnSoon();
      await turn();
      const left = o.buf.items.slice(o.buf.head);
      const show = (x) => (x.operationType === 'gap' ? `gap ${x.reason} ${x.count || ''}`.trim() : x.operationType === 'catchUp' ? x.documentKey._id : x.i);
      assert.deepStrictEqual(left.map(show), ['gap dropOldest 2', 'gap reconnect', 'gap dropOldest 3', 5, 6]);
      assert.deepStrictEqual([left[0].since, left[0].until, left[2].since, left[2].until], [1, 2, 4, 4], 'each gap spans its own run (catchUp items have no timestamp)');
      assert.deepStrictEqual([o.dropped, o.reports], [5, [5]]);
    });

    it("'dropOldest' with a consumer that never reads: the buffer's array does not grow without bound", async () => {
      const o = bound('dropOldest', 5);
      for (let round = 0; round < 100; round++) {
        o.buf.pushRun(Array.from({ length: 50 }, (_, i) => ev(i)));
        o.overflow.turnSoon();
        await turn();
      }
      assert.strictEqual(o.buf.length, 6, 'one gap item and the newest 5');
      assert.ok(o.buf.items.length < 200, `the array holds ${o.buf.items.length} slots for ${o.buf.length} items`);
      assert.strictEqual(o.dropped, 100 * 50 - 5);
    });

    it("'dropOldest' without in-band gaps drops to highWaterMark with no item; a closed stream is not judged", async () => {
      const o = bound('dropOldest', 1, { inBand: false });
      o.buf.pushRun([ev(1), ev(2), ev(3)]);
      o.overflow.turnSoon();
      await turn();
      assert.deepStrictEqual(o.buf.items.slice(o.buf.head).map((e) => e.i), [3]);
      assert.deepStrictEqual([o.dropped, o.reports, o.announced.length], [2, [2], 1]);
      o.buf.pushRun([ev(4), ev(5)]);
      o.closed = true;
      o.overflow.turnSoon();
      await turn();
      assert.deepStrictEqual([o.buf.length, o.dropped, o.turns], [3, 2, 2], 'closed: left as it is, still acknowledged');
    });

    it("pauses of the socket are counted under 'pause' only", () => {
      const paused = bound('pause', 10);
      paused.overflow.backpressure(true);
      paused.overflow.backpressure(false);
      paused.overflow.backpressure(true);
      assert.strictEqual(paused.overflow.pauses, 2);
      const other = bound('dropOldest', 10);
      other.overflow.backpressure(true);
      assert.strictEqual(other.overflow.pauses, 0);
    });
  });

  describe('Reports', () => {
    it("each report is the stream's event and its diagnostics channel's message; the stream is held privately (no cycle for JSON.stringify)", () => {
      const stream = new EventEmitter();
      stream.collection = 'orders';
      const reports = new Reports(stream, { host: 'db.example', port: 6970 });
      const emitted = [];
      for (const name of ['disconnect', 'reconnect', 'gap']) stream.on(name, (info) => emitted.push([name, info]));
      const published = [];
      const names = ['disconnect', 'reconnect', 'gap', 'close'];
      const listeners = names.map((n) => {
        const fn = (message) => published.push([n, message]);
        dc.subscribe(`nexaclient:stream:${n}`, fn);
        return fn;
      });
      try {
        const error = new Error('lost');
        reports.disconnected(error);
        reports.reconnected({ attempts: 2, downtimeMs: 30 });
        reports.gap({ operationType: 'gap', reason: 'reconnect' });
        reports.closed(null);
        assert.deepStrictEqual(emitted, [
          ['disconnect', { error }],
          ['reconnect', { attempts: 2, downtimeMs: 30 }],
          ['gap', { operationType: 'gap', reason: 'reconnect' }],
        ]);
        assert.deepStrictEqual(published, [
          ['disconnect', { stream, collection: 'orders', address: 'db.example:6970', error }],
          ['reconnect', { stream, collection: 'orders', address: 'db.example:6970', attempts: 2, downtimeMs: 30 }],
          ['gap', { stream, collection: 'orders', gap: { operationType: 'gap', reason: 'reconnect' } }],
          ['close', { stream, collection: 'orders', error: null }],
        ]);
        stream.reports = reports; // as a ChangeStream holds its Reports
        assert.doesNotThrow(() => JSON.stringify(stream));
      } finally {
        names.forEach((n, i) => dc.unsubscribe(`nexaclient:stream:${n}`, listeners[i]));
      }
    });
  });
});
