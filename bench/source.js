'use strict';
// An event source speaking the NexaDB protocol, for the benchmarks. It answers
// CONNECT, SUBSCRIBE, UNSUBSCRIBE, PING and DISCONNECT like the reference
// server; after SUBSCRIBE it pushes pre-encoded CHANGE_EVENT frames:
//
//   node bench/source.js --mode flood --kind small|large --events N
//       N events as fast as the socket drains (write until false, then 'drain')
//   node bench/source.js --mode rate --kind small|large --rate R --duration D
//       R events/s for D seconds; each event's `timestamp` is its send time in
//       seconds (bench/protocol.js epochClock: the monotonic clock shifted by
//       --epochOffsetMs to read like the epoch), patched into a pre-encoded
//       template in place
//   node bench/source.js --mode idle
//       subscribes and sends nothing
//
// Run under fork() it sends {port} to its parent and exits when the parent
// disconnects; run alone it prints the port.
const net = require('net');
const { MSG, HEADER, frame, encode, smallEvent, largeEvent, timestampOffset, monoMs, epochClock, frameListener } = require('./protocol');

function parseArgs(argv) {
  const o = { mode: 'flood', kind: 'small', events: 1000000, rate: 10000, duration: 5, port: 0, epochOffsetMs: Date.now() - monoMs() };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in o)) throw new Error(`unknown option ${argv[i]}`);
    o[k] = k === 'mode' || k === 'kind' ? argv[i + 1] : Number(argv[i + 1]);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const ev = opts.kind === 'large' ? largeEvent() : smallEvent();
const eventFrame = frame(MSG.CHANGE_EVENT, ev.payload);
const tsAt = HEADER + timestampOffset(ev.payload); // the float64 inside the frame

const answer = (type, value) => frame(type, encode(value));

const server = net.createServer((sock) => {
  sock.setNoDelay(true);
  sock.on('error', () => {});
  let stop = null; // stops this connection's pump
  const onData = frameListener((type) => {
    switch (type) {
      case MSG.CONNECT:
        sock.write(answer(MSG.SUCCESS, { status: 'connected', server: 'NexaDB Binary Protocol', version: '1.0.0',
          authenticated: true, username: 'root', role: 'admin' }));
        break;
      case MSG.SUBSCRIBE_CHANGES:
        sock.write(answer(MSG.SUCCESS, { subscribed: true, collection: 'orders', operations: ['insert', 'update', 'delete'],
          message: 'Subscribed to change stream for orders' }));
        if (stop) stop();
        stop = opts.mode === 'flood' ? flood(sock) : opts.mode === 'rate' ? atRate(sock) : null;
        break;
      case MSG.UNSUBSCRIBE_CHANGES:
        if (stop) stop();
        stop = null;
        sock.write(answer(MSG.SUCCESS, { unsubscribed: true, message: 'Unsubscribed from change stream' }));
        break;
      case MSG.PING:
        sock.write(answer(MSG.PONG, { status: 'ok', timestamp: Date.now() / 1000 }));
        break;
      case MSG.DISCONNECT:
        if (stop) stop();
        stop = null;
        sock.end(answer(MSG.SUCCESS, { status: 'goodbye' }));
        break;
      default:
        sock.write(answer(MSG.ERROR, { error: `Unknown message type: ${type}` }));
    }
  });
  sock.on('data', (d) => {
    try {
      onData(d);
    } catch {
      sock.destroy();
    }
  });
  sock.on('close', () => {
    if (stop) stop();
  });
});

/** Pushes opts.events frames as fast as the socket drains. */
function flood(sock) {
  // ~64 KiB of frames per write.
  const per = Math.max(1, Math.floor(65536 / eventFrame.length));
  const chunk = Buffer.concat(Array(per).fill(eventFrame));
  let sent = 0;
  let stopped = false;
  const pump = () => {
    while (!stopped && sent < opts.events) {
      const n = Math.min(per, opts.events - sent);
      sent += n;
      const ok = sock.write(n === per ? chunk : chunk.subarray(0, n * eventFrame.length));
      if (!ok) {
        sock.once('drain', pump);
        return;
      }
    }
  };
  pump();
  return () => { stopped = true; };
}

/**
 * Sends opts.rate events a second for opts.duration seconds. Event i is due at
 * t0 + i/rate; each turn writes every due event in one write, stamped with the
 * time of that write, then sleeps (Atomics.wait, no spinning) until the next
 * is due. setImmediate between turns keeps the socket's reads served.
 */
function atRate(sock) {
  const total = Math.round(opts.rate * opts.duration);
  const msPer = 1000 / opts.rate;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const flen = eventFrame.length;
  let sent = 0;
  let stopped = false;
  const clock = epochClock(opts.epochOffsetMs);
  const t0 = monoMs() + 20;
  const turn = () => {
    if (stopped || sock.destroyed) return;
    const now = monoMs();
    const due = Math.min(total, Math.floor((now - t0) / msPer) + 1);
    const n = due - sent;
    if (n > 0) {
      const out = Buffer.allocUnsafe(n * flen); // the socket may keep it queued: a fresh one per write
      const stamp = clock() / 1000;
      for (let i = 0; i < n; i++) {
        eventFrame.copy(out, i * flen);
        out.writeDoubleBE(stamp, i * flen + tsAt);
      }
      sock.write(out);
      sent = due;
    }
    if (sent >= total) return;
    const wait = t0 + sent * msPer - monoMs();
    if (wait > 0) Atomics.wait(sleeper, 0, 0, Math.min(wait, 5));
    setImmediate(turn);
  };
  setImmediate(turn);
  return () => { stopped = true; };
}

server.listen(opts.port, '127.0.0.1', () => {
  const { port } = server.address();
  if (process.send) {
    process.send({ port, origin: ev.origin, payloadBytes: ev.payload.length });
    process.on('disconnect', () => process.exit(0));
  } else {
    console.log(`NexaDB bench source on 127.0.0.1:${port}: ${opts.mode}, ${opts.kind} event (${ev.payload.length}-byte payload, ${ev.origin})`);
  }
});
