'use strict';

// The dev server's connections, over raw sockets: framing and protocol errors
// (split and merged frames, bad magic, version or payload, refusals before
// CONNECT), then the server as a program (address, connections, close(), users
// from the options, two-step start, the command line).

const assert = require('assert');
const path = require('path');
const { spawn } = require('child_process');
const { startDevServer, DevServer } = require('../lib/dev-server');
const { T, frame, RawClient, authed, devServerPerTest } = require('./helpers/dev-server-raw');

describe('dev server', function () {
  let server;
  devServerPerTest(this, (s) => { server = s; });

  describe('framing and errors', () => {
    it('reads frames split byte by byte and many frames in one write', async () => {
      const c = await RawClient.open(server);
      const bytes = Buffer.concat([
        frame(T.CONNECT, { username: 'root', password: 'nexadb123' }),
        frame(T.PING, {}), frame(T.PING, {}),
      ]);
      for (const b of bytes) c.sendRaw(Buffer.from([b]));
      assert.strictEqual((await c.next()).type, T.SUCCESS);
      assert.strictEqual((await c.next()).type, T.PONG);
      assert.strictEqual((await c.next()).type, T.PONG);
      c.sendRaw(Buffer.concat([frame(T.PING, {}), frame(T.PING, {}), frame(T.PING, {})]));
      for (let i = 0; i < 3; i++) assert.strictEqual((await c.next()).type, T.PONG);
      c.end();
    });

    it('answers bad magic with ERROR and closes', async () => {
      const c = await RawClient.open(server);
      c.sendRaw(frame(T.PING, {}, { magic: 0xdeadbeef }));
      const f = await c.next();
      assert.strictEqual(f.type, T.ERROR);
      assert.deepStrictEqual(f.payload, { error: 'Invalid protocol magic: 0xdeadbeef' });
      await c.waitClosed();
    });

    it('answers a bad version with ERROR and closes, even when authenticated', async () => {
      const c = await authed(server);
      c.sendRaw(frame(T.PING, {}, { version: 7 }));
      assert.deepStrictEqual((await c.next()).payload, { error: 'Unsupported protocol version: 7' });
      await c.waitClosed();
    });

    it('keeps the connection after a payload that is not MessagePack, or an empty one', async () => {
      const c = await authed(server);
      c.sendRaw(frame(T.PING, Buffer.from([0xc1])));
      let f = await c.next();
      assert.strictEqual(f.type, T.ERROR);
      assert.match(f.payload.error, /^Invalid MessagePack: /);
      assert.doesNotMatch(f.payload.error, /MessagePack: .*MessagePack: /i, 'the reason is not doubled');
      c.sendRaw(frame(T.PING, Buffer.alloc(0)));
      f = await c.next();
      assert.match(f.payload.error, /^Invalid MessagePack: /);
      assert.strictEqual((await c.request(T.PING, {})).type, T.PONG);
      c.end();
    });

    it('refuses requests before CONNECT, unknown types included, and after a failed CONNECT', async () => {
      const c = await RawClient.open(server);
      const unauth = { error: 'Not authenticated. Send CONNECT message with API key first.' };
      for (const type of [T.PING, T.CREATE, T.SUBSCRIBE, T.DISCONNECT, 0x7e]) {
        const f = await c.request(type, { collection: 'x', data: { a: 1 } });
        assert.strictEqual(f.type, T.ERROR);
        assert.deepStrictEqual(f.payload, unauth);
      }
      assert.deepStrictEqual((await c.request(T.CONNECT, { username: 'nobody', password: 'x' })).payload,
        { error: 'Invalid username or password' });
      assert.deepStrictEqual((await c.request(T.CONNECT, { password: 'x' })).payload,
        { error: "Missing 'username' or 'password' field in CONNECT message" });
      assert.deepStrictEqual((await c.request(T.PING, {})).payload, unauth);
      c.end();
    });

    it('answers PONG with a float64 timestamp, and DISCONNECT with goodbye then close', async () => {
      const c = await authed(server);
      const f = await c.request(T.PING, {});
      assert.deepStrictEqual(Object.keys(f.payload), ['status', 'timestamp']);
      // fixmap(2) "status" "ok" "timestamp" then 0xcb: float64
      const at = f.raw.indexOf(Buffer.from('timestamp'));
      assert.strictEqual(f.raw[at + 9], 0xcb);
      assert.deepStrictEqual((await c.request(T.DISCONNECT, {})).payload, { status: 'goodbye' });
      await c.waitClosed();
    });

    it('survives garbage, abrupt resets and half frames', async () => {
      const a = await RawClient.open(server);
      a.sendRaw(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      const f = await a.next();
      assert.strictEqual(f.type, T.ERROR);
      assert.match(f.payload.error, /^Invalid protocol magic: 0x/);
      await a.waitClosed();
      const b = await RawClient.open(server);
      b.sendRaw(frame(T.CONNECT, { username: 'root', password: 'nexadb123' }).subarray(0, 20));
      b.socket.resetAndDestroy();
      const c = await authed(server);
      assert.strictEqual((await c.request(T.PING, {})).type, T.PONG);
      c.end();
    });
  });

  describe('server lifecycle', () => {
    it('reports its address and connections, and close() resolves with clients connected', async () => {
      assert.strictEqual(server.host, '127.0.0.1');
      assert.ok(server.port > 0);
      assert.strictEqual(server.address, `127.0.0.1:${server.port}`);
      const a = await authed(server);
      const b = await RawClient.open(server);
      await a.request(T.SUBSCRIBE, { collection: null });
      b.sendRaw(frame(T.PING, {}).subarray(0, 5)); // a half frame
      await new Promise((r) => setTimeout(r, 20));
      assert.strictEqual(server.connections, 2);
      await server.close();
      await a.waitClosed();
      await b.waitClosed();
      assert.strictEqual(server.connections, 0);
      await server.close(); // idempotent
      await assert.rejects(RawClient.open(server));
    });

    it('takes its users from the options', async () => {
      const s = await startDevServer({ users: { alice: 'pw', admin: { password: 'x', role: 'admin' } } });
      try {
        const c = await RawClient.open(s);
        assert.deepStrictEqual((await c.request(T.CONNECT, { username: 'root', password: 'nexadb123' })).payload,
          { error: 'Invalid username or password' });
        let f = await c.request(T.CONNECT, { username: 'alice', password: 'pw' });
        assert.strictEqual(f.payload.username, 'alice');
        assert.strictEqual(f.payload.role, 'write');
        f = await c.request(T.CONNECT, { username: 'admin', password: 'x' });
        assert.strictEqual(f.payload.role, 'admin');
        c.end();
      } finally {
        await s.close();
      }
    });

    it('can be built and started in two steps', async () => {
      const s = new DevServer({ port: 0 });
      assert.strictEqual(await s.listen(), s);
      await s.close();
    });

    it('runs from the command line and stops on SIGTERM', async () => {
      const bin = path.join(__dirname, '..', 'bin', 'nexa-dev-server.js');
      const child = spawn(process.execPath, [bin, '--port', '0', '--user', 'u:p'], { stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        const line = await new Promise((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (d) => {
            out += d;
            if (out.includes('\n')) resolve(out.trim());
          });
          child.on('exit', (code) => reject(new Error(`exited with ${code}`)));
        });
        const m = /^NexaDB dev server listening on (127\.0\.0\.1):(\d+)$/.exec(line);
        assert.ok(m, line);
        const c = await authed({ host: m[1], port: Number(m[2]) }, 'u', 'p');
        c.end();
      } finally {
        child.kill('SIGTERM');
      }
      const code = await new Promise((resolve) => {
        if (child.exitCode !== null) resolve(child.exitCode);
        else child.on('exit', resolve);
      });
      assert.strictEqual(code, 0);
    });
  });
});
