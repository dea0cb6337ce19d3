'use strict';

// The dev server's VECTOR_SEARCH, GET_VECTORS and BUILD_HNSW_INDEX, over raw
// sockets, with the reference server's answers.

const assert = require('assert');
const { T } = require('./helpers/dev-server-raw');
const { ok, error, keys, devServerWithRootPerTest } = require('./helpers/dev-server-requests');

describe('dev server: remaining request types', () => {
  describe('VECTOR_SEARCH, GET_VECTORS, BUILD_HNSW_INDEX', function () {
    let root;
    devServerWithRootPerTest(this, (s, r) => { root = r; });

    async function seed(c, database) {
      const ids = {};
      for (const [name, vector] of [['x', [1, 0, 0]], ['xy', [0.7, 0.7, 0]], ['z', [0, 0, 1]], ['mostly-x', [0.9, 0.1, 0]]]) {
        const data = { name, vector, price: name.length };
        const a = await ok(c, T.CREATE, database ? { collection: 'vecs', data, database } : { collection: 'vecs', data });
        ids[name] = a.document_id;
      }
      return ids;
    }

    it('ranks the nearest first, with the reference answer shape', async () => {
      const ids = await seed(root);
      const a = await ok(root, T.VECTOR_SEARCH, { collection: 'vecs', vector: [1, 0, 0], limit: 3, dimensions: 3 });
      assert.deepStrictEqual(keys(a), ['database', 'collection', 'results', 'count']);
      assert.strictEqual(a.database, 'default');
      assert.strictEqual(a.count, 3);
      assert.deepStrictEqual(a.results.map((r) => r.document.name), ['x', 'mostly-x', 'xy']);
      for (const r of a.results) {
        assert.deepStrictEqual(keys(r), ['document_id', 'similarity', 'document']);
        assert.strictEqual(r.document_id, ids[r.document.name]);
        assert.ok(!('vector' in r.document), 'the stored document does not hold its vector');
        assert.deepStrictEqual(keys(r.document), ['_id', '_created_at', '_updated_at', 'name', 'price']);
      }
      assert.ok(a.results[0].similarity > 0.999 && a.results[0].similarity <= 1);
      assert.ok(a.results[0].similarity > a.results[1].similarity);
      assert.ok(a.results[1].similarity > a.results[2].similarity);
      // READ shows no vector either
      const read = await ok(root, T.READ, { collection: 'vecs', key: ids.x });
      assert.ok(!('vector' in read.document));
    });

    it('defaults: limit 10, dimensions 768 (a shorter vector is refused)', async () => {
      await seed(root);
      await error(root, T.VECTOR_SEARCH, { collection: 'vecs', vector: [1, 0, 0] }, 'Query vector must have 768 dimensions');
      const a = await ok(root, T.VECTOR_SEARCH, { collection: 'vecs', vector: [0, 0, 1], dimensions: 3 });
      assert.strictEqual(a.count, 4);
      assert.strictEqual(a.results[0].document.name, 'z');
      await error(root, T.VECTOR_SEARCH, { collection: 'vecs' }, "Missing 'collection' or 'vector' field");
      await error(root, T.VECTOR_SEARCH, { vector: [1] }, "Missing 'collection' or 'vector' field");
    });

    it('applies the filters to the nearest `limit`', async () => {
      await seed(root);
      const a = await ok(root, T.VECTOR_SEARCH, {
        collection: 'vecs', vector: [1, 0, 0], dimensions: 3, limit: 10, filters: { price: { $gte: 2 } },
      });
      assert.deepStrictEqual(a.results.map((r) => r.document.name), ['mostly-x', 'xy']);
      const b = await ok(root, T.VECTOR_SEARCH, {
        collection: 'vecs', vector: [1, 0, 0], dimensions: 3, limit: 1, filters: { name: 'xy' },
      });
      assert.deepStrictEqual(b, { database: 'default', collection: 'vecs', results: [], count: 0 });
    });

    it('refuses a vector whose length differs from the collection\'s', async () => {
      await seed(root);
      await error(root, T.CREATE, { collection: 'vecs', data: { vector: [1, 2] } },
        'Vector dimension mismatch: collection expects 3 dimensions, got 2');
    });

    it('keeps vectors per database', async () => {
      await seed(root, 'lab');
      const a = await ok(root, T.VECTOR_SEARCH, { collection: 'vecs', vector: [1, 0, 0], dimensions: 3 });
      assert.strictEqual(a.count, 0);
      const b = await ok(root, T.VECTOR_SEARCH, { collection: 'vecs', vector: [1, 0, 0], dimensions: 3, database: 'lab' });
      assert.strictEqual(b.database, 'lab');
      assert.strictEqual(b.count, 4);
    });

    it('BATCH_WRITE stores vectors too', async () => {
      const a = await ok(root, T.BATCH_WRITE, {
        collection: 'bv', documents: [{ n: 1, vector: [1, 0] }, { n: 2 }, { n: 3, vector: [0, 1] }],
      });
      assert.strictEqual(a.count, 3);
      const s = await ok(root, T.VECTOR_SEARCH, { collection: 'bv', vector: [0, 1], dimensions: 2 });
      assert.deepStrictEqual(s.results.map((r) => r.document.n), [3, 1]);
    });

    it('GET_VECTORS reports vectors per collection', async () => {
      const ids = await seed(root);
      const a = await ok(root, T.GET_VECTORS, {});
      assert.deepStrictEqual(keys(a), ['database', 'status', 'total_vectors', 'collections']);
      assert.strictEqual(a.status, 'success');
      assert.strictEqual(a.total_vectors, 4);
      assert.deepStrictEqual(keys(a.collections), ['vecs']);
      assert.deepStrictEqual(keys(a.collections.vecs), ['count', 'documents', 'dimensions']);
      assert.strictEqual(a.collections.vecs.count, 4);
      assert.strictEqual(a.collections.vecs.dimensions, 3);
      assert.deepStrictEqual(a.collections.vecs.documents.map((d) => d.doc_id).sort(), Object.values(ids).sort());
      assert.deepStrictEqual(keys(a.collections.vecs.documents[0]), ['doc_id', 'dimensions']);
      const other = await ok(root, T.GET_VECTORS, { database: 'elsewhere' });
      assert.deepStrictEqual(other, { database: 'elsewhere', status: 'success', total_vectors: 0, collections: {} });
    });

    it('BUILD_HNSW_INDEX answers as the reference', async () => {
      await seed(root);
      const a = await ok(root, T.BUILD_HNSW_INDEX, { collection: 'vecs', M: 32, ef_construction: 100 });
      assert.deepStrictEqual(a, {
        status: 'success', collection: 'vecs', database: 'default', num_vectors: 4,
        message: 'HNSW index built with 4 vectors',
      });
      await error(root, T.BUILD_HNSW_INDEX, { collection: 'plain' }, "No vectors found in collection 'plain'");
      await error(root, T.BUILD_HNSW_INDEX, {}, "Missing 'collection' field");
    });
  });
});
