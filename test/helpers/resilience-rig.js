'use strict';
// What the resilience suites share: a dev server of each test's own on a free
// loopback port that a test can stop and start again on the same port, fault
// proxies in front of it (./fault-proxy.js), and clients that reconnect fast.
// Everything made through the rig is stopped after each test.
const NexaClient = require('../..');
const { startDevServer } = require('../../lib/dev-server');
const { startFaultProxy } = require('./fault-proxy');

/** Short reconnect delays, so that a test sees several dials in a few hundred ms. */
const FAST = { reconnectDelayMs: 20, reconnectMaxDelayMs: 200 };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Mocha hooks for a resilience suite: a fresh dev server before each test,
 * everything the test made closed after it. Call inside a describe().
 * @returns {{srv: object|null, client: (opts?: object) => object, proxy: () => Promise<object>,
 *   stopServer: () => Promise<void>, startServer: (opts?: object) => Promise<object>}}
 *   srv: the server running now (null while stopped)
 */
function resilienceSuite() {
  let port = 0;
  const clients = [];
  const proxies = [];
  const servers = [];
  const rig = { srv: null };

  rig.client = (opts = {}) => {
    const c = new NexaClient({ host: '127.0.0.1', port, ...FAST, ...opts });
    clients.push(c);
    return c;
  };

  rig.proxy = async () => {
    const p = await startFaultProxy({ targetPort: port });
    proxies.push(p);
    return p;
  };

  /** Stops the server (startServer() brings one back on the same port). */
  rig.stopServer = async () => {
    await rig.srv.close();
    rig.srv = null;
  };

  /** Starts a server on the suite's port (`{port: 0}` in opts: a fresh one). */
  rig.startServer = async (opts = {}) => {
    rig.srv = await startDevServer({ port, ...opts });
    port = rig.srv.port;
    servers.push(rig.srv);
    return rig.srv;
  };

  beforeEach(async () => {
    port = 0;
    await rig.startServer();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.disconnect()));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
    rig.srv = null;
  });

  return rig;
}

module.exports = { resilienceSuite, sleep };
