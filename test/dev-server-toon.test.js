'use strict';

// The dev server's QUERY_TOON, EXPORT_TOON and IMPORT_TOON, over raw sockets,
// with the reference server's answers.

const assert = require('assert');
const { T, ID } = require('./helpers/dev-server-raw');
const { ok, error, keys, devServerWithRootPerTest } = require('./helpers/dev-server-requests');

describe('dev server: remaining request types', () => {
  describe('QUERY_TOON, EXPORT_TOON, IMPORT_TOON', function () {
    let root;
    devServerWithRootPerTest(this, (s, r) => { root = r; });

    async function people() {
      await ok(root, T.CREATE, { collection: 'people', data: { name: 'Ada', age: 36, active: true } });
      await ok(root, T.CREATE, { collection: 'people', data: { name: 'Bob, Jr', age: 40.5, active: false } });
      await ok(root, T.CREATE, { collection: 'people', data: { name: 'Cy', note: null } });
      return (await ok(root, T.QUERY, { collection: 'people' })).documents;
    }

    it('QUERY_TOON answers TOON text and token stats', async () => {
      const docs = await people();
      const a = await ok(root, T.QUERY_TOON, { collection: 'people', filters: {}, limit: 100 });
      assert.deepStrictEqual(keys(a), ['database', 'collection', 'format', 'data', 'count', 'token_stats']);
      assert.strictEqual(a.format, 'TOON');
      assert.strictEqual(a.count, 3);
      const cell = (v) => (v === undefined || v === null ? 'null' : typeof v === 'string' && v.includes(',') ? JSON.stringify(v) : String(v));
      // the columns: every document's keys, in first-seen order over the documents (sorted by _id)
      const fields = [];
      for (const d of docs) for (const k of Object.keys(d)) if (!fields.includes(k)) fields.push(k);
      assert.deepStrictEqual([...fields].sort(), ['_created_at', '_id', '_updated_at', 'active', 'age', 'name', 'note']);
      const expected = [
        'collection: people',
        `documents[3]{${fields.join(',')}}:`,
        ...docs.map((d) => `  ${fields.map((f) => cell(d[f])).join(',')}`),
        'count: 3',
      ].join('\n');
      assert.strictEqual(a.data, expected);
      assert.deepStrictEqual(keys(a.token_stats), ['json_size', 'toon_size', 'reduction_percent']);
      assert.strictEqual(a.token_stats.toon_size, a.data.length);
      // Python's json.dumps({'documents': docs}): ", " and ": " separators
      const pyJson = JSON.stringify({ documents: docs }).replace(/","/g, '", "').replace(/":/g, '": ')
        .replace(/,"/g, ', "').replace(/\},\{/g, '}, {');
      assert.strictEqual(a.token_stats.json_size, pyJson.length);
      const pct = Math.round(((pyJson.length - a.data.length) / pyJson.length) * 1000) / 10;
      assert.strictEqual(a.token_stats.reduction_percent, pct);
    });

    it('QUERY_TOON honours filters, limit and database', async () => {
      await people();
      const a = await ok(root, T.QUERY_TOON, { collection: 'people', filters: { name: 'Ada' } });
      assert.strictEqual(a.count, 1);
      assert.ok(a.data.startsWith('collection: people\ndocuments[1]{_id,_created_at,_updated_at,name,age,active}:\n'));
      const b = await ok(root, T.QUERY_TOON, { collection: 'people', database: 'other' });
      assert.strictEqual(b.database, 'other');
      assert.strictEqual(b.data, 'collection: people\ndocuments[0]:\ncount: 0');
      await error(root, T.QUERY_TOON, {}, "Missing 'collection' field");
    });

    it('EXPORT_TOON then IMPORT_TOON round-trips the documents', async () => {
      const docs = await people();
      const e = await ok(root, T.EXPORT_TOON, { collection: 'people' });
      assert.deepStrictEqual(keys(e), ['database', 'collection', 'format', 'data', 'count', 'token_stats']);
      assert.deepStrictEqual(keys(e.token_stats), ['json_size', 'toon_size', 'reduction_percent', 'estimated_cost_savings']);
      assert.match(e.token_stats.estimated_cost_savings, /^~-?\d+\.0% less tokens for LLM processing$/);
      assert.match(e.data, /\ncount: 3\nexported_at: \d+\.\d+$/);

      const i = await ok(root, T.IMPORT_TOON, { collection: 'copy', toon_data: e.data, database: 'backup' });
      assert.deepStrictEqual(keys(i), ['database', 'collection', 'imported', 'replaced', 'document_ids', 'message']);
      assert.strictEqual(i.imported, 3);
      assert.strictEqual(i.replaced, false);
      assert.strictEqual(i.message, 'Successfully imported 3 documents from TOON format');
      i.document_ids.forEach((id) => assert.match(id, ID));
      const copied = (await ok(root, T.QUERY, { collection: 'copy', database: 'backup' })).documents;
      const strip = ({ name, age, active, note }) => ({ name, age, active, note });
      const norm = (d) => JSON.stringify(strip(d), (k, v) => (v === undefined ? null : v));
      assert.deepStrictEqual(copied.map(norm).sort(), docs.map(norm).sort());
      // the default database is untouched
      assert.strictEqual((await ok(root, T.QUERY, { collection: 'copy' })).count, 0);
    });

    it('IMPORT_TOON replace empties the collection first', async () => {
      await people();
      const i = await ok(root, T.IMPORT_TOON, {
        collection: 'people', replace: true, toon_data: 'documents[2]{name,age}:\n  Zed,1\n  Yan,2',
      });
      assert.strictEqual(i.imported, 2);
      assert.strictEqual(i.replaced, true);
      const docs = (await ok(root, T.QUERY, { collection: 'people' })).documents;
      assert.deepStrictEqual(docs.map((d) => d.name).sort(), ['Yan', 'Zed']);
      const single = await ok(root, T.IMPORT_TOON, { collection: 'one', toon_data: 'name: Solo\nn: 3' });
      assert.strictEqual(single.imported, 1);
      const one = (await ok(root, T.QUERY, { collection: 'one' })).documents[0];
      assert.strictEqual(one.name, 'Solo');
      assert.strictEqual(one.n, 3);
      await error(root, T.IMPORT_TOON, { collection: 'x' }, "Missing 'toon_data' field");
      await error(root, T.IMPORT_TOON, { toon_data: 'a: 1' }, "Missing 'collection' field");
      await error(root, T.IMPORT_TOON, { collection: 'x', toon_data: 'rows[two]{a}:\n  1' },
        "Failed to import TOON data: invalid literal for int() with base 10: 'two'");
    });
  });
});
