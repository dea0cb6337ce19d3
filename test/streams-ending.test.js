'use strict';
// Change streams: how they end (break, return(), close(), disconnect(), the
// server going away) and what next() says afterwards.
const assert = require('assert');

const NexaClient = require('..');
const { NexaConnectionError } = NexaClient;
const { startDevServer } = require('../lib/dev-server');
const { waitFor, devServerSuite, rejection } = require('./fixtures/helpers');
const { nextEvent, takeEvents } = require('./helpers/stream-events');

describe('change streams', function () {
  this.timeout(10000);

  const suite = devServerSuite();
  const { client } = suite;

  describe('ending streams', () => {
    it('break in for-await closes the stream; the server drops its connection; the client keeps working', async () => {
      const c = client();
      await c.connect();
      const base = suite.srv.connections;
      const s = c.watch('breaker');
      await s.ready;
      assert.strictEqual(suite.srv.connections, base + 1);
      const { document_id: id } = await c.create('breaker', { n: 1 });
      await c.create('breaker', { n: 2 });
      let seen = null;
      for await (const ev of s) {
        seen = ev;
        break;
      }
      assert.strictEqual(seen.documentKey._id, id);
      assert.strictEqual(s.closed, true);
      await waitFor(() => suite.srv.connections === base, `suite.srv.connections back to ${base} (is ${suite.srv.connections})`);
      // A closed stream is done, the undelivered event is dropped.
      assert.deepStrictEqual(await s.next(), { value: undefined, done: true });
      // The client still works, and a new watch works.
      assert.strictEqual((await c.ping()).status, 'ok');
      const s2 = c.watch('breaker');
      await s2.ready;
      const { document_id: id3 } = await c.create('breaker', { n: 3 });
      assert.strictEqual((await nextEvent(s2)).documentKey._id, id3);
    });

    it('return() resolves done and closes', async () => {
      const c = client();
      const s = c.watch('returner');
      await s.ready;
      assert.deepStrictEqual(await s.return(), { value: undefined, done: true });
      assert.strictEqual(s.closed, true);
      assert.deepStrictEqual(await s.next(), { value: undefined, done: true });
    });

    it('stream.close() makes a pending next() resolve {done: true}', async () => {
      const c = client();
      const s = c.watch('closer');
      await s.ready;
      const pending = s.next();
      const pending2 = s.next();
      await s.close();
      assert.deepStrictEqual(await pending, { value: undefined, done: true });
      assert.deepStrictEqual(await pending2, { value: undefined, done: true });
      assert.deepStrictEqual(await s.next(), { value: undefined, done: true });
      assert.strictEqual(s.closed, true);
      // close() is idempotent.
      await s.close();
    });

    it('close() before ready settles without throwing', async () => {
      const c = client();
      const s = c.watch('early');
      const pending = s.next();
      await s.close();
      assert.deepStrictEqual(await pending, { value: undefined, done: true });
      await s.ready.catch(() => {});
    });

    it('disconnect() ends a pending for-await loop normally', async () => {
      const c = client();
      const s = c.watch('disc');
      await s.ready;
      const got = [];
      let first;
      const gotFirst = new Promise((r) => { first = r; });
      const loop = (async () => {
        for await (const ev of s) {
          got.push(ev);
          first();
        }
        return 'ended';
      })();
      const { document_id: id } = await c.create('disc', { n: 1 });
      await gotFirst;
      await c.disconnect();
      assert.strictEqual(await loop, 'ended');
      assert.deepStrictEqual(got.map((e) => e.documentKey._id), [id]);
      assert.strictEqual(s.closed, true);
      assert.strictEqual(c.connected, false);
    });

    it('disconnect() ends several streams and closes every connection', async () => {
      const c = client();
      await c.connect();
      const streams = [c.watch('m1'), c.watch('m2'), c.watch(), c.watch('m1', ['delete'])];
      await Promise.all(streams.map((s) => s.ready));
      const loops = streams.map(async (s) => {
        let n = 0;
        for await (const ev of s) n += ev ? 1 : 0;
        return n;
      });
      await c.create('m1', { x: 1 });
      await c.create('m2', { x: 1 });
      // The catch-all stream saw both, so events are flowing; now disconnect.
      await c.disconnect();
      const counts = await Promise.all(loops);
      for (const n of counts) assert.ok(n >= 0 && n <= 2);
      for (const s of streams) assert.strictEqual(s.closed, true);
      await waitFor(() => suite.srv.connections === 0, `every connection closed (server has ${suite.srv.connections})`);
    });

    it('when the server goes away, a pending for-await loop rejects with ECONNRESET (autoReconnect off)', async () => {
      const srv2 = await startDevServer({ port: 0 });
      let closed = false;
      try {
        const c = new NexaClient({ host: '127.0.0.1', port: srv2.port, autoReconnect: false });
        suite.clients.push(c);
        const s = c.watch('gone');
        await s.ready;
        const loop = (async () => {
          const seen = [];
          for await (const ev of s) seen.push(ev);
          return seen;
        })();
        await c.create('gone', { a: 1 });
        await waitFor(() => srv2.connections === 2, 'both connections');
        await srv2.close();
        closed = true;
        let timer;
        const err = await Promise.race([
          rejection(loop, 'the loop'),
          new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('the loop hangs')), 5000); }),
        ]).finally(() => clearTimeout(timer));
        assert.ok(err instanceof NexaConnectionError, `got ${err && err.name}: ${err && err.message}`);
        assert.strictEqual(err.code, 'ECONNRESET');
        assert.strictEqual(s.closed, true);
        // Requests fail too (nothing listens any more).
        await assert.rejects(c.ping(), (e) => e instanceof NexaConnectionError);
      } finally {
        if (!closed) await srv2.close();
      }
    });

    it('when the server goes away with events buffered, they are delivered first, then the error (autoReconnect off)', async () => {
      const srv2 = await startDevServer({ port: 0 });
      try {
        const c = new NexaClient({ host: '127.0.0.1', port: srv2.port, autoReconnect: false });
        suite.clients.push(c);
        const s = c.watch('gone2');
        const witness = c.watch('gone2');
        await Promise.all([s.ready, witness.ready]);
        const { document_ids: ids } = await c.batchWrite('gone2', [{ a: 1 }, { a: 2 }, { a: 3 }]);
        await takeEvents(witness, 3);
        const end = rejection(witness.next(), 'the witness');
        await srv2.close();
        assert.strictEqual((await end).code, 'ECONNRESET'); // the witness saw the end; `s` has or soon will
        assert.deepStrictEqual((await takeEvents(s, 3)).map((e) => e.documentKey._id), ids);
        await assert.rejects(s.next(), (e) => e instanceof NexaConnectionError && e.code === 'ECONNRESET');
        // (What later next() calls give is checked by the test below: it
        // depends on whether the error found a pending next().)
      } finally {
        await srv2.close();
      }
    });

    it('after the connection error was reported to a pending next(), later next() calls are done (autoReconnect off)', async () => {
      const srv2 = await startDevServer({ port: 0 });
      try {
        const c = new NexaClient({ host: '127.0.0.1', port: srv2.port, autoReconnect: false });
        suite.clients.push(c);
        const s = c.watch('gone3');
        await s.ready;
        const pending = s.next();
        await srv2.close();
        await assert.rejects(pending, (e) => e instanceof NexaConnectionError && e.code === 'ECONNRESET');
        assert.strictEqual(s.closed, true);
        assert.deepStrictEqual(await s.next(), { value: undefined, done: true });
      } finally {
        await srv2.close();
      }
    });
  });
});
