'use strict';
// The main thread's cost of an answer: `query()` of 100 documents against the
// dev server (in a child process, so its work is not counted), main-thread
// CPU per call from /proc/self/task/<pid>/stat; beside it msgpackr's
// `unpack` of the same answer's bytes, alone.
//
//   node bench/answers.js [--calls 3000] [--docs 100]

const fs = require('fs');
const path = require('path');
const { fork, execSync } = require('child_process');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const CALLS = opt('calls', 3000);
const DOCS = opt('docs', 100);

if (process.argv[2] === '--serve') {
  require('../lib/dev-server').startDevServer({ port: 0 }).then((srv) => process.send(srv.port));
  return;
}

const NexaClient = require('..');
const { encode } = require('../lib/encode');

const CLK_TCK = Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim()) || 100;
const MAIN_STAT = `/proc/self/task/${process.pid}/stat`;
function mainThreadCpuUs() {
  const s = fs.readFileSync(MAIN_STAT, 'latin1');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
}

function doc(i) {
  return {
    name: `customer ${i}`, email: `user${i}@example.com`, total: 123.45 + i, status: 'shipped',
    items: [{ sku: `X${i}`, qty: 2 }, { sku: 'Y', qty: 1 }], address: { city: 'Lisbon', zip: `1000-${i}` },
  };
}

async function main() {
  const server = fork(__filename, ['--serve'], { stdio: 'inherit' });
  const port = await new Promise((resolve) => server.once('message', resolve));
  const client = new NexaClient({ host: '127.0.0.1', port });
  try {
    await client.connect();
    await client.batchWrite('bench_answers', Array.from({ length: DOCS }, (_, i) => doc(i)));
    const sample = await client.query('bench_answers', {}, DOCS);
    if (sample.length !== DOCS) throw new Error(`query gave ${sample.length} documents, not ${DOCS}`);
    for (let i = 0; i < 300; i++) await client.query('bench_answers', {}, DOCS);
    const t0 = process.hrtime.bigint();
    const c0 = mainThreadCpuUs();
    for (let i = 0; i < CALLS; i++) await client.query('bench_answers', {}, DOCS);
    const mainUs = (mainThreadCpuUs() - c0) / CALLS;
    const wallUs = Number(process.hrtime.bigint() - t0) / 1e3 / CALLS;

    // The same answer's bytes, as the server sends them, through msgpackr.
    const { Unpackr } = require('msgpackr');
    const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
    const bytes = encode({ database: 'default', collection: 'bench_answers', documents: sample, count: sample.length }); // the server's answer
    for (let i = 0; i < 2000; i++) unpackr.unpack(bytes);
    const u0 = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) unpackr.unpack(bytes);
    const msgpackrUs = Number(process.hrtime.bigint() - u0) / 1e3 / CALLS;

    console.log(`query() of ${DOCS} documents (${bytes.length}-byte answer), ${CALLS} calls one after another:`);
    console.log(`  nexaclient main thread: ${mainUs.toFixed(1)} µs/call (request, answer, promise), wall ${wallUs.toFixed(1)} µs/call`);
    console.log(`  msgpackr unpack of the answer alone: ${msgpackrUs.toFixed(1)} µs`);
  } finally {
    await client.disconnect();
    server.kill();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
