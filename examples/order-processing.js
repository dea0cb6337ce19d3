'use strict';
/**
 * Order processing with change streams.
 *
 * Two clients talk to one NexaDB server:
 *   - the WATCHER subscribes to the `orders` collection and prints every
 *     insert / update / delete the moment the server pushes it;
 *   - the WRITER places orders, ships some and cancels one, like a shop would.
 * Then a throughput burst: the writer inserts 20,000 orders with batchWrite()
 * and the watcher counts their events.
 *
 * Run it against a server that is already running:
 *   npm run dev-server                               (in one terminal)
 *   node examples/order-processing.js --port 6970    (in another)
 * or let `npm run demo` start an embedded server for you.
 */

const NexaClient = require('..'); // in your project: require('nexaclient')

const COLLECTION = 'orders';
const BURST_SIZE = 20000; // orders inserted by the throughput burst
const BURST_CHUNK = 1000; // orders per batchWrite() request
const TIMEOUT_MS = 10000; // longest wait for the watcher to see what we expect

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const short = (id) => `${String(id).slice(0, 6)}…`; // ids are long; 6 characters will do

/**
 * Runs the scenario. Resolves with `{ events, burst: { count, seconds, perSecond } }`.
 * @param {{host?: string, port?: number, log?: (line: string) => void}} [options]
 */
async function run({ host = '127.0.0.1', port = 6970, log = console.log } = {}) {
  const options = { host, port, username: 'root', password: 'nexadb123' };
  const watcher = new NexaClient(options);
  const writer = new NexaClient(options);

  // What the watcher has seen so far. `waitFor()` below polls these.
  const seen = { events: 0, scenario: 0, burst: 0, lastBurstAt: 0 };
  const customers = new Map(); // order id -> customer: a delete event carries only the id

  try {
    // --- 1. The watcher ---------------------------------------------------
    // watch() opens a connection of its own and subscribes. Events are
    // buffered from the moment the server acknowledged (`stream.ready`).
    const stream = watcher.watch(COLLECTION, { operations: ['insert', 'update', 'delete'] });
    await stream.ready;
    log(`watcher: subscribed to '${COLLECTION}' (insert, update, delete)`);

    // The loop runs in the background. It ends by itself when the client
    // disconnects: `for await` simply finishes.
    const watching = (async () => {
      for await (const change of stream) {
        seen.events++;
        const doc = change.fullDocument;
        if (doc && doc.burst) { // burst orders are only counted, not printed
          seen.burst++;
          seen.lastBurstAt = performance.now();
          continue;
        }
        seen.scenario++;
        const id = change.documentKey._id;
        switch (change.operationType) {
          case 'insert':
            customers.set(id, doc.customer);
            log(`  watcher [insert] order ${short(id)} ${doc.customer} $${doc.total.toFixed(2)} ${doc.status}`);
            break;
          case 'update': {
            const f = change.updateDescription.updatedFields;
            log(`  watcher [update] order ${short(id)} status -> ${f.status}${f.tracking ? ` (tracking ${f.tracking})` : ''}`);
            break;
          }
          case 'delete':
            log(`  watcher [delete] order ${short(id)} ${customers.get(id) || ''} cancelled`);
            break;
        }
      }
    })();
    // If the stream fails, remember why: waitFor() reports it instead of timing out.
    let streamError = null;
    watching.catch((err) => { streamError = err; });

    /** Waits until `done()` is true; fails after TIMEOUT_MS instead of hanging. */
    async function waitFor(what, done) {
      const deadline = Date.now() + TIMEOUT_MS;
      while (!done()) {
        if (streamError) throw new Error(`change stream failed while waiting for ${what}: ${streamError.message}`);
        if (Date.now() > deadline) throw new Error(`timed out after ${TIMEOUT_MS / 1000} s waiting for ${what}`);
        await sleep(5);
      }
    }

    // --- 2. The writer: a few orders, shipped or cancelled ----------------
    await writer.connect();
    const orders = [
      { customer: 'Alice', item: 'keyboard', total: 99.99 },
      { customer: 'Bob', item: 'monitor', total: 249.5 },
      { customer: 'Carol', item: 'mouse', total: 25 },
      { customer: 'Alice', item: 'headset', total: 59.9 },
    ];
    const ids = [];
    for (const order of orders) {
      log(`writer: create ${order.customer}'s ${order.item}`);
      const { document_id } = await writer.create(COLLECTION, { ...order, status: 'pending' });
      ids.push(document_id);
      await sleep(150); // a short pause, so the interleaving is visible
    }

    // Ship the first three: update() merges the fields into the document.
    for (const [i, id] of ids.slice(0, 3).entries()) {
      log(`writer: ship ${orders[i].customer}'s ${orders[i].item}`);
      await writer.update(COLLECTION, id, { status: 'shipped', tracking: `XYZ${123 + i}` });
      await sleep(150);
    }
    // Alice changes her mind about the headset.
    log(`writer: cancel ${orders[3].customer}'s ${orders[3].item}`);
    await writer.delete(COLLECTION, ids[3]);

    const expected = orders.length + 3 + 1; // inserts + updates + delete
    await waitFor(`${expected} order events`, () => seen.scenario >= expected);
    log(`watcher: saw all ${expected} events`);

    // --- 3. Throughput burst ----------------------------------------------
    log(`writer: inserting ${BURST_SIZE} orders with batchWrite(), ${BURST_CHUNK} a request`);
    const started = performance.now();
    for (let i = 0; i < BURST_SIZE; i += BURST_CHUNK) {
      const chunk = [];
      for (let j = i; j < Math.min(i + BURST_CHUNK, BURST_SIZE); j++) {
        chunk.push({ customer: `customer-${j % 100}`, total: j % 500, status: 'pending', burst: true });
      }
      await writer.batchWrite(COLLECTION, chunk);
    }
    await waitFor(`${BURST_SIZE} burst events (saw ${seen.burst})`, () => seen.burst >= BURST_SIZE);
    const seconds = (seen.lastBurstAt - started) / 1000;
    const burst = { count: seen.burst, seconds: +seconds.toFixed(3), perSecond: Math.round(seen.burst / seconds) };
    log(`watcher: ${burst.count} burst events in ${burst.seconds} s = ${burst.perSecond.toLocaleString('en-US')} events/s`);

    // --- 4. Done: disconnecting ends the stream, so the loop finishes -----
    await Promise.all([writer.disconnect(), watcher.disconnect()]);
    await watching;
    return { events: seen.events, burst };
  } finally {
    // On success this is a no-op; on failure it makes sure nothing stays open.
    await Promise.all([writer.disconnect(), watcher.disconnect()]);
  }
}

module.exports = { run };

// `node examples/order-processing.js [--port 6970] [--host 127.0.0.1]`:
// runs the scenario against a server that is already running.
if (require.main === module) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
  };
  run({ host: arg('--host', '127.0.0.1'), port: Number(arg('--port', 6970)) })
    .then((summary) => console.log('summary:', summary))
    .catch((err) => {
      console.error(`order-processing failed: ${err.message}`);
      process.exitCode = 1;
    });
}
