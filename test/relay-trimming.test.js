'use strict';
// Trimming (maxLen, retention) does not wait for consumer groups: what it
// takes from a group before the group had it handled reaches the consumer
// as one 'trimmed' gap item in its place, never as silence.
const assert = require('assert');
const { startRedis } = require('./helpers/redis-server');
const { redisFor, relayRig } = require('./helpers/relay-rig');

const { live, consume } = relayRig();

describe('relay consumers: entries trimmed before the group had them', function () {
  this.timeout(30000);
  let redisServer;
  let redis;
  let n = 0;
  const fresh = () => `trimmed-${process.pid}-${++n}`;

  before(async () => {
    redisServer = await startRedis();
    redis = await redisFor(redisServer.url);
  });
  afterEach(() => live.endAll());
  after(async () => {
    if (redis) await redis.close();
    if (redisServer) await redisServer.stop();
  });

  /** `count` relayed inserts {k: 0..count-1}; their stream ids. */
  async function append(stream, count) {
    const ids = [];
    for (let k = 0; k < count; k++) {
      ids.push(String(await redis.sendCommand(['XADD', stream, '*', 'op', 'insert', 'event', JSON.stringify({ operationType: 'insert', fullDocument: { k } })])));
    }
    return ids;
  }

  const seconds = (id) => Number(id.split('-')[0]) / 1000;
  const label = (item) => (item.operationType === 'gap' ? `gap ${item.reason} ${item.count}` : item.fullDocument.k);

  /** Items from `consumer` until `want` of them arrived. */
  async function take(consumer, want) {
    const items = [];
    if (want === 0) return items;
    for await (const item of consumer) if (items.push(item) === want) break;
    return items;
  }

  it('a group that fell behind: one gap item with the count trimmed, between what it had and what is left; its other consumer gets none', async () => {
    const stream = fresh();
    const ids = await append(stream, 100);
    const first = consume({ redis: redisServer.url, stream, group: 'g', consumer: 'a', from: '0', count: 10 });
    assert.deepStrictEqual((await take(first, 10)).map(label), Array.from({ length: 10 }, (_, k) => k));
    await redis.sendCommand(['XTRIM', stream, 'MAXLEN', '50']); // 10..49 go unread

    const a = consume({ redis: redisServer.url, stream, group: 'g', consumer: 'a' });
    const b = consume({ redis: redisServer.url, stream, group: 'g', consumer: 'b' });
    const fromA = [];
    const fromB = [];
    let haveAll;
    const allIn = new Promise((resolve) => { haveAll = resolve; });
    const loops = [[a, fromA], [b, fromB]].map(async ([c, into]) => {
      for await (const item of c) if (into.push(item) + (into === fromA ? fromB : fromA).length === 51) haveAll();
    });
    await allIn; // the gap and the 50 entries left
    await Promise.all([a.close(), b.close()]);
    await Promise.all(loops);
    const all = [...fromA, ...fromB];
    const gaps = all.filter((i) => i.operationType === 'gap');
    assert.strictEqual(gaps.length, 1, 'one gap item in the group');
    const [gap] = gaps;
    assert.deepStrictEqual({ ...gap, since: undefined, until: undefined },
      { operationType: 'gap', ns: { db: 'nexadb', coll: null }, reason: 'trimmed', count: 40, since: undefined, until: undefined });
    assert.strictEqual(gap.since, seconds(ids[9]), 'from the last entry the group had');
    assert.strictEqual(gap.until, seconds(ids[50]), 'to the first entry left');
    const mine = fromA.includes(gap) ? fromA : fromB;
    assert.strictEqual(mine[0], gap, 'before what its consumer reads next');
    assert.deepStrictEqual(all.filter((i) => i !== gap).map(label).sort((x, y) => x - y), Array.from({ length: 50 }, (_, k) => 50 + k));
    assert.strictEqual((await (mine === fromA ? a : b).stats()).trimmed, 40);
  });

  it("entries trimmed while pending: the consumer that had them, started again, gets a gap for them, then one for the group's unread ones", async () => {
    const stream = fresh();
    await append(stream, 30);
    const before = consume({ redis: redisServer.url, stream, group: 'g', consumer: 'a', from: '0', count: 20 });
    const [got] = await take(before, 1); // 0..19 read; 0 handled, and acknowledged as the loop broke
    assert.strictEqual(got.fullDocument.k, 0);
    await redis.sendCommand(['XTRIM', stream, 'MAXLEN', '5']); // 0..24 go: 1..19 pending, 20..24 unread

    const again = consume({ redis: redisServer.url, stream, group: 'g', consumer: 'a' });
    assert.deepStrictEqual((await take(again, 7)).map(label), ['gap trimmed 19', 'gap trimmed 5', 25, 26, 27, 28, 29]);
  });

  it("entries trimmed while another consumer's pending: the one claiming them gets a gap item for them", async () => {
    const stream = fresh();
    await append(stream, 30);
    const dead = consume({ redis: redisServer.url, stream, group: 'g', consumer: 'dead', from: '0', count: 30 });
    await take(dead, 1); // 0 handled and acknowledged; 1..29 pending for 'dead'
    await redis.sendCommand(['XTRIM', stream, 'MAXLEN', '10']); // 0..19 go: 1..19 while pending

    const claimer = consume({ redis: redisServer.url, stream, group: 'g', consumer: 'claimer', claimIdleMs: 1 });
    assert.deepStrictEqual((await take(claimer, 11)).map(label), ['gap trimmed 19', ...Array.from({ length: 10 }, (_, k) => 20 + k)]);
  });
});
