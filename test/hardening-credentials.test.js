'use strict';
// Hardening (issue 5): the credentials a client was given never show, not
// in its errors (auth, protocol, refused), nor in util.inspect, String(),
// JSON.stringify() of clients and streams: what ends up in logs.
const assert = require('assert');
const util = require('util');

const NexaClient = require('..');
const { startDevServer } = require('../lib/dev-server');
const { startHostile } = require('./fixtures/hardening-hostile');

describe('hardening: credentials never show', function () {
  const USER = 'hardening-user-7f3a';
  const PASS = 'S3cret-pw-9d1c';
  const leaks = (text) => text.includes(PASS);

  function allTexts(x) {
    return [
      String(x),
      util.inspect(x),
      util.inspect(x, { showHidden: true, depth: Infinity, getters: true }),
      util.format('%o', { x }),
      x instanceof Error ? `${x.stack} ${x.message} ${JSON.stringify(x)} ${JSON.stringify(Object.entries(x))}` : '',
    ];
  }

  it('not in errors (auth, protocol, refused) nor in util.inspect of clients and streams', async () => {
    const srv = await startDevServer({ port: 0 });
    const texts = [];
    // Wrong password: NEXA_AUTH.
    const bad = new NexaClient({ host: '127.0.0.1', port: srv.port, username: USER, password: PASS });
    const authErr = await bad.ping().catch((e) => e);
    assert.strictEqual(authErr.code, 'NEXA_AUTH');
    texts.push(...allTexts(authErr), ...allTexts(bad));
    const badStream = bad.watch('c');
    const streamErr = await badStream.ready.catch((e) => e);
    assert.ok(streamErr instanceof Error);
    texts.push(...allTexts(streamErr), ...allTexts(badStream));
    await bad.disconnect();
    // Connection string form, a good user, an open stream.
    const good = new NexaClient(`nexadb://root:nexadb123@127.0.0.1:${srv.port}`);
    const good2 = new NexaClient({ host: '127.0.0.1', port: srv.port, username: 'root', password: 'nexadb123' });
    const s = good2.watch('c');
    await s.ready;
    for (const t of [...allTexts(good), ...allTexts(good2), ...allTexts(s)]) {
      assert.ok(!t.includes('nexadb123'), `the password shows: ${t}`);
    }
    await good2.disconnect();
    await good.disconnect();
    await srv.close();
    // A protocol error from a hostile server.
    const hostile = await startHostile(() => 'bad magic');
    const hc = new NexaClient({ host: '127.0.0.1', port: hostile.port, username: USER, password: PASS });
    const protoErr = await hc.ping().catch((e) => e);
    assert.strictEqual(protoErr.code, 'NEXA_PROTOCOL');
    texts.push(...allTexts(protoErr), ...allTexts(hc));
    await hc.disconnect();
    await hostile.close();
    // Refused.
    const refused = new NexaClient({ host: '127.0.0.1', port: hostile.port, username: USER, password: PASS });
    const refErr = await refused.ping().catch((e) => e);
    assert.strictEqual(refErr.code, 'ECONNREFUSED');
    texts.push(...allTexts(refErr), ...allTexts(refused));
    for (const t of texts) assert.ok(!leaks(t), `the password shows: ${t}`);
  });

  it('nor in JSON.stringify() or util.inspect(..., {customInspect: false}) of a client or stream (what loggers do)', async () => {
    const srv = await startDevServer({ port: 0 });
    const client = new NexaClient({ host: '127.0.0.1', port: srv.port, username: 'root', password: 'nexadb123' });
    await client.ping();
    const s = client.watch('c');
    await s.ready;
    const found = [];
    for (const [what, x] of [['client', client], ['stream', s]]) {
      let json;
      try { json = JSON.stringify(x); } catch (e) { json = ''; }
      if (json.includes('nexadb123')) found.push(`JSON.stringify(${what})`);
      if (util.inspect(x, { depth: Infinity, customInspect: false }).includes('nexadb123')) found.push(`util.inspect(${what}, {customInspect: false})`);
    }
    await client.disconnect();
    await srv.close();
    assert.deepStrictEqual(found, [], 'the password is reachable through a public property');
  });
});
