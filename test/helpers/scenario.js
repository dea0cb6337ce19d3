'use strict';
// Scenarios in a child process or a worker_thread, written inline next to
// their assertions (as zeromq.js's createProcess/createWorker do): the
// function's source becomes the child's whole program, so a hang or a crash
// there cannot take the test run with it.
//
//   const r = await createProcess(async ({ NexaClient, startDevServer }, data) => {
//     ...
//     return { seen };            // becomes r.result
//   }, { n: 3 });
//
// The scenario runs with nothing of the test's scope: it gets NexaClient,
// startDevServer, report (prints its result at once, for a scenario that
// then exits by itself) and createWorker (the same for a worker_thread,
// whose scenario gets parentPort instead; a function of the test file
// reaches it as its source text, in `data`), and `data` (JSON).
const { runProcess } = require('./process');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const RESULT = 'scenario result: ';

/** What every scenario's program starts with. */
const PRELUDE = `'use strict';
const NexaClient = require(${JSON.stringify(ROOT)});
const { startDevServer } = require(${JSON.stringify(path.join(ROOT, 'lib', 'dev-server'))});
`;

/** The program of a child process running `scenario(ctx, data)`. */
function processProgram(scenario, data) {
  return `${PRELUDE}
const { Worker } = require('worker_threads');
const WORKER_PRELUDE = ${JSON.stringify(PRELUDE)};
const report = (value) => process.stdout.write('\\n${RESULT}' + JSON.stringify(value) + '\\n');
/** A worker_thread running scenario({ NexaClient, startDevServer, parentPort }, workerData); scenario: a function or its source. */
function createWorker(scenario, workerData) {
  const src = WORKER_PRELUDE + "const { parentPort, workerData } = require('worker_threads');\\n(" + scenario.toString() +
    ")({ NexaClient, startDevServer, parentPort }, workerData);";
  return new Worker(src, { eval: true, workerData });
}
Promise.resolve(${JSON.stringify(data === undefined ? null : data)})
  .then((data) => (${scenario.toString()})({ NexaClient, startDevServer, report, createWorker }, data))
  .then((value) => { if (value !== undefined) report(value); },
    (err) => { console.error('scenario failed:', err); process.exitCode = 1; });
`;
}

/**
 * Runs `scenario` in a child process; resolves when it has exited (or was
 * killed after `killAfter` ms) with its exit, output and `result` (what it
 * returned or reported; undefined if nothing).
 * @param {(ctx: object, data: *) => *} scenario
 * @param {*} [data] JSON-able, the scenario's second argument
 * @param {{killAfter?: number, nodeArgs?: string[], command?: string[], onStdout?: (out: string, child: object) => void}} [opts]
 *   command: what runs node (e.g. valgrind and its flags), before node's path
 */
async function createProcess(scenario, data, { killAfter = 8000, nodeArgs = [], command = [], onStdout } = {}) {
  const argv = [...command, process.execPath, ...nodeArgs, '-e', processProgram(scenario, data)];
  const r = await runProcess(argv[0], argv.slice(1), { killAfter, onStdout, cwd: ROOT });
  const line = r.stdout.split('\n').reverse().find((l) => l.startsWith(RESULT));
  r.result = line === undefined ? undefined : JSON.parse(line.slice(RESULT.length));
  return r;
}

/** How a child ended, for assertion messages. */
function explain(r) {
  return `code=${r.code} signal=${r.signal} killed=${r.killed} after ${r.ms} ms\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-3000)}`;
}

module.exports = { createProcess, explain };
