'use strict';
// Quick figure: events/s into `for await` from a source that pushes the
// recorded insert event as fast as the socket drains. The full suite, with
// baselines, is issue 6's; this one answers "how fast, roughly?".
//   node bench/quick-throughput.js [events=500000]
const net = require('net');
const { fork } = require('child_process');
const path = require('path');

if (process.argv[2] === '--source') {
  // Child: a minimal NexaDB-speaking source on a free port.
  const native = require('../lib/native');
  const total = Number(process.argv[3]);
  const event = native.frame(0x90, {
    operationType: 'insert', ns: { db: 'nexadb', coll: 'orders' }, timestamp: 1795686148.0110404,
    documentKey: { _id: '19a2dff138f57b38' },
    fullDocument: { _id: '19a2dff138f57b38', _created_at: '2026-11-26T09:42:28.010990', _updated_at: '2026-11-26T09:42:28.010990',
      customer: 'Alice', total: 99.99, customer_email: 'alice@example.com', status: 'pending' },
  });
  const chunk = Buffer.concat(Array(256).fill(event));
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 12 && buf.length >= 12 + buf.readUInt32BE(8)) {
        const type = buf[5];
        buf = buf.subarray(12 + buf.readUInt32BE(8));
        if (type === 0x01) sock.write(native.frame(0x81, { status: 'connected' }));
        else if (type === 0x30) { sock.write(native.frame(0x81, { subscribed: true })); pump(); }
        else if (type === 0x0a) sock.end(native.frame(0x81, { status: 'goodbye' }));
        else sock.write(native.frame(0x81, {}));
      }
    });
    sock.on('error', () => {});
    let sent = 0;
    function pump() {
      while (sent < total) {
        sent += 256;
        if (!sock.write(chunk)) { sock.once('drain', pump); return; }
      }
    }
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
  process.on('disconnect', () => process.exit(0));
} else {
  const NexaClient = require('..');
  const total = Number(process.argv[2] || 500000);
  const child = fork(__filename, ['--source', String(total)]);
  child.once('message', async (port) => {
    const client = new NexaClient({ host: '127.0.0.1', port });
    const stream = client.watch('orders');
    await stream.ready;
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    let n = 0;
    let check = 0;
    for await (const ev of stream) {
      check += ev.fullDocument.total > 0 ? 1 : 0; // touch the event
      if (++n >= total) break;
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    console.log(`${n} events in ${secs.toFixed(3)} s = ${Math.round(n / secs).toLocaleString('en-US')} events/s; ` +
      `process CPU ${((cpu.user + cpu.system) / n).toFixed(2)} µs/event; checked ${check}`);
    await client.disconnect();
    child.disconnect();
  });
}
