'use strict';

// The dev server (lib/dev-server.js) replaying the reference transcripts over a
// raw socket: every answer must match the recorded one.

const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { decode, constants: { headerSize: HEADER_SIZE } } = require('../lib/native');
const { startsWithHeader } = require('../lib/frame-reader');
const { T, ID, DATE, frame, RawClient, show, authed, replacer, devServerPerTest } = require('./helpers/dev-server-raw');

const TRANSCRIPTS = path.join(__dirname, '..', '..', 'shared', 'protocol', 'reference-transcripts.json');
const MISSING = `the protocol folder is missing: ${path.dirname(TRANSCRIPTS)} not found`;

/** Skips a transcript test, saying why in its title and once on stderr. */
let warned = false;
function skipMissing(ctx) {
  if (!warned) {
    warned = true;
    process.stderr.write(`dev-server tests: skipping the transcript replays: ${MISSING}\n`);
  }
  ctx.test.title += ` (skipped: ${MISSING})`;
  ctx.skip();
}

let transcripts;
function loadTranscripts() {
  if (transcripts === undefined) {
    transcripts = fs.existsSync(TRANSCRIPTS) ? JSON.parse(fs.readFileSync(TRANSCRIPTS, 'utf8')) : null;
  }
  return transcripts;
}

function isMap(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/**
 * Compares an answer with the recorded one: the same keys in the same order
 * in every map, equal values, except the values that are random or
 * time-dependent, which must have the recorded form.
 */
function assertLike(actual, expected, where, ids) {
  if (isMap(expected)) {
    assert.ok(isMap(actual), `${where}: expected a map, got ${JSON.stringify(actual, replacer)}`);
    assert.deepStrictEqual(Object.keys(actual), Object.keys(expected), `${where}: keys or key order differ`);
    for (const k of Object.keys(expected)) assertLike(actual[k], expected[k], `${where}.${k}`, ids);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: expected an array`);
    assert.strictEqual(actual.length, expected.length, `${where}: length`);
    const idList = /\.document_ids$/.test(where);
    expected.forEach((e, i) => {
      if (idList) assertId(actual[i], e, `${where}[${i}]`, ids);
      else assertLike(actual[i], e, `${where}[${i}]`, ids);
    });
    return;
  }
  const key = where.slice(where.lastIndexOf('.') + 1);
  if (key === '_id' || key === 'document_id') return assertId(actual, expected, where, ids);
  if (key === '_created_at' || key === '_updated_at') {
    assert.match(actual, DATE, where);
    return;
  }
  if (key === 'timestamp') {
    assert.strictEqual(typeof actual, 'number', where);
    assert.ok(Math.abs(actual - Date.now() / 1000) < 60, `${where}: ${actual} is not now`);
    return;
  }
  if (typeof expected === 'number' && Object.is(expected, -0)) {
    assert.ok(Object.is(actual, -0), `${where}: expected -0, got ${actual}`);
    return;
  }
  assert.strictEqual(actual, expected, `${where}`);
}

/** A recorded id maps to one id of ours, the same everywhere. */
function assertId(actual, expected, where, ids) {
  assert.match(actual, ID, where);
  if (ids.has(expected)) assert.strictEqual(actual, ids.get(expected), `${where}: not the same document`);
  else ids.set(expected, actual);
}

function expectedPayload(f) {
  if (f.hex) return decode(Buffer.from(f.hex, 'hex').subarray(HEADER_SIZE), { int64: 'auto' });
  return f.payload; // only watch_large_document, whose blob is abbreviated
}

/** A client-to-server frame of a transcript, its recorded key replaced by ours. */
function c2sBytes(f, ids) {
  const bytes = Buffer.from(f.hex, 'hex');
  if (!startsWithHeader(bytes)) return bytes;
  let payload;
  try {
    payload = decode(bytes.subarray(HEADER_SIZE), { int64: 'auto' });
  } catch (_) {
    return bytes; // the bad_msgpack frame
  }
  if (isMap(payload) && typeof payload.key === 'string' && ids.has(payload.key)) {
    return frame(bytes[5], Object.assign({}, payload, { key: ids.get(payload.key) }));
  }
  return bytes;
}

function documentFields(doc) {
  const out = {};
  for (const k of Object.keys(doc)) if (!k.startsWith('_')) out[k] = doc[k];
  return out;
}

/** The write, on another connection, that makes a recorded event. */
async function causeEvent(writer, event, ids) {
  const coll = event.ns.coll;
  let f;
  if (event.operationType === 'insert') {
    const fields = documentFields(event.fullDocument);
    if (fields.blob && fields.blob.$str) fields.blob = 'z'.repeat(fields.blob.$len);
    f = await writer.request(T.CREATE, { collection: coll, data: fields });
    ids.set(event.documentKey._id, f.payload.document_id);
  } else if (event.operationType === 'update') {
    f = await writer.request(T.UPDATE, {
      collection: coll, key: ids.get(event.documentKey._id), updates: event.updateDescription.updatedFields,
    });
  } else if (event.operationType === 'delete') {
    f = await writer.request(T.DELETE, { collection: coll, key: ids.get(event.documentKey._id) });
  } else {
    f = await writer.request(T.DROP_COLLECTION, { collection: coll });
  }
  assert.strictEqual(f.type, T.SUCCESS, JSON.stringify(f.payload, replacer));
}

/** Frames whose bytes hold nothing random must be byte-identical to the reference's. */
function hasRandom(payload) {
  return /"(_id|document_id|document_ids|_created_at|_updated_at|timestamp)"/.test(JSON.stringify(payload, replacer));
}

async function replay(server, scenario) {
  const ids = new Map();
  const client = await RawClient.open(server);
  let writer = null;
  try {
    for (const f of scenario.frames) {
      if (f.dir === 'c2s') {
        client.sendRaw(c2sBytes(f, ids));
        continue;
      }
      if (f.dir === 's2c' && f.closed) {
        await client.waitClosed();
        continue;
      }
      if (!f.dir && f.error) {
        // The reference reset the connection after its ERROR: ours closes it.
        await client.waitClosed();
        continue;
      }
      const expected = expectedPayload(f);
      if (f.type === T.EVENT) {
        if (!writer) writer = await authed(server);
        await causeEvent(writer, expected, ids);
      }
      const got = await client.next();
      const where = `frame ${scenario.frames.indexOf(f)}`;
      assert.strictEqual(got.type, f.type, `${where}: type, got ${JSON.stringify(show(got), replacer)}`);
      assert.strictEqual(got.flags, 0);
      if (expected.error && expected.error.startsWith('Invalid MessagePack: ')) {
        assert.deepStrictEqual(Object.keys(got.payload), ['error']);
        assert.ok(got.payload.error.startsWith('Invalid MessagePack: '), got.payload.error);
        continue;
      }
      if (f.header_hex) {
        // watch_large_document: same header, so same payload length.
        assert.strictEqual(got.raw.subarray(0, HEADER_SIZE).toString('hex'), f.header_hex);
        const blob = got.payload.fullDocument.blob;
        assert.strictEqual(blob.length, expected.fullDocument.blob.$len);
        assert.ok(/^z+$/.test(blob));
        got.payload.fullDocument.blob = expected.fullDocument.blob;
      }
      assertLike(got.payload, expected, where, ids);
      assert.strictEqual(got.length, f.payload_len, `${where}: payload length`);
      if (f.hex && !hasRandom(expected)) {
        assert.strictEqual(got.raw.toString('hex'), f.hex, `${where}: bytes`);
      }
    }
    if (!client.closed) {
      const authenticated = scenario.frames.some((f) => f.dir === 's2c' && f.payload && f.payload.status === 'connected');
      await client.assertNothingPending({ authenticated });
    }
  } finally {
    client.end();
    if (writer) writer.end();
  }
}

const SCENARIOS = [
  'connect_ok', 'connect_bad_password', 'connect_missing_fields', 'unauthenticated_request',
  'bad_magic', 'bad_version', 'bad_msgpack', 'unknown_type', 'crud', 'watch_orders_crud',
  'watch_all_with_drop', 'watch_filtered_ops', 'watch_value_types', 'create_binary_refused',
  'watch_large_document', 'subscribe_twice_same_connection',
];

describe('dev server', () => {
  describe('reference transcripts replayed', function () {
    let server;
    devServerPerTest(this, (s) => { server = s; });

    it('holds the 16 scenarios listed here', function () {
      const t = loadTranscripts();
      if (!t) skipMissing(this);
      assert.deepStrictEqual(Object.keys(t.scenarios).sort(), SCENARIOS.slice().sort());
    });

    for (const name of SCENARIOS) {
      it(name, async function () {
        const t = loadTranscripts();
        if (!t) skipMissing(this);
        await replay(server, t.scenarios[name]);
      });
    }
  });
});
