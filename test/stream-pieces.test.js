'use strict';
// The pieces a ChangeStream is made of, alone, without a server: the
// buffer, the reorder window, the acknowledgements, the holdback behind a
// catch-up, the gap tracker and the gap items' helpers; the one-way-to-consume
// rule with stream()'s Readable. The overflow policy and the reports:
// stream-overflow-reports.test.js.
const assert = require('assert');
const { once } = require('events');
const { EventBuffer } = require('../lib/stream/event-buffer');
const { ReorderWindow } = require('../lib/stream/reorder-window');
const { ConsumedAcks, ArrivalAcks, REPORT_EVERY } = require('../lib/stream/acks');
const { Holdback } = require('../lib/stream/holdback');
const { newestUpdate, catchUpFrom } = require('../lib/stream/catch-up');
const { GapTracker } = require('../lib/stream/gap-tracker');
const { claimWay, readableOver, WAYS } = require('../lib/stream/consumption');

const ev = (i, timestamp = i) => ({ operationType: 'insert', i, timestamp });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A connection that records what it was told was consumed; the core refuses the first `refusals` reports. */
function fakeConn(name, refusals = 0) {
  return {
    name,
    acked: [],
    refused: 0,
    ack(n) {
      if (this.refused < refusals) {
        this.refused++;
        return false;
      }
      this.acked.push(n);
      return true;
    },
  };
}

describe('stream pieces', () => {
  describe('EventBuffer', () => {
    it('adopts a run when empty, appends otherwise, and hands items out oldest first', () => {
      const b = new EventBuffer();
      const run = [ev(1), ev(2)];
      b.pushRun(run);
      assert.strictEqual(b.items, run, 'the run itself became the buffer');
      b.pushRun([ev(3)]);
      b.push(ev(4));
      assert.strictEqual(b.length, 4);
      assert.deepStrictEqual([b.shift(), b.shift()].map((e) => e.i), [1, 2]);
      assert.strictEqual(b.peek().i, 3);
      b.unshift(ev(0));
      assert.deepStrictEqual([b.shift(), b.shift(), b.shift()].map((e) => e.i), [0, 3, 4]);
      assert.strictEqual(b.shift(), undefined);
      assert.strictEqual(b.length, 0);
    });
  });

  describe('ReorderWindow', () => {
    it('releases held events in timestamp order once the window has passed', async () => {
      const out = [];
      const w = new ReorderWindow(30, (e) => out.push(e.i));
      for (const [i, ts] of [[1, 3], [2, 1], [3, 2]]) w.add(ev(i, ts));
      assert.deepStrictEqual(out, []);
      assert.strictEqual(w.size, 3);
      assert.strictEqual(w.newestTimestamp(-Infinity), 3);
      await sleep(80);
      assert.deepStrictEqual(out, [2, 3, 1]);
      w.add(ev(4, 9));
      w.add(ev(5, 8));
      w.flush();
      assert.deepStrictEqual(out, [2, 3, 1, 5, 4]);
      w.add(ev(6, 1));
      w.clear();
      await sleep(50);
      assert.strictEqual(out.length, 5, 'cleared events are not released');
    });
  });

  describe('acknowledgements', () => {
    it("'pause': consumed events are reported to the connection that delivered them, every REPORT_EVERY and once a turn; items to none", async () => {
      const R = REPORT_EVERY;
      const acks = new ConsumedAcks();
      const a = fakeConn('a');
      const b = fakeConn('b');
      acks.arrived(a, R + 10);
      acks.notices(1);
      acks.arrived(b, R);
      for (let k = 0; k < R; k++) acks.consumedOne();
      assert.deepStrictEqual(a.acked, [R]);
      for (let k = 0; k < R; k++) acks.consumedOne(); // a's last 10, the notice, b's first R - 11
      assert.deepStrictEqual(a.acked, [R, 10]);
      assert.deepStrictEqual(b.acked, [R - 11], 'the notice between them was consumed without an acknowledgement');
      for (let k = 0; k < 11; k++) acks.consumedOne(); // fewer than R: reported at the end of the turn
      assert.deepStrictEqual(b.acked, [R - 11]);
      await new Promise((r) => setImmediate(r));
      assert.deepStrictEqual(b.acked, [R - 11, 11]);
    });

    it('a report the core could not take (out of memory) is kept and made again, whichever the policy', async () => {
      const R = REPORT_EVERY;
      const consumed = new ConsumedAcks();
      const a = fakeConn('a', 1);
      consumed.arrived(a, R + 1);
      for (let k = 0; k < R; k++) consumed.consumedOne();
      assert.deepStrictEqual([a.refused, a.acked], [1, []], 'refused: nothing counted as reported');
      consumed.consumedOne(); // one more joins the kept count
      await sleep(80);
      assert.deepStrictEqual(a.acked, [R + 1], 'reported again, all of it');

      const arrivals = new ArrivalAcks();
      const b = fakeConn('b', 2);
      arrivals.arrived(b, 5);
      arrivals.turn();
      assert.deepStrictEqual(b.acked, []);
      await sleep(130);
      assert.deepStrictEqual([b.refused, b.acked], [2, [5]]);
    });

    it("'error' and 'dropOldest': arrivals are acknowledged once a turn, consumed or not, each to its connection", () => {
      const acks = new ArrivalAcks();
      const a = fakeConn('a');
      const b = fakeConn('b');
      acks.arrived(a, 3);
      acks.arrived(a, 2);
      acks.consumedOne();
      assert.deepStrictEqual(a.acked, []);
      acks.arrived(b, 4);
      acks.turn();
      acks.turn();
      assert.deepStrictEqual(a.acked, [5]);
      assert.deepStrictEqual(b.acked, [4]);
    });
  });

  describe('Holdback', () => {
    it('keeps events and items back, in order, behind catch-up slots until each is filled', () => {
      const out = [];
      const h = new Holdback((evs, conn) => out.push(...evs.map((e) => `${conn}:${e.i}`)), (items) => out.push(...items));
      assert.strictEqual(h.active, false);
      const fill1 = h.slot();
      assert.strictEqual(h.active, true);
      h.run([ev(1), ev(2)], 'c2');
      const fill2 = h.slot();
      h.run([ev(3)], 'c3');
      h.items(['gap-x']);
      assert.strictEqual(h.events, 3);
      assert.strictEqual(h.newestTimestamp(-Infinity), 3);
      fill2(['gap2', 'doc2']); // filled first, but waits behind the first slot
      assert.deepStrictEqual(out, []);
      assert.strictEqual(h.active, true);
      fill1(['gap1', 'doc1']);
      assert.deepStrictEqual(out, ['gap1', 'doc1', 'c2:1', 'c2:2', 'gap2', 'doc2', 'c3:3', 'gap-x']);
      assert.strictEqual(h.active, false);
      h.slot();
      h.run([ev(4)], 'c4');
      h.release(true); // the stream ends: what arrived goes on, the unread slot is skipped
      assert.deepStrictEqual(out.slice(-1), ['c4:4']);
      assert.strictEqual(h.active, false);
    });
  });

  describe('GapTracker', () => {
    /** A tracker wired to recorders: what was announced, what joined the stream, what the holdback let through. */
    function tracker({ inBand = true, catchUp = null, newest = 10 } = {}) {
      const out = { announced: [], stream: [] };
      const holdback = new Holdback((evs) => out.stream.push(...evs), (items) => out.stream.push(...items));
      out.holdback = holdback;
      out.gaps = new GapTracker('orders', {
        inBand, catchUp, holdback, newestSeen: () => newest,
        takeItems: (items) => out.stream.push(...items), announce: (gap) => out.announced.push(gap), closed: () => false,
      });
      return out;
    }

    it('a reconnect gap runs from the newest event seen before the loss to the re-subscription; announced, and in-band only with `gaps`', () => {
      for (const inBand of [true, false]) {
        const t = tracker({ inBand });
        assert.strictEqual(t.gaps.lost, false);
        assert.strictEqual(t.gaps.connectionLost(), true);
        // A second loss before re-subscribing (a re-dial lost before any event) is the same gap: not reported again.
        assert.strictEqual(t.gaps.connectionLost(), false);
        assert.strictEqual(t.gaps.lost, true);
        t.gaps.resubscribed();
        t.gaps.resubscribed(); // nothing lost any more: no second gap
        assert.strictEqual(t.gaps.lost, false);
        assert.strictEqual(t.gaps.count, 1);
        const [gap] = t.announced;
        assert.deepStrictEqual([gap.operationType, gap.reason, gap.ns, gap.since], ['gap', 'reconnect', { db: 'nexadb', coll: 'orders' }, 10]);
        assert.ok(gap.until >= Date.now() / 1000 - 5);
        assert.deepStrictEqual(t.stream, inBand ? [gap] : []);
      }
    });

    it('with catchUp: reads from the newest _updated_at seen (less the margin); the gap and the documents come before the live events held meanwhile', async () => {
      const reads = [];
      const t = tracker({
        catchUp: async (coll, since) => {
          reads.push([coll, since]);
          return { found: [{ collection: 'orders', document: { _id: 'a', _updated_at: '2026-12-02T10:00:05.000' } }], complete: true };
        },
      });
      assert.strictEqual(t.gaps.watchesEvents, true, 'the stream hands it every run of events');
      assert.strictEqual(tracker().gaps.watchesEvents, false, 'without catchUp it has no use for them');
      t.gaps.sawEvents([{ fullDocument: { _updated_at: '2026-12-02T10:00:03.000' } }, { fullDocument: undefined }]);
      t.gaps.connectionLost();
      t.gaps.resubscribed();
      t.holdback.run([ev(11)], 'conn2'); // live, after the re-subscription
      assert.deepStrictEqual(t.stream, [], 'held behind the catch-up');
      await new Promise((r) => setImmediate(r));
      assert.deepStrictEqual(reads, [['orders', '2026-12-02T10:00:02.000']]);
      assert.deepStrictEqual(t.stream.map((x) => x.operationType), ['gap', 'catchUp', 'insert']);
      assert.deepStrictEqual(t.stream[0].catchUp, { documents: 1, complete: true });
      assert.deepStrictEqual(t.stream[1].documentKey, { _id: 'a' });
      t.gaps.connectionLost();
      t.gaps.resubscribed();
      await new Promise((r) => setImmediate(r));
      assert.strictEqual(reads[1][1], '2026-12-02T10:00:04.000', 'the next catch-up reads from the newest document the last one read');
    });

    it("'dropOldest': every drop is announced; in-band, one item stands for every drop while it is not consumed", () => {
      const t = tracker();
      const first = t.gaps.dropped(2, 1, 2, null);
      assert.deepStrictEqual([first.reason, first.count, first.since, first.until], ['dropOldest', 2, 1, 2]);
      assert.ok(t.gaps.isDropGap(first));
      const grown = t.gaps.dropped(2, 3, 4, first); // `first` was still at the buffer's head
      assert.deepStrictEqual([grown.count, grown.since, grown.until], [4, 1, 4]);
      assert.ok(t.gaps.isDropGap(grown) && !t.gaps.isDropGap(first) && !t.gaps.isDropGap(undefined));
      assert.deepStrictEqual(t.announced.map((g) => g.count), [2, 2], 'each drop is announced as it happens');
      const quiet = tracker({ inBand: false });
      assert.strictEqual(quiet.gaps.dropped(3, Infinity, -Infinity, null), null, 'not in-band: nothing for the buffer');
      const [gap] = quiet.announced;
      assert.ok(gap.since === gap.until && gap.since > Date.now() / 1000 - 5, 'events without timestamps: now');
    });
  });

  describe('gap helpers', () => {
    it("newestUpdate compares the server's _updated_at texts; catchUpFrom goes a second back in the same clock and format", () => {
      assert.strictEqual(newestUpdate(null, [{ _updated_at: '2026-11-26T09:42:28.5' }, undefined, { _updated_at: '2026-11-26T09:42:28' }]), '2026-11-26T09:42:28.5');
      assert.strictEqual(newestUpdate('2026-11-26T09:42:29', [{ _updated_at: '2026-11-26T09:42:28.999999' }]), '2026-11-26T09:42:29');
      assert.strictEqual(catchUpFrom('2026-11-26T09:42:28.003998'), '2026-11-26T09:42:27.003');
      assert.strictEqual(catchUpFrom('2026-01-01T00:00:00.5'), '2025-12-31T23:59:59.500');
      assert.strictEqual(catchUpFrom(null), null);
      assert.strictEqual(catchUpFrom('not a time'), 'not a time');
    });
  });

  describe('consumption', () => {
    const ways = Object.keys(WAYS);

    it('the first way fixes it; the same way again is fine but for a second Readable; any other throws a TypeError naming both', () => {
      for (const w of ways) assert.strictEqual(claimWay(null, w), w);
      assert.strictEqual(claimWay('iterator', 'iterator'), 'iterator');
      assert.strictEqual(claimWay('emitter', 'emitter'), 'emitter');
      assert.throws(() => claimWay('readable', 'readable'), {
        name: 'TypeError',
        message: 'this ChangeStream is read through stream(): it already has its Readable (one Readable per stream)',
      });
      for (const current of ways) {
        for (const wanted of ways) {
          if (current === wanted) continue;
          assert.throws(() => claimWay(current, wanted), {
            name: 'TypeError',
            message: `this ChangeStream is ${WAYS[current]}: it cannot also be ${WAYS[wanted]} (one way to consume a stream)`,
          }, `${current} then ${wanted}`);
        }
      }
    });

    it('readableOver pulls nothing until it is read, delivers in order, ends when the pull is done and then closes', async () => {
      const items = [1, 2, 3, 4, 5].map((i) => ev(i));
      let pulls = 0;
      let closes = 0;
      const pull = () => {
        pulls++;
        return Promise.resolve(items.length ? { value: items.shift(), done: false } : { value: undefined, done: true });
      };
      const readable = readableOver(pull, () => { closes++; return Promise.resolve(); }, 2);
      await sleep(20);
      assert.strictEqual(pulls, 0, 'nothing pulled before it is read');
      const got = [];
      for await (const item of readable) got.push(item.i);
      assert.deepStrictEqual(got, [1, 2, 3, 4, 5]);
      await sleep(0);
      assert.strictEqual(closes, 1, 'closed once, at the end');
    });

    it('destroying the Readable closes what it reads; an error from the pull destroys it with that error', async () => {
      let closes = 0;
      const close = () => { closes++; return Promise.resolve(); };
      const waiting = readableOver(() => new Promise(() => {}), close, 16);
      waiting.resume();
      await sleep(0);
      waiting.destroy();
      await once(waiting, 'close');
      assert.strictEqual(closes, 1);

      const failing = readableOver(() => Promise.reject(new Error('lost')), close, 16);
      failing.resume();
      const [err] = await once(failing, 'error');
      assert.strictEqual(err.message, 'lost');
      await sleep(0);
      assert.strictEqual(closes, 2);
    });
  });
});
