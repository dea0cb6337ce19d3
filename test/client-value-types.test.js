'use strict';
// NexaClient: values round-tripped through the server, and the int64 modes
// that decide how big integers come back.
const assert = require('assert');

const { devServerSuite } = require('./fixtures/helpers');

describe('NexaClient', function () {
  this.timeout(10000);

  const suite = devServerSuite();
  const { client } = suite;

  describe('value types', () => {
    const U64_MAX = 2n ** 64n - 1n;
    const I64_MIN = -(2n ** 63n);
    const I64_MAX = 2n ** 63n - 1n;

    function sample() {
      return {
        u64max: U64_MAX,
        i64min: I64_MIN,
        i64max: I64_MAX,
        safe: Number.MAX_SAFE_INTEGER,
        negSafe: -Number.MAX_SAFE_INTEGER,
        small: 42,
        negative: -7,
        zero: 0,
        negZero: -0,
        tiny: 1.5e-300,
        half: 0.5,
        pi: Math.PI,
        text: 'café ☕ 🚀 中文',
        empty: '',
        nested: { a: { b: { c: [1, { d: 'deep' }] } }, 'key with spaces': 'ok', 'ключ': 'значение' },
        list: [null, true, false, [], {}, 'x', 1.25, -3],
        nil: null,
        yes: true,
        no: false,
      };
    }

    function checkCommon(doc) {
      assert.strictEqual(doc.safe, Number.MAX_SAFE_INTEGER);
      assert.strictEqual(doc.negSafe, -Number.MAX_SAFE_INTEGER);
      assert.strictEqual(doc.small, 42);
      assert.strictEqual(doc.negative, -7);
      assert.ok(Object.is(doc.zero, 0), 'zero stays +0');
      assert.ok(Object.is(doc.negZero, -0), `negZero arrived as ${doc.negZero}`);
      assert.strictEqual(doc.tiny, 1.5e-300);
      assert.strictEqual(doc.half, 0.5);
      assert.strictEqual(doc.pi, Math.PI);
      assert.strictEqual(doc.text, 'café ☕ 🚀 中文');
      assert.strictEqual(doc.empty, '');
      assert.deepStrictEqual(doc.nested, sample().nested);
      assert.deepStrictEqual(Object.keys(doc.nested), ['a', 'key with spaces', 'ключ']);
      assert.deepStrictEqual(doc.list, [null, true, false, [], {}, 'x', 1.25, -3]);
      assert.strictEqual(doc.nil, null);
      assert.strictEqual(doc.yes, true);
      assert.strictEqual(doc.no, false);
      assert.deepStrictEqual(Object.keys(doc).slice(3), Object.keys(sample()));
    }

    it("round trip with int64: 'auto' keeps big integers exact as BigInt", async () => {
      const c = client({ int64: 'auto' });
      const { document_id: id } = await c.create('types', sample());
      const doc = await c.get('types', id);
      assert.strictEqual(doc.u64max, U64_MAX);
      assert.strictEqual(doc.i64min, I64_MIN);
      assert.strictEqual(doc.i64max, I64_MAX);
      assert.strictEqual(typeof doc.safe, 'number', 'safe integers stay Numbers in auto mode');
      checkCommon(doc);
      // Through a query too.
      const [viaQuery] = await c.query('types', { u64max: U64_MAX });
      assert.ok(viaQuery, 'query by a uint64 value finds the document');
      assert.strictEqual(viaQuery.u64max, U64_MAX);
    });

    it("with the default int64: 'number' the same big values arrive as Numbers", async () => {
      const writer = client({ int64: 'auto' });
      const { document_id: id } = await writer.create('types', sample());
      const c = client();
      const doc = await c.get('types', id);
      for (const [k, big] of [['u64max', U64_MAX], ['i64min', I64_MIN], ['i64max', I64_MAX]]) {
        assert.strictEqual(typeof doc[k], 'number', `${k} is ${typeof doc[k]}`);
        assert.strictEqual(doc[k], Number(big));
      }
      checkCommon(doc);
    });

    it('a large answer, its text over many string segments, comes back exactly: nested documents, the strings after them, a __proto__ key as an own property', async () => {
      const c = client();
      const docs = Array.from({ length: 60 }, (_, n) => ({
        n,
        inner: { text: 'é'.repeat(40) + 'x'.repeat(150 + n), tag: `t${n}`, deeper: { k: 'v'.repeat(n) } },
        after: `after ${n} ${'y'.repeat(90)}`,
        short: 'ok',
        ...(n % 7 === 0 ? JSON.parse(`{"__proto__": {"polluted": ${n}}}`) : {}),
      }));
      await c.batchWrite('big_answers', docs);
      const got = await c.query('big_answers', {}, 100);
      assert.strictEqual(got.length, docs.length);
      got.sort((a, b) => a.n - b.n);
      for (const doc of got) {
        const want = docs[doc.n];
        assert.deepStrictEqual(doc.inner, want.inner);
        assert.strictEqual(doc.after, want.after);
        assert.strictEqual(doc.short, 'ok');
        assert.strictEqual(Object.getPrototypeOf(doc), Object.prototype, 'a __proto__ key never sets the prototype');
        if (doc.n % 7 === 0) assert.deepStrictEqual(Object.getOwnPropertyDescriptor(doc, '__proto__').value, { polluted: doc.n });
      }
      assert.strictEqual({}.polluted, undefined);
    });

    it("int64: 'bigint' gives integers outside 32 bits as BigInt; 'string' gives unsafe ones as decimal text", async () => {
      const writer = client({ int64: 'auto' });
      const { document_id: id } = await writer.create('types', { u: U64_MAX, i: I64_MIN, s: 5, f: 1.5, w: 2 ** 40 });
      const b = await client({ int64: 'bigint' }).get('types', id);
      assert.strictEqual(b.u, U64_MAX);
      assert.strictEqual(b.i, I64_MIN);
      assert.strictEqual(b.s, 5, 'index.d.ts: a BigInt for every integer outside the 32-bit range');
      assert.strictEqual(b.w, 2n ** 40n);
      assert.strictEqual(b.f, 1.5);
      const s = await client({ int64: 'string' }).get('types', id);
      assert.strictEqual(s.u, '18446744073709551615');
      assert.strictEqual(s.i, '-9223372036854775808');
      assert.strictEqual(s.s, 5);
      assert.strictEqual(s.w, 2 ** 40);
      assert.strictEqual(s.f, 1.5);
    });
  });
});
