'use strict';
// A relay's Liveness without a server: its record, and what it does with a
// relay gone without a word, driven with a sink and a relay of the test's.
const assert = require('assert');
const { Liveness } = require('../lib/relay/liveness');
const { OwnCoverage } = require('../lib/relay/coverage');
const { waitFor } = require('./fixtures/helpers');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A sink that keeps records; records() may be held up by `hold`. */
function recordSink() {
  const sink = {
    kept: new Map(),
    written: [], // every record this relay wrote
    removed: [],
    hold: null, // a promise records() waits for
    async putRecord(id, r) { sink.kept.set(id, r); sink.written.push(r); },
    async records() {
      if (sink.hold) await sink.hold;
      return new Map(sink.kept);
    },
    async removeRecords(ids) { sink.removed.push(...ids); for (const id of ids) sink.kept.delete(id); },
  };
  return sink;
}

/** What Liveness asks of its relay; queueGaps waits for `queueing` when set. */
function fakeRelay() {
  const own = new OwnCoverage(0);
  const relay = {
    stopped: false,
    queued: [],
    tokens: [],
    queueing: null,
    covered: () => own.until({ head: undefined, buffered: 0, discardingSince: null }),
    streams: () => ['s'],
    async queueGaps(gaps) {
      if (relay.queueing) await relay.queueing;
      if (relay.stopped) return null;
      const tokens = gaps.map((g) => own.hold(g.since * 1000));
      relay.queued.push(...gaps);
      relay.tokens.push(...tokens);
      return tokens;
    },
    appendAll() { for (const t of relay.tokens.splice(0)) own.appended({ held: t }); },
  };
  return relay;
}

function liveness(sink, relay, { relayId = 'me', operations = ['insert'] } = {}) {
  return new Liveness({
    sink, relayId, heartbeatMs: 50, reorderWindowMs: 0,
    relaying: { collection: 'orders', operations }, relay: { ...relay, stopped: () => relay.stopped },
  });
}

describe('relay: Liveness', function () {
  this.timeout(10000);

  it("a dead relay's hole: queued, this relay's span reaches back only once it is, and the dead record goes only once the gap is appended", async () => {
    const sink = recordSink();
    const relay = fakeRelay();
    const l = liveness(sink, relay);
    let letQueue;
    const t0 = Date.now();
    await l.begin(t0);
    sink.kept.set('dead', { since: t0 - 5000, seen: t0 - 4000, covered: t0 - 3000, relaying: { collection: 'orders', operations: ['insert'] } });
    relay.queueing = new Promise((r) => { letQueue = r; });
    l.beat();
    try {
      await sleep(200); // several heartbeats while the gap waits to be queued (listCollections, say)
      assert.ok(sink.written.every((r) => r.coveredFrom === t0), 'coveredFrom did not move before the gap was queued');
      letQueue();
      await waitFor(() => relay.queued.length === 1, 'the gap queued');
      assert.deepStrictEqual(relay.queued, [{ since: (t0 - 3000) / 1000, until: t0 / 1000 }]);
      await sleep(150);
      const last = sink.written[sink.written.length - 1];
      assert.strictEqual(last.coveredFrom, t0 - 5000, "then it reaches back, through the hole and the dead relay's span");
      assert.ok(last.covered <= t0 - 3000, "and covered is held at the hole until its gap is appended");
      assert.ok(sink.kept.has('dead') && sink.removed.length === 0, 'the dead record stays until then');
      assert.strictEqual(relay.queued.length, 1, 'the hole is queued once, though the record is read again every heartbeat');
      relay.appendAll();
      await waitFor(() => !sink.kept.has('dead'), 'the dead record removed once its gap is appended');
    } finally {
      await l.end(Date.now() + 1000);
    }
  });

  it('a relay that stops while its look reads the records queues nothing and removes nothing: the dead record stays for the next relay', async () => {
    const sink = recordSink();
    const relay = fakeRelay();
    const l = liveness(sink, relay);
    const t0 = Date.now();
    await l.begin(t0);
    sink.kept.set('dead', { since: t0 - 5000, seen: t0 - 4000, covered: t0 - 3000 });
    let letRead;
    sink.hold = new Promise((r) => { letRead = r; });
    l.beat();
    await sleep(80); // a look is reading
    relay.stopped = true;
    letRead();
    await l.end(Date.now() + 1000);
    assert.deepStrictEqual(relay.queued, []);
    assert.deepStrictEqual(sink.removed, []);
    assert.ok(sink.kept.has('dead'));
    assert.strictEqual(sink.kept.get('me').stopped, true);
  });

  it('asked whether a peer covered its hole, it waits for a peer with a slower heartbeat to say so', async () => {
    const sink = recordSink();
    const since = Date.now() - 10000;
    // A peer subscribed throughout, with a 1 s heartbeat; its next record will show the hole covered.
    const beatPeer = () => sink.kept.set('peer', { since, coverageSince: since, coveredFrom: since, seen: Date.now(), covered: Date.now() - 300, staleMs: 2500 });
    beatPeer();
    await sleep(50);
    const timer = setInterval(beatPeer, 1000);
    try {
      const l = liveness(sink, fakeRelay()); // heartbeat 50 ms: three of its own are 150 ms
      const hole = { since: (Date.now() - 3000) / 1000, until: Date.now() / 1000 };
      assert.strictEqual(await l.coveredByPeer(hole), true);
    } finally {
      clearInterval(timer);
    }
  });

  it('restarted under its own id relaying fewer operations, it keeps the previous run\'s record apart: a relay of those operations still finds the hole in them', async () => {
    const sink = recordSink();
    const t = Date.now();
    const previous = { since: t - 10000, coveredFrom: t - 10000, seen: t - 5000, covered: t - 6000, stopped: true, relaying: { collection: 'orders', operations: ['insert', 'update'] } };
    sink.kept.set('x', previous);
    const x = liveness(sink, fakeRelay(), { relayId: 'x', operations: ['insert'] });
    await x.begin(t);
    assert.deepStrictEqual(sink.kept.get(`x@${t - 10000}`), previous, 'kept under an id of its own');
    assert.deepStrictEqual(sink.kept.get('x').relaying, { collection: 'orders', operations: ['insert'] });
    // Later, a relay of inserts and updates: the updates since the previous run stopped reached nobody.
    const z = fakeRelay();
    await liveness(sink, z, { relayId: 'z', operations: ['insert', 'update'] }).begin(t + 3000);
    assert.deepStrictEqual(z.queued, [{ since: (t - 6000) / 1000, until: (t + 3000) / 1000 }]);
  });

  it('a record it cannot read what it relays from (operations not a list) counts as one of the same changes, and stops nothing', async () => {
    const sink = recordSink();
    const relay = fakeRelay();
    const l = liveness(sink, relay);
    const t0 = Date.now();
    sink.kept.set('odd', { since: t0 - 9000, seen: t0 - 8000, covered: t0 - 7000, relaying: { collection: 'orders', operations: 'update' } });
    await l.begin(t0);
    assert.deepStrictEqual(relay.queued, [{ since: (t0 - 7000) / 1000, until: t0 / 1000 }]);
  });

  it('its record says what it relays and its stale time; records of other changes are not its business', async () => {
    const sink = recordSink();
    const relay = fakeRelay();
    const l = liveness(sink, relay);
    const t0 = Date.now();
    sink.kept.set('users', { since: t0 - 5000, seen: t0 - 4000, covered: t0 - 3000, relaying: { collection: 'users', operations: ['insert'] } });
    await l.begin(t0);
    assert.deepStrictEqual(relay.queued, [], 'a stopped relay of users leaves no hole for one of orders');
    assert.ok(sink.kept.has('users'), 'nor is its record removed');
    const mine = sink.kept.get('me');
    assert.deepStrictEqual(mine.relaying, { collection: 'orders', operations: ['insert'] });
    assert.strictEqual(mine.staleMs, 125);
  });
});
