'use strict';
// Channel's reconnect policy with fake connections: no server, no sockets,
// and backoff delays of a few milliseconds.
const assert = require('assert');
const { Channel, backoffDelay } = require('../lib/channel');
const { NexaClosedError, NexaTimeoutError, NexaAuthError, NexaConnectionError } = require('../lib/errors');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const refused = () => new NexaConnectionError('connect ECONNREFUSED fake:1', 'ECONNREFUSED', { address: 'fake:1' });

/**
 * Connections whose dials succeed or fail as `outcomes` say, in order
 * ('ok', or the Error the dial rejects with); later dials fail as refused.
 */
function fakeNetwork(outcomes) {
  const net = { dials: 0, conns: [] };
  net.make = () => {
    const outcome = outcomes.length ? outcomes.shift() : refused();
    net.dials++;
    const conn = {
      address: 'fake:1',
      state: 'new',
      error: null,
      onChanges() {},
      onEnd() {},
      open() {
        if (outcome !== 'ok') {
          this.state = 'closed';
          return Promise.reject(outcome);
        }
        this.state = 'open';
        return Promise.resolve({ status: 'connected' });
      },
      close() {
        this.state = 'closed';
        return Promise.resolve();
      },
      /** The server went away. */
      lose(err = new NexaConnectionError('read ECONNRESET', 'ECONNRESET', { address: 'fake:1' })) {
        this.state = 'closed';
        this.error = err;
        this.onEnd(err);
      },
    };
    net.conns.push(conn);
    return conn;
  };
  return net;
}

const OPTS = { host: 'fake', port: 1, autoReconnect: true, reconnectDelayMs: 1, reconnectMaxDelayMs: 4, reconnectAttempts: 5 };

/** Records the hooks' calls. */
function recorder(extra = {}) {
  const calls = [];
  const hooks = {
    onDown: (err) => calls.push(['down', err.code]),
    onReconnect: (info) => calls.push(['reconnect', info.attempts]),
    onFail: (err) => calls.push(['fail', err.code]),
    ...extra,
  };
  return { calls, hooks };
}

describe('Channel (fake connections)', () => {
  it('backoffDelay doubles from reconnectDelayMs up to reconnectMaxDelayMs, half of it random', () => {
    assert.deepStrictEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 100, 1000, 0)), [50, 100, 200, 400, 500, 500]);
    assert.deepStrictEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 100, 1000, 0.999999)), [100, 200, 400, 800, 1000, 1000]);
    assert.strictEqual(backoffDelay(100, 100, 5000, 0.5), 3750, 'no overflow however many attempts');
  });

  it('the first dial fails fast: start() rejects with its error, nothing is retried', async () => {
    const net = fakeNetwork([refused()]);
    const { calls, hooks } = recorder();
    const ch = new Channel(OPTS, hooks, net.make);
    await assert.rejects(ch.start(), { code: 'ECONNREFUSED' });
    await sleep(20);
    assert.strictEqual(net.dials, 1);
    assert.strictEqual(ch.state, 'failed');
    assert.deepStrictEqual(calls, []);
  });

  it('a lost connection is re-dialled until one opens; onDown, then onReconnect with the attempts it took', async () => {
    const net = fakeNetwork(['ok', refused(), refused(), 'ok']);
    const { calls, hooks } = recorder();
    const ch = new Channel(OPTS, hooks, net.make);
    await ch.start();
    net.conns[0].lose();
    assert.strictEqual(ch.state, 'backoff');
    const conn = await ch.whenOpen();
    assert.strictEqual(conn, net.conns[3]);
    assert.deepStrictEqual(calls, [['down', 'ECONNRESET'], ['reconnect', 3]]);
    assert.strictEqual(ch.reconnects, 1);
    assert.strictEqual(ch.state, 'open');
  });

  it('a failing onOpen (a SUBSCRIBE that timed out, say) is a failed attempt: the connection is closed and dialled again', async () => {
    const net = fakeNetwork(['ok', 'ok', 'ok']);
    let opens = 0;
    const { calls, hooks } = recorder({
      onOpen: () => {
        opens++;
        if (opens === 2) return Promise.reject(new NexaTimeoutError('watch timed out after 5 ms'));
        return 'subscribed';
      },
    });
    const ch = new Channel(OPTS, hooks, net.make);
    assert.strictEqual(await ch.start(), 'subscribed');
    net.conns[0].lose();
    await ch.whenOpen();
    assert.strictEqual(net.conns[1].state, 'closed', 'the connection whose onOpen failed is closed');
    assert.deepStrictEqual(calls, [['down', 'ECONNRESET'], ['reconnect', 2]]);
  });

  it("a re-dial whose connection is lost right after onOpen (a stream subscribed, its first events in) reports that loss: onDown again, then onReconnect", async () => {
    const net = fakeNetwork(['ok', 'ok', 'ok']);
    let opens = 0;
    const { calls, hooks } = recorder({
      onOpen: (conn) => {
        opens++;
        if (opens === 2) conn.lose(); // the subscription's answer, events and the FIN in one batch
        return 'subscribed';
      },
    });
    const ch = new Channel(OPTS, hooks, net.make);
    await ch.start();
    net.conns[0].lose();
    await ch.whenOpen();
    assert.deepStrictEqual(calls, [['down', 'ECONNRESET'], ['down', 'ECONNRESET'], ['reconnect', 2]]);
  });

  it('attempts used up: onFail once with the last error; waiting requests reject with it', async () => {
    const net = fakeNetwork(['ok']);
    const { calls, hooks } = recorder();
    const ch = new Channel({ ...OPTS, reconnectAttempts: 3 }, hooks, net.make);
    await ch.start();
    net.conns[0].lose();
    await assert.rejects(ch.whenOpen(), { code: 'ECONNREFUSED' });
    assert.strictEqual(net.dials, 4);
    assert.deepStrictEqual(calls, [['down', 'ECONNRESET'], ['fail', 'ECONNREFUSED']]);
    assert.strictEqual(ch.state, 'failed');
  });

  it('wrong credentials on a re-dial are not retried', async () => {
    const net = fakeNetwork(['ok', new NexaAuthError('Invalid username or password')]);
    const { calls, hooks } = recorder();
    const ch = new Channel(OPTS, hooks, net.make);
    await ch.start();
    net.conns[0].lose();
    await assert.rejects(ch.whenOpen(), { code: 'NEXA_AUTH' });
    assert.strictEqual(net.dials, 2);
    assert.deepStrictEqual(calls, [['down', 'ECONNRESET'], ['fail', 'NEXA_AUTH']]);
  });

  it('without autoReconnect a loss fails the channel at once', async () => {
    const net = fakeNetwork(['ok']);
    const { calls, hooks } = recorder();
    const ch = new Channel({ ...OPTS, autoReconnect: false }, hooks, net.make);
    await ch.start();
    net.conns[0].lose();
    assert.deepStrictEqual(calls, [['fail', 'ECONNRESET']]);
    assert.strictEqual(net.dials, 1);
  });

  it('close() during backoff: no more dials, and waiters reject with NexaClosedError; waitTimeoutError names the reason', async () => {
    const net = fakeNetwork(['ok']);
    const { calls, hooks } = recorder();
    const ch = new Channel({ ...OPTS, reconnectDelayMs: 50, reconnectMaxDelayMs: 50 }, hooks, net.make);
    await ch.start();
    net.conns[0].lose();
    const err = ch.waitTimeoutError(5, { operation: 'ping' });
    assert.ok(err instanceof NexaTimeoutError, String(err));
    assert.match(err.message, /ping timed out after 5 ms waiting for the connection to fake:1 \(reconnecting after ECONNRESET\)/);
    const waiting = ch.whenOpen();
    await ch.close();
    await assert.rejects(waiting, NexaClosedError);
    const dials = net.dials;
    await sleep(120);
    assert.strictEqual(net.dials, dials, 'no dial after close()');
    assert.deepStrictEqual(calls, [['down', 'ECONNRESET']]);
  });
});
