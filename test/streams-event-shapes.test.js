'use strict';
// Change streams: the events themselves (shapes, key order, which ones a
// watch gets) and their payloads, from a 2 MiB string to non-ASCII text and int64.
const assert = require('assert');

const NexaClient = require('..');
const native = require('../lib/native');
const encoder = require('../lib/encode');
const { dropCollection, patternString, devServerSuite, burstServer } = require('./fixtures/helpers');
const { nextEvent, takeEvents } = require('./helpers/stream-events');
const { frameBytes } = require('../lib/frame-reader');

const INSERT_KEYS = ['operationType', 'ns', 'timestamp', 'documentKey', 'fullDocument'];
const UPDATE_KEYS = ['operationType', 'ns', 'timestamp', 'documentKey', 'fullDocument', 'updateDescription'];
const DELETE_KEYS = ['operationType', 'ns', 'timestamp', 'documentKey'];
const DROP_KEYS = ['operationType', 'ns', 'timestamp'];

function checkTimestamp(ev) {
  assert.strictEqual(typeof ev.timestamp, 'number');
  assert.ok(Math.abs(ev.timestamp - Date.now() / 1000) < 60, `timestamp ${ev.timestamp}`);
}

describe('change streams', function () {
  this.timeout(10000);

  const suite = devServerSuite();
  const { client } = suite;

  describe('events', () => {
    it('insert, update and delete events arrive with exact shapes and key order', async () => {
      const c = client();
      const s = c.watch('shapes');
      await s.ready;

      const { document_id: id } = await c.create('shapes', { name: 'widget', qty: 3 });
      const ins = await nextEvent(s);
      assert.deepStrictEqual(Object.keys(ins), INSERT_KEYS);
      const stored = await c.get('shapes', id);
      assert.deepStrictEqual(ins, {
        operationType: 'insert',
        ns: { db: 'nexadb', coll: 'shapes' },
        timestamp: ins.timestamp,
        documentKey: { _id: id },
        fullDocument: stored,
      });
      assert.deepStrictEqual(Object.keys(ins.ns), ['db', 'coll']);
      assert.deepStrictEqual(Object.keys(ins.fullDocument), ['_id', '_created_at', '_updated_at', 'name', 'qty']);
      checkTimestamp(ins);

      await c.update('shapes', id, { qty: 4, color: 'red' });
      const upd = await nextEvent(s);
      assert.deepStrictEqual(Object.keys(upd), UPDATE_KEYS);
      const stored2 = await c.get('shapes', id);
      assert.deepStrictEqual(upd, {
        operationType: 'update',
        ns: { db: 'nexadb', coll: 'shapes' },
        timestamp: upd.timestamp,
        documentKey: { _id: id },
        fullDocument: stored2,
        updateDescription: { updatedFields: { qty: 4, color: 'red' } },
      });
      assert.deepStrictEqual(Object.keys(upd.updateDescription.updatedFields), ['qty', 'color']);
      assert.ok(upd.timestamp > ins.timestamp);

      await c.delete('shapes', id);
      const del = await nextEvent(s);
      assert.deepStrictEqual(Object.keys(del), DELETE_KEYS);
      assert.deepStrictEqual(del, {
        operationType: 'delete',
        ns: { db: 'nexadb', coll: 'shapes' },
        timestamp: del.timestamp,
        documentKey: { _id: id },
      });
      assert.ok(del.timestamp > upd.timestamp);
    });

    it('watch() sees every collection', async () => {
      const c = client();
      const s = c.watch();
      await s.ready;
      const a = await c.create('every_a', { v: 1 });
      const b = await c.create('every_b', { v: 2 });
      const d = await c.create('every_c', { v: 3 });
      const evs = await takeEvents(s, 3);
      assert.deepStrictEqual(evs.map((e) => e.ns.coll), ['every_a', 'every_b', 'every_c']);
      assert.deepStrictEqual(evs.map((e) => e.documentKey._id), [a.document_id, b.document_id, d.document_id]);
    });

    it('a collection watch does not see other collections', async () => {
      const c = client();
      const s = c.watch('mine');
      await s.ready;
      await c.create('not_mine', { v: 0 });
      const { document_id: id } = await c.create('mine', { v: 1 });
      const ev = await nextEvent(s);
      assert.strictEqual(ev.ns.coll, 'mine');
      assert.strictEqual(ev.documentKey._id, id);
    });

    it("operations filter: with ['insert'] an update and a delete are not delivered, the next insert is", async () => {
      const c = client();
      const s = c.watch('opsfilter', ['insert']);
      await s.ready;
      const { document_id: a } = await c.create('opsfilter', { n: 1 });
      await c.update('opsfilter', a, { n: 2 });
      await c.delete('opsfilter', a);
      const { document_id: b } = await c.create('opsfilter', { n: 3 });
      const [e1, e2] = await takeEvents(s, 2);
      assert.strictEqual(e1.operationType, 'insert');
      assert.strictEqual(e1.documentKey._id, a);
      assert.strictEqual(e2.operationType, 'insert');
      assert.strictEqual(e2.documentKey._id, b);
    });

    it('dropCollection is delivered only to a watch that lists it', async () => {
      const c = client();
      const plain = c.watch('dropme');
      const withDrop = c.watch('dropme', ['insert', 'dropCollection']);
      await Promise.all([plain.ready, withDrop.ready]);
      const { document_id: a } = await c.create('dropme', { n: 1 });
      const answer = await dropCollection(suite.srv.port, 'dropme');
      assert.deepStrictEqual(answer.payload, { database: 'default', collection: 'dropme', message: 'Collection dropped' });
      const { document_id: b } = await c.create('dropme', { n: 2 });

      const [p1, p2] = await takeEvents(plain, 2);
      assert.deepStrictEqual([p1.operationType, p1.documentKey._id], ['insert', a]);
      assert.deepStrictEqual([p2.operationType, p2.documentKey._id], ['insert', b], 'the drop was not delivered');

      const [w1, w2, w3] = await takeEvents(withDrop, 3);
      assert.deepStrictEqual([w1.operationType, w1.documentKey._id], ['insert', a]);
      assert.deepStrictEqual(Object.keys(w2), DROP_KEYS);
      assert.deepStrictEqual(w2, { operationType: 'dropCollection', ns: { db: 'nexadb', coll: 'dropme' }, timestamp: w2.timestamp });
      assert.deepStrictEqual([w3.operationType, w3.documentKey._id], ['insert', b]);
    });

    it('events after ready are delivered even though next() was not called yet', async () => {
      const c = client();
      const s = c.watch('buffered');
      const witness = c.watch('buffered');
      await Promise.all([s.ready, witness.ready]);
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push((await c.create('buffered', { i })).document_id);
      await c.update('buffered', ids[0], { i: 100 });
      await c.delete('buffered', ids[1]);
      // All seven events have reached the client (the witness has them all)
      // before anyone asks `s` for anything.
      await takeEvents(witness, 7);
      await c.ping();
      const evs = await takeEvents(s, 7);
      assert.deepStrictEqual(evs.map((e) => e.operationType), ['insert', 'insert', 'insert', 'insert', 'insert', 'update', 'delete']);
      assert.deepStrictEqual(evs.map((e) => e.documentKey._id), [...ids, ids[0], ids[1]]);
      assert.deepStrictEqual(evs.slice(0, 5).map((e) => e.fullDocument.i), [0, 1, 2, 3, 4]);
    });

    it('a 2 MiB document event arrives intact', async function () {
      this.timeout(20000);
      const c = client();
      const s = c.watch('large');
      await s.ready;
      const big = patternString(2 * 1024 * 1024);
      assert.strictEqual(big.length, 2 * 1024 * 1024);
      const { document_id: id } = await c.create('large', { big, after: 'tail' });
      const ev = await nextEvent(s, 15000);
      assert.strictEqual(ev.operationType, 'insert');
      assert.strictEqual(ev.documentKey._id, id);
      assert.strictEqual(ev.fullDocument.big.length, big.length);
      assert.ok(ev.fullDocument.big === big, 'the 2 MiB string differs');
      assert.strictEqual(ev.fullDocument.after, 'tail');
      // The request path carries it too.
      const doc = await c.get('large', id);
      assert.ok(doc.big === big);
    });

    it('non-ASCII text (2-, 3- and 4-byte UTF-8) over many string segments, long non-ASCII keys, int64, bins: every event intact', async function () {
      // The worker cuts a batch's text into segments at event starts; string
      // offsets count UTF-16 units from each segment's start.
      this.timeout(20000);
      const EVENTS = 1000;
      const doc = (i) => ({
        operationType: i % 3 ? 'insert' : 'ïnsért',
        ns: { db: 'nexadb', coll: 'ü' },
        [`ключ-долгий-ключ-${i % 5}`]: `väl-${i}-😀`,
        documentKey: { _id: `id-😀-${i}-${'ß'.repeat(i % 20)}` },
        fullDocument: { big: 'é😀中'.repeat((i * 37) % 1500), arr: [i, 'ж', { 'ünïcødé-key-long': `x😀${i}` }], n: 2 ** 40 + i, b: Buffer.from([i & 255, 1, 2]), emo: '😀' },
      });
      const server = await burstServer(() => Buffer.concat(Array.from({ length: EVENTS }, (_, i) => encoder.frame(native.constants.msg.CHANGE_EVENT, doc(i)))));
      const c = new NexaClient({ host: '127.0.0.1', port: server.port, autoReconnect: false });
      try {
        const s = c.watch('x');
        await s.ready;
        let n = 0;
        for await (const ev of s) {
          assert.deepStrictEqual(ev, doc(n), `event ${n}`);
          if (++n === EVENTS) break;
        }
        assert.strictEqual(n, EVENTS);
      } finally {
        await c.disconnect();
        await server.close();
      }
    });

    it('every MessagePack encoding of every type, written out by hand, arrives as its value (the worker reads the bytes straight onto the tape)', async () => {
      // Each width of each type (fixint to uint64, str8/16/32 for short text,
      // bin8/16/32, array16/32, map16/32), a map of 70 keys and one with an
      // 80-byte key (both written with their keys), maps of one size with
      // other keys (the shape hint misses), arrays of maps, empty ones.
      const fixed = (tag, width, write) => { const b = Buffer.alloc(1 + width); b[0] = tag; write(b); return b; };
      const head = (tag, n, width) => fixed(tag, width, (b) => b.writeUIntBE(n, 1, width));
      const str = (text, width) => {
        const b = Buffer.from(text);
        return Buffer.concat([width ? head({ 1: 0xd9, 2: 0xda, 4: 0xdb }[width], b.length, width) : Buffer.from([0xa0 | b.length]), b]);
      };
      const bin = (b, width) => Buffer.concat([head({ 1: 0xc4, 2: 0xc5, 4: 0xc6 }[width], b.length, width), b]);
      const arr = (items, width) => Buffer.concat([width ? head(width === 2 ? 0xdc : 0xdd, items.length, width) : Buffer.from([0x90 | items.length]), ...items]);
      const map = (pairs, width) => Buffer.concat([width ? head(width === 2 ? 0xde : 0xdf, pairs.length, width) : Buffer.from([0x80 | pairs.length]),
        ...pairs.flatMap(([k, v]) => [str(k, k.length < 32 ? 0 : 1), v])]);
      const one = (byte) => Buffer.from([byte]);
      const bytes = (n, from) => Buffer.from(Array.from({ length: n }, (_, i) => (from + i) & 255));
      const wideKeys = Array.from({ length: 70 }, (_, i) => [`w${i}`, one(i)]);
      const longKey = 'k'.repeat(80);

      const payload = map([
        ['operationType', str('insert', 1)],
        ['ns', map([['db', str('nexadb', 2)], ['coll', str('types', 4)]])],
        ['documentKey', map([['_id', str('id-1', 2)]], 2)],
        ['fullDocument', map([
          ['u8', fixed(0xcc, 1, (b) => b.writeUInt8(200, 1))],
          ['u16', fixed(0xcd, 2, (b) => b.writeUInt16BE(60000, 1))],
          ['u32', fixed(0xce, 4, (b) => b.writeUInt32BE(4000000000, 1))],
          ['u64', fixed(0xcf, 8, (b) => b.writeBigUInt64BE(2n ** 53n - 1n, 1))],
          ['i8', fixed(0xd0, 1, (b) => b.writeInt8(-100, 1))],
          ['i16', fixed(0xd1, 2, (b) => b.writeInt16BE(-30000, 1))],
          ['i32', fixed(0xd2, 4, (b) => b.writeInt32BE(-2000000000, 1))],
          ['i64', fixed(0xd3, 8, (b) => b.writeBigInt64BE(-(2n ** 53n - 1n), 1))],
          ['i64small', fixed(0xd3, 8, (b) => b.writeBigInt64BE(7n, 1))],
          ['pos', one(0x7f)], ['neg', one(0xe0)],
          ['f32', fixed(0xca, 4, (b) => b.writeFloatBE(1.5, 1))],
          ['f64', fixed(0xcb, 8, (b) => b.writeDoubleBE(0.1, 1))],
          ['nil', one(0xc0)], ['yes', one(0xc3)], ['no', one(0xc2)],
          ['s8', str('eight', 1)], ['s16', str('sixteen ✓', 2)], ['s32', str('thirty-two 😀', 4)], ['sEmpty', str('', 1)],
          ['b8', bin(bytes(3, 1), 1)], ['b16', bin(bytes(300, 7), 2)], ['b32', bin(bytes(5, 250), 4)],
          ['a16', arr([one(0x01), map([])], 2)],
          ['a32', arr([arr([]), map([['x', one(0x01)]])], 4)],
          ['m16', map([['k', str('v')]], 2)],
          ['m32', map([['k', str('v')], ['j', one(0xc3)]], 4)],
          ['pair', map([['x', one(0x01)], ['y', one(0x02)]])],
          ['wide', map(wideKeys, 2)],
          ['longKey', map([[longKey, one(0x01)]])],
          ['maps', arr([map([['a', one(0x01)]]), map([['a', one(0x02)]]), map([['b', arr([map([['c', one(0x03)]])])]])])],
        ], 4)],
      ], 2);
      const wide = Object.fromEntries(wideKeys.map(([k], i) => [k, i]));
      const expected = {
        operationType: 'insert',
        ns: { db: 'nexadb', coll: 'types' },
        documentKey: { _id: 'id-1' },
        fullDocument: {
          u8: 200, u16: 60000, u32: 4000000000, u64: 2 ** 53 - 1,
          i8: -100, i16: -30000, i32: -2000000000, i64: -(2 ** 53 - 1), i64small: 7,
          pos: 127, neg: -32, f32: 1.5, f64: 0.1, nil: null, yes: true, no: false,
          s8: 'eight', s16: 'sixteen ✓', s32: 'thirty-two 😀', sEmpty: '',
          b8: bytes(3, 1), b16: bytes(300, 7), b32: bytes(5, 250),
          a16: [1, {}], a32: [[], { x: 1 }], m16: { k: 'v' }, m32: { k: 'v', j: true },
          pair: { x: 1, y: 2 }, wide, longKey: { [longKey]: 1 },
          maps: [{ a: 1 }, { a: 2 }, { b: [{ c: 3 }] }],
        },
      };
      const frame = frameBytes(native.constants.msg.CHANGE_EVENT, payload);
      const server = await burstServer(() => Buffer.concat([frame, frame, frame]));
      const c = new NexaClient({ host: '127.0.0.1', port: server.port, autoReconnect: false });
      try {
        const s = c.watch('types');
        await s.ready;
        // The first builds every shape; the next two find them (the hints).
        for (let i = 0; i < 3; i++) assert.deepStrictEqual(await nextEvent(s), expected, `event ${i}`);
      } finally {
        await c.disconnect();
        await server.close();
      }
    });

    it('an event past the reused batch arrays (300,000 numbers), then small ones: all intact', async function () {
      // The addon hands batches over in typed arrays it reuses, up to 1 MiB
      // each; a larger batch gets arrays of its own, and the next batches
      // must be back on the reused ones.
      this.timeout(20000);
      const c = client();
      const s = c.watch('arrays');
      await s.ready;
      const nums = Array.from({ length: 300000 }, (_, i) => i * 1.5);
      await c.create('arrays', { n: 0 });
      await c.create('arrays', { nums });
      for (let i = 1; i <= 3; i++) await c.create('arrays', { n: i, tag: `t${i}` });
      const evs = await takeEvents(s, 5);
      assert.strictEqual(evs[0].fullDocument.n, 0);
      assert.deepStrictEqual(evs[1].fullDocument.nums, nums);
      assert.deepStrictEqual(evs.slice(2).map((e) => [e.fullDocument.n, e.fullDocument.tag]), [[1, 't1'], [2, 't2'], [3, 't3']]);
    });

    it('an event larger than maxFrameBytes ends the stream with NexaProtocolError (autoReconnect off)', async () => {
      const c = client({ maxFrameBytes: 1024, autoReconnect: false });
      const s = c.watch('toolarge');
      await s.ready;
      const writer = client();
      await writer.create('toolarge', { big: 'x'.repeat(5000) });
      await assert.rejects(s.next(), (e) => e instanceof NexaClient.NexaProtocolError && e.code === 'NEXA_PROTOCOL' && /maxFrameBytes/.test(e.message));
      assert.strictEqual(s.closed, true);
    });

    it('events carry the value types (int64 auto on the stream)', async () => {
      const c = client({ int64: 'auto' });
      const s = c.watch('evtypes');
      await s.ready;
      await c.create('evtypes', { u: 2n ** 64n - 1n, i: -(2n ** 63n), z: -0, t: 'café ☕ 🚀 中文', l: [null, true, false, [], {}] });
      const ev = await nextEvent(s);
      const d = ev.fullDocument;
      assert.strictEqual(d.u, 2n ** 64n - 1n);
      assert.strictEqual(d.i, -(2n ** 63n));
      assert.ok(Object.is(d.z, -0));
      assert.strictEqual(d.t, 'café ☕ 🚀 中文');
      assert.deepStrictEqual(d.l, [null, true, false, [], {}]);
    });
  });
});
