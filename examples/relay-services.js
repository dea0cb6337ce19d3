'use strict';
/**
 * Beyond one process: one relay feeds a Redis stream, two services read it
 * as consumer groups.
 *
 *   NexaDB ──► relay ──► Redis stream "shop:orders" ──┬─► group "cache"          (cache invalidation)
 *                                                      └─► group "notifications"  (customer e-mails)
 *
 * Each group gets every change; within a group, each change goes to one of
 * its consumers (run more processes with the same group to share the work).
 * Then the relay is stopped, an order ships while nothing relays, and the
 * relay is started again: it appends a gap entry, and each service does what
 * it must when it cannot know what it missed.
 *
 *   node examples/relay-services.js [--redis redis://127.0.0.1:6379] [--port 6970]
 *
 * Without --port it starts an embedded dev server; without --redis (or
 * REDIS_URL) it starts redis-server on a free port, when it is installed.
 */
const { spawn } = require('child_process');
const net = require('net');
const NexaClient = require('..'); // in your project: require('nexaclient')
const { relay, consume } = require('../lib/relay'); // in your project: require('nexaclient/relay')
const { startDevServer } = require('../lib/dev-server');

const STREAM = 'shop:orders';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};

/** The cache-invalidation service: drops what changed; a gap means anything may have. */
async function cacheService(redis, signal, log) {
  const cache = new Map(); // order id -> order, as a web tier would keep it
  for await (const change of consume({ redis, stream: STREAM, group: 'cache', consumer: 'cache-1', from: '0', signal })) {
    if (change.operationType === 'gap') {
      log(`  cache          gap (${change.reason}, ${(change.until - change.since).toFixed(1)} s): whole cache dropped (${cache.size} entries)`);
      cache.clear();
    } else if (change.operationType === 'insert') {
      cache.set(change.documentKey._id, change.fullDocument);
    } else {
      cache.delete(change.documentKey._id);
      log(`  cache          ${change.operationType} ${change.documentKey._id.slice(0, 6)}: invalidated`);
    }
  }
}

/** The notification service: tells customers their order shipped; after a gap, asks NexaDB what it missed. */
async function notificationService(redis, nexa, signal, log) {
  const notified = new Set();
  const notify = (order) => {
    if (notified.has(order._id)) return; // at-least-once: a message may come twice
    notified.add(order._id);
    log(`  notifications  e-mail to ${order.customer}: order ${order._id.slice(0, 6)} shipped`);
  };
  for await (const change of consume({ redis, stream: STREAM, group: 'notifications', consumer: 'mailer-1', from: '0', signal })) {
    if (change.operationType === 'update' && change.updateDescription.updatedFields.status === 'shipped') {
      notify(change.fullDocument);
    } else if (change.operationType === 'gap') {
      log(`  notifications  gap (${change.reason}): re-reading shipped orders`);
      for (const order of await nexa.query('orders', { status: 'shipped' })) notify(order);
    }
  }
}

async function main() {
  const log = (line) => console.log(line);
  const cleanup = [];
  try {
    let port = Number(arg('--port'));
    if (!port) {
      const server = await startDevServer({ port: 0 });
      cleanup.push(() => server.close());
      port = server.port;
    }
    let redis = arg('--redis') || process.env.REDIS_URL;
    if (!redis) {
      const redisPort = await freePort();
      const proc = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      cleanup.push(() => proc.kill());
      await waitForPort(redisPort);
      redis = `redis://127.0.0.1:${redisPort}`;
    }
    const nexa = new NexaClient({ host: '127.0.0.1', port });
    cleanup.push(() => nexa.disconnect());
    const nexadb = { host: '127.0.0.1', port };

    let r = relay({ nexadb, redis, collection: 'orders', stream: STREAM, maxLen: 100000 });
    await r.ready;
    log(`relay ${r.id}: orders -> ${STREAM}`);
    const stop = new AbortController();
    const services = Promise.allSettled([
      cacheService(redis, stop.signal, log),
      notificationService(redis, nexa, stop.signal, log),
    ]);

    log('shop: three orders, one shipped, one cancelled');
    const ids = [];
    for (const [customer, total] of [['ada@example.com', 42.5], ['bob@example.com', 17], ['cy@example.com', 99.9]]) {
      ids.push((await nexa.create('orders', { customer, total, status: 'new' })).document_id);
    }
    await nexa.update('orders', ids[0], { status: 'shipped' });
    await nexa.delete('orders', ids[2]);
    await sleep(500);

    log('relay stopped; an order ships while nothing relays');
    await r.close();
    await nexa.update('orders', ids[1], { status: 'shipped' });
    r = relay({ nexadb, redis, collection: 'orders', stream: STREAM, maxLen: 100000 });
    await r.ready;
    log(`relay ${r.id} started again`);
    await sleep(1000);

    stop.abort();
    await services;
    await r.close();
    log(`second relay run: ${JSON.stringify(r.stats())}`);
  } finally {
    for (const f of cleanup.reverse()) await f();
  }
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(25);
  }
  throw new Error(`nothing listens on port ${port}: is redis-server installed?`);
}

main().catch((err) => {
  console.error(`relay-services failed: ${err.message}`);
  process.exitCode = 1;
});
