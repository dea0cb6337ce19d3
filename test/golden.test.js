'use strict';
// Golden tests against the bytes the reference NexaDB server sent
// (../shared/protocol/reference-transcripts.json):
// 1. every server frame decodes, through the addon, to the recorded payload;
// 2. driving the client through each scenario's requests against a server
//    that replays the recorded answers, every frame the client sends decodes
//    to the recorded request, and the client hands back the recorded answers
//    and events.
const assert = require('assert');
const crypto = require('crypto');
const net = require('net');
const NexaClient = require('..');
const native = require('../lib/native');
const encoder = require('../lib/encode');
const { FrameReader } = require('../lib/frame-reader');
const { msg: MSG, magic: MAGIC, headerSize: HEADER_SIZE } = native.constants;
const { load, assertSame, DIR } = require('./helpers/transcripts');

const scenarios = load();

function skipUnlessTranscripts(ctx) {
  if (!scenarios) ctx.skip(`skipped: ${DIR} is absent (no reference transcripts)`);
}

/** The bytes of a recorded server frame (the 2 MiB one is stored as header + sha256). */
function serverFrameBytes(f) {
  if (f.hex) return Buffer.from(f.hex, 'hex');
  const payload = encoder.encode(f.payload);
  const sha = crypto.createHash('sha256').update(payload).digest('hex');
  assert.strictEqual(sha, f.payload_sha256, 'the rebuilt large payload has the recorded sha256');
  return Buffer.concat([Buffer.from(f.header_hex, 'hex'), payload]);
}

describe('golden: recorded server frames decode to the recorded payloads', function () {
  it('has the transcripts', function () {
    skipUnlessTranscripts(this);
    assert.ok(Object.keys(scenarios).length >= 16);
  });
  for (const name of scenarios ? Object.keys(scenarios) : []) {
    it(name, function () {
      let n = 0;
      for (const f of scenarios[name].frames) {
        if (f.dir !== 's2c' || !('payload' in f)) continue;
        const bytes = serverFrameBytes(f);
        assert.strictEqual(bytes.readUInt32BE(0), MAGIC);
        assert.strictEqual(bytes[5], f.type);
        assert.strictEqual(bytes.readUInt32BE(8), f.payload_len);
        assertSame(native.decode(bytes.subarray(HEADER_SIZE), { int64: 'auto' }), f.payload);
        n++;
      }
      assert.ok(n > 0);
    });
  }
});

/**
 * A server that plays one scenario: each client frame must match the next
 * recorded c2s frame; the recorded s2c frames after it are sent back. A
 * DISCONNECT beyond the script is answered goodbye and the socket closed.
 */
function replayServer(frames) {
  const seen = [];
  const problems = [];
  let pos = 0;
  const server = net.createServer((sock) => {
    const reader = new FrameReader();
    const sendUntilNextRequest = () => {
      while (pos < frames.length && frames[pos].dir !== 'c2s') {
        const f = frames[pos++];
        if (f.closed) { sock.end(); return; }
        if (f.dir === 's2c') sock.write(serverFrameBytes(f));
      }
    };
    sock.on('data', (chunk) => {
      reader.push(chunk);
      for (let f = reader.next(); f !== null; f = reader.next()) {
        const { type } = f;
        const payload = native.decode(f.payload, { int64: 'auto' });
        seen.push({ type, payload });
        const want = frames[pos];
        if (want && want.dir === 'c2s') {
          try {
            assert.strictEqual(type, want.type, `request type (frame ${pos})`);
            assertSame(payload, want.payload, `request ${pos}`);
          } catch (err) {
            problems.push(err);
          }
          pos++;
          sendUntilNextRequest();
        } else if (type === MSG.DISCONNECT) {
          sock.end(encoder.frame(MSG.SUCCESS, { status: 'goodbye' }));
        } else {
          problems.push(new Error(`unexpected request type ${type} after the script: ${JSON.stringify(payload)}`));
        }
      }
    });
    sock.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: server.address().port,
    seen,
    problems,
    done: () => pos >= frames.filter((f) => f.dir).length || frames.slice(pos).every((f) => f.dir !== 'c2s'),
    close: () => new Promise((r) => server.close(r)),
  })));
}

function s2c(name, type) {
  return scenarios[name].frames.filter((f) => f.dir === 's2c' && f.type === type).map((f) => f.payload);
}

/** The scenario's frames up to (not including) the first c2s frame the client cannot send. */
function script(name, stopAtRequest) {
  const frames = scenarios[name].frames;
  if (stopAtRequest === undefined) return frames;
  let k = 0;
  const out = [];
  for (const f of frames) {
    if (f.dir === 'c2s' && k++ === stopAtRequest) break;
    out.push(f);
  }
  return out;
}

async function withReplay(name, opts, body, stopAtRequest) {
  const srv = await replayServer(script(name, stopAtRequest));
  const client = new NexaClient({ host: '127.0.0.1', port: srv.port, connectTimeout: 5000, ...opts });
  try {
    await body(client);
    await client.disconnect();
    for (const p of srv.problems) throw p;
    assert.ok(srv.done(), `the client sent every recorded request of ${name}`);
  } finally {
    await client.disconnect();
    await srv.close();
  }
}

async function events(stream, n) {
  const out = [];
  for await (const ev of stream) {
    out.push(ev);
    if (out.length === n) break;
  }
  return out;
}

describe('golden: the client sends the recorded requests and returns the recorded answers', function () {
  this.timeout(20000);
  beforeEach(function () { skipUnlessTranscripts(this); });

  it('connect_ok: CONNECT, PING, DISCONNECT', async () => {
    await withReplay('connect_ok', {}, async (c) => {
      await c.connect();
      const pong = await c.ping();
      assertSame(pong, s2c('connect_ok', MSG.PONG)[0]);
    });
  });

  it('connect_bad_password: the server text, as NexaAuthError', async () => {
    await withReplay('connect_bad_password', { password: 'wrong' }, async (c) => {
      await assert.rejects(c.connect(), (err) => err.code === 'NEXA_AUTH' && err.message === 'Invalid username or password' &&
        err instanceof NexaClient.NexaAuthError);
    }, 1);
  });

  it('crud: CREATE, READ, UPDATE, QUERY, DELETE, missing READ and UPDATE, BATCH_WRITE', async () => {
    const answers = s2c('crud', MSG.SUCCESS);
    await withReplay('crud', {}, async (c) => {
      const id = '0d0ae3b1ddd831aa';
      assertSame(await c.create('vec_crud', { name: 'Alice', age: 30 }), answers[1]);
      assertSame(await c.get('vec_crud', id), answers[2].document);
      assertSame(await c.update('vec_crud', id, { age: 31 }), answers[3]);
      assertSame(await c.query('vec_crud', { age: { $gte: 31 } }, 10), answers[4].documents);
      assertSame(await c.delete('vec_crud', id), answers[5]);
      assert.strictEqual(await c.get('vec_crud', id), null);
      await assert.rejects(c.update('vec_crud', 'nope', { a: 1 }), (e) => e.code === 'NEXA_NOT_FOUND' && e.serverMessage === 'Not found' && e.message.includes('nope'));
      assertSame(await c.batchWrite('vec_crud', [{ n: 1 }, { n: 2 }]), answers[6]);
    }, 9);
  });

  it('create_binary_refused: a Buffer goes out as bin; the ERROR text is the message', async () => {
    await withReplay('create_binary_refused', {}, async (c) => {
      await assert.rejects(c.create('vec_types', { bin: Buffer.from('0001ff', 'hex') }),
        (e) => e.code === 'NEXA_SERVER' && e.message === 'Object of type bytes is not JSON serializable');
    });
  });

  const watches = [
    ['watch_orders_crud', (c) => c.watch('orders'), 3],
    ['watch_all_with_drop', (c) => c.watch(null, { operations: ['insert', 'update', 'delete', 'dropCollection'] }), 2],
    ['watch_filtered_ops', (c) => c.watch('orders', ['insert']), 2],
    ['watch_value_types', (c) => c.watch('vec_types', { operations: ['insert'] }), 1],
    ['watch_large_document', (c) => c.watch('vec_big', { operations: ['insert'] }), 1],
  ];
  for (const [name, open, count] of watches) {
    it(`${name}: SUBSCRIBE as recorded, every event exactly, UNSUBSCRIBE on break`, async () => {
      await withReplay(name, { int64: 'auto' }, async (c) => {
        const stream = open(c);
        assertSame(await stream.ready, s2c(name, MSG.SUCCESS)[1]);
        const got = await events(stream, count);
        const want = s2c(name, MSG.CHANGE_EVENT);
        assert.strictEqual(got.length, want.length);
        got.forEach((ev, k) => assertSame(ev, want[k], `event ${k}`));
        await stream.close();
      });
    });
  }
});
