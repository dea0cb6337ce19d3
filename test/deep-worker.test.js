'use strict';
// Deep documents inside a worker_thread, whose stack a program may make far
// smaller than the main thread's: a document at the limit is read and
// received whole there too, and the dev server takes and sends the deepest
// requests it allows (the addon's conversions keep their own stack).
const assert = require('assert');
const path = require('path');

const NexaClient = require('..');
const { MAX_LEVELS } = require('../lib/dev-server/protocol');
const { createProcess, explain } = require('./helpers/scenario');

const MAX = NexaClient.MAX_DEPTH;

/**
 * Runs in a worker_thread: a document `levels` deep created, read back with
 * get and query, and received as an event; posts the depth of each.
 */
async function atTheLimitInWorker({ NexaClient, parentPort }, { port, levels }) {
  const nestIn = (n) => {
    let v = { leaf: 'bottom' };
    for (let i = 1; i < n; i++) v = { leaf: i, next: v };
    return v;
  };
  const depthOf = (d) => {
    const { _id, _created_at, _updated_at, ...doc } = d; // eslint-disable-line no-unused-vars
    let n = 0;
    for (let x = doc; x !== null && typeof x === 'object'; x = x.next) n++;
    return n;
  };
  const client = new NexaClient({ host: '127.0.0.1', port });
  const stream = client.watch('deep_worker');
  await stream.ready;
  const { document_id: id } = await client.create('deep_worker', nestIn(levels));
  const got = await client.get('deep_worker', id);
  const [q] = await client.query('deep_worker', { _id: id });
  const ev = (await stream.next()).value;
  parentPort.postMessage({ get: depthOf(got), query: depthOf(q), event: depthOf(ev.fullDocument) });
  await client.disconnect();
}

describe('deep documents: at the limit inside a worker_thread', function () {
  this.timeout(30000);

  // Node gives a worker a 4 MB stack; a program may give it far less (below
  // ~0.3 MB a worker here cannot even load the client).
  for (const stackSizeMb of [4, 0.5]) {
    it(`get, query and an event of a document at the limit, in a worker with a ${stackSizeMb} MB stack`, async () => {
      const r = await createProcess(async ({ startDevServer }, { root, inWorker, levels, stackSizeMb: mb }) => {
                const server = await startDevServer({ port: 0 });
        const src = `const NexaClient = require(${JSON.stringify(root)});
const { parentPort, workerData } = require('worker_threads');
(${inWorker})({ NexaClient, parentPort }, workerData);`;
        const w = new Worker(src, { eval: true, workerData: { port: server.port, levels }, resourceLimits: { stackSizeMb: mb } });
        const result = await new Promise((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
        await w.terminate();
        await server.close();
        return result;
      }, { root: path.resolve(__dirname, '..'), inWorker: atTheLimitInWorker.toString(), levels: MAX, stackSizeMb }, { killAfter: 20000 });
      assert.ok(r.code === 0 && !r.killed, explain(r));
      assert.deepStrictEqual(r.result, { get: MAX, query: MAX, event: MAX }, explain(r));
    });
  }
});

describe('deep documents: the dev server inside a worker_thread with a small stack', function () {
  this.timeout(30000);

  it(`stores a document as deep as a request may nest (${MAX_LEVELS} levels) and sends it back whole, with a 1 MB stack`, async () => {
    const r = await createProcess(async (ctx, { root, levels }) => {
      const { Worker } = require('worker_threads');
      const { rawRequests, MSG } = require(`${root}/test/fixtures/helpers`);
      const src = `const { startDevServer } = require(${JSON.stringify(`${root}/lib/dev-server`)});
startDevServer({ port: 0 }).then((s) => require('worker_threads').parentPort.postMessage(s.port));`;
      const w = new Worker(src, { eval: true, resourceLimits: { stackSizeMb: 1 } });
      const port = await new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      let doc = { leaf: 'bottom' };
      for (let i = 2; i < levels; i++) doc = { leaf: i, next: doc }; // the request {collection, data} is level 1
      const [created] = await rawRequests(port, [{ type: MSG.CREATE, payload: { collection: 'deep', data: doc } }]);
      const [read] = await rawRequests(port, [{ type: MSG.READ, payload: { collection: 'deep', key: created.payload.document_id } }]);
      let depth = 0;
      for (let x = read.payload.document; x !== null && typeof x === 'object'; x = x.next) depth++;
      await w.terminate();
      return { created: created.type === MSG.SUCCESS, depth };
    }, { root: path.resolve(__dirname, '..'), levels: MAX_LEVELS }, { killAfter: 20000 });
    assert.ok(r.code === 0 && !r.killed, explain(r));
    assert.deepStrictEqual(r.result, { created: true, depth: MAX_LEVELS - 1 }, explain(r));
  });
});
