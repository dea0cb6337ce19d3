'use strict';
// Trimming (maxLen, retention) does not wait for consumer groups: a pending
// message it takes before a consumer handled it reaches the consumer as a
// 'trimmed' gap item in its place, never as silence.
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

  const label = (item) => (item.operationType === 'gap' ? `gap ${item.reason} ${item.count}` : item.fullDocument.k);

  /** Items from `consumer` until `want` of them arrived. */
  async function take(consumer, want) {
    const items = [];
    if (want === 0) return items;
    for await (const item of consumer) if (items.push(item) === want) break;
    return items;
  }

  it('entries trimmed while pending: the consumer that had them, started again, gets a gap item for them, then what is left', async () => {
    const stream = fresh();
    await append(stream, 30);
    const before = consume({ redis: redisServer.url, stream, group: 'g', consumer: 'a', from: '0', count: 20 });
    const [got] = await take(before, 1); // 0..19 read; 0 handled, and acknowledged as the loop broke
    assert.strictEqual(got.fullDocument.k, 0);
    await redis.sendCommand(['XTRIM', stream, 'MAXLEN', '5']); // 0..24 go: 1..19 pending, 20..24 unread

    const again = consume({ redis: redisServer.url, stream, group: 'g', consumer: 'a' });
    const items = await take(again, 6);
    assert.deepStrictEqual(items.map(label), ['gap trimmed 19', 25, 26, 27, 28, 29], 'the 5 never read are lost to the group, unseen (README)');
    assert.deepStrictEqual({ ...items[0], since: 0, until: 0 }, { operationType: 'gap', ns: { db: 'nexadb', coll: null }, reason: 'trimmed', count: 19, since: 0, until: 0 });
    assert.ok(items[0].since <= items[0].until && items[0].until <= Date.now() / 1000);
    assert.strictEqual((await again.stats()).trimmed, 19);
  });

  it('entries deleted while pending, read ahead with others: the gap item keeps its place when the read-ahead is refreshed', async () => {
    const stream = fresh();
    const ids = await append(stream, 10);
    const first = consume({ redis: redisServer.url, stream, group: 'g', consumer: 'a', from: '0', count: 10 });
    await take(first, 1); // 0 handled; 1..9 pending
    await redis.sendCommand(['XDEL', stream, ids[4], ids[5]]);

    const again = consume({ redis: redisServer.url, stream, group: 'g', consumer: 'a', count: 20, claimIdleMs: 400 });
    const items = [];
    for (let i = 0; i < 2; i++) items.push((await again.next()).value); // 1, 2; read ahead: 3, the gap, 6..9
    await new Promise((r) => setTimeout(r, 300)); // past claimIdleMs / 2: the next next() reads its own again
    for (let i = 0; i < 6; i++) items.push((await again.next()).value);
    await again.close();
    assert.deepStrictEqual(items.map(label), [1, 2, 3, 'gap trimmed 2', 6, 7, 8, 9]);
  });

  describe('gap items across read-ahead refreshes, in stream order', () => {
    /** Entries k = 1..count with ids k*1000-0: a gap's since and until are the k it stands for. */
    async function appendAt(stream, count) {
      for (let k = 1; k <= count; k++) {
        await redis.sendCommand(['XADD', stream, `${k * 1000}-0`, 'op', 'insert', 'event', JSON.stringify({ operationType: 'insert', fullDocument: { k } })]);
      }
    }
    const xdel = (stream, k) => redis.sendCommand(['XDEL', stream, `${k * 1000}-0`]);
    const at = (item) => (item.operationType === 'gap' ? `gap ${item.since}` : item.fullDocument.k);
    const pastRefresh = () => new Promise((r) => setTimeout(r, 250)); // claimIdleMs / 2: the next next() reads its own again

    /** `count` entries, and a consumer (claimIdleMs 400) that has handled the first and read ahead the rest. */
    async function readingAhead(count) {
      const stream = fresh();
      await appendAt(stream, count);
      const c = consume({ redis: redisServer.url, stream, group: 'g', consumer: 'a', from: '0', count: 10, claimIdleMs: 400 });
      return { stream, c, got: [at((await c.next()).value)] };
    }

    it('a held gap item goes after the gap item of entries deleted before it', async () => {
      const { stream, c, got } = await readingAhead(6); // 1; read ahead 2..6
      await xdel(stream, 4);
      await pastRefresh();
      got.push(at((await c.next()).value)); // 2; read ahead again: 3, the gap for 4, 5, 6
      await xdel(stream, 3);
      await pastRefresh();
      for (let i = 0; i < 4; i++) got.push(at((await c.next()).value)); // read again: 3 is gone too
      await c.close();
      assert.deepStrictEqual(got, [1, 2, 'gap 3', 'gap 4', 5, 6]);
    });

    it('a gap item held again goes before one held earlier that comes after it', async () => {
      const { stream, c, got } = await readingAhead(5); // 1; read ahead 2..5
      await xdel(stream, 3);
      await xdel(stream, 5);
      await pastRefresh();
      got.push(at((await c.next()).value)); // 2; read ahead again: the gap for 3, 4, the gap for 5
      await xdel(stream, 4);
      await pastRefresh();
      got.push(at((await c.next()).value)); // the gap for 3; read again: the gap for 4, the gap for 5 held
      await pastRefresh();
      got.push(at((await c.next()).value), at((await c.next()).value)); // the gap for 4 held again
      await c.close();
      assert.deepStrictEqual(got, [1, 2, 'gap 3', 'gap 4', 'gap 5']);
    });
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
