'use strict';
// The main thread's cost of writing a request frame (lib/encode.js, as
// Connection.request calls it), beside msgpackr's pack of the same payload
// (MessagePack alone, no frame): a small create and a 100-document batchWrite.
//
//   node bench/requests.js [--rounds N]
const { pack } = require('msgpackr');
const { constants } = require('../lib/native');
const { frame } = require('../lib/encode');

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 3;
const doc = {
  _id: 'a1b2c3d4e5f6', name: 'Widget', price: 19.99, qty: 42, tags: ['red', 'blue', 'green'],
  owner: { id: 7, name: 'Ann', address: { city: 'Oslo', zip: '0150' } }, active: true, notes: null, created: 1700000000123,
};
const payloads = {
  'create (one document)': [constants.msg.CREATE, { collection: 'orders', data: doc }, 200000],
  'batchWrite (100 documents)': [constants.msg.BATCH_WRITE, { collection: 'orders', documents: Array.from({ length: 100 }, (_, i) => ({ ...doc, qty: i })) }, 2000],
};

/** ns per call of fn, after a warm-up. */
function nsPer(fn, n) {
  for (let i = 0; i < n / 10; i++) fn();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t) / n;
}

for (let r = 1; r <= rounds; r++) {
  for (const [name, [type, payload, n]] of Object.entries(payloads)) {
    const ours = nsPer(() => frame(type, payload, 0, false), n);
    const msgpackr = nsPer(() => pack(payload), n);
    console.log(`round ${r}  ${name.padEnd(27)} frame ${(ours / 1000).toFixed(2).padStart(7)} µs   msgpackr pack ${(msgpackr / 1000).toFixed(2).padStart(7)} µs   ratio ${(ours / msgpackr).toFixed(2)}`);
  }
}
