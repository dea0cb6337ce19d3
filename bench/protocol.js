'use strict';
// What the bench's source and pure-JS consumers share: the NexaDB frame
// header and frames (the project's frame reader and writer), MessagePack (the
// client's writer), the two event payloads, and a clock every process on this
// machine reads alike.
const fs = require('fs');
const path = require('path');

// The protocol's facts as the core defines them (src/core/frame.h, via the addon).
const { headerSize: HEADER, msg: MSG } = require('../lib/native').constants;
const { FrameReader, frameBytes: frame } = require('../lib/frame-reader');

// MessagePack: the client's own writer (lib/encode.js), which writes every
// non-integer as a float64, the way the reference server encodes.
const { encode } = require('../lib/encode');

// --- The two events ---------------------------------------------------------

const TRANSCRIPTS = path.join(__dirname, '..', '..', 'shared', 'protocol', 'reference-transcripts.json');

// The transcripts' `watch_orders_crud` insert, should the file be absent.
const BUILTIN_INSERT = {
  operationType: 'insert',
  ns: { db: 'nexadb', coll: 'orders' },
  timestamp: 1795686148.0110404,
  documentKey: { _id: '19a2dff138f57b38' },
  fullDocument: {
    _id: '19a2dff138f57b38', _created_at: '2026-11-26T09:42:28.010990', _updated_at: '2026-11-26T09:42:28.010990',
    customer: 'Alice', total: 99.99, customer_email: 'alice@example.com', status: 'pending',
  },
};

/** The small event: the recorded bytes of the server's insert (292-byte payload). */
function smallEvent() {
  try {
    const t = JSON.parse(fs.readFileSync(TRANSCRIPTS, 'utf8'));
    const f = t.scenarios.watch_orders_crud.frames.find((x) => x.dir === 's2c' && x.type === MSG.CHANGE_EVENT &&
      x.payload && x.payload.operationType === 'insert');
    const bytes = Buffer.from(f.hex, 'hex');
    return { payload: bytes.subarray(HEADER), origin: 'reference transcript (watch_orders_crud insert)' };
  } catch {
    return { payload: encode(BUILTIN_INSERT), origin: 'built-in copy of the watch_orders_crud insert' };
  }
}

/** The large event: an update with updateDescription, ~1 KB, every value kind the server keeps. */
function largeEvent() {
  const ts = '2026-11-26T09:42:28.061983';
  const items = [];
  for (let i = 0; i < 4; i++) {
    items.push({ sku: `SKU-${1000 + i}`, name: ['Espresso beans 1kg', 'Milk frother', 'Ceramic mug', 'Paper filters x100', 'Grinder'][i],
      qty: i + 1, price: [24.5, 39.99, 12.0001, 4.25, 129.9][i], gift: i === 2, tags: ['coffee', i % 2 ? 'kitchen' : 'food'] });
  }
  const doc = {
    _id: '19a2dff138f57b38', _created_at: '2026-11-26T09:42:28.010990', _updated_at: ts,
    customer: 'Alice', total: 99.99, customer_email: 'alice@example.com', status: 'shipped', tracking: 'XYZ123',
    items,
    shipping: { name: 'Alice Example', street: '221B Baker Street', city: 'London', zip: 'NW1 6XE', country: 'GB',
      express: true, cost: 7.5, eta_days: 2 },
    payment: { method: 'card', last4: '4242', captured: true, amount: 309.63, currency: 'EUR', refund: null },
    notes: 'Leave the parcel with the neighbour at number 23 if nobody answers the door.',
    loyalty_points: 3096, priority: -1,
  };
  const event = {
    operationType: 'update',
    ns: { db: 'nexadb', coll: 'orders' },
    timestamp: 1795686148.0620792,
    documentKey: { _id: '19a2dff138f57b38' },
    fullDocument: doc,
    updateDescription: { updatedFields: { status: 'shipped', tracking: 'XYZ123', _updated_at: ts,
      shipping: { carrier: 'DHL', service: 'express', cost: 7.5 } } },
  };
  return { payload: encode(event), origin: 'built-in update event' };
}

/** Offset of the float64 bytes of the top-level `timestamp` (after 0xcb), for patching in place. */
function timestampOffset(payload) {
  const key = Buffer.concat([Buffer.from([0xa9]), Buffer.from('timestamp'), Buffer.from([0xcb])]);
  const at = payload.indexOf(key);
  if (at < 0) throw new Error('event has no float64 timestamp');
  return at + key.length;
}

// --- One clock for every process ---------------------------------------------
// CLOCK_MONOTONIC is system-wide on Linux, so its readings compare across
// processes with no offset error. process.hrtime.bigint() reads it but
// allocates; performance.now() is cheap and runs on the same clock, so the
// offset between them is taken once: from the tightest of 200 bracketed
// readings, since one reading taken across a pause (first calls, a GC, a
// preemption) would shift every latency of the process by that pause.
const { performance } = require('perf_hooks');
const MONO_OFFSET_MS = (() => {
  let best = Infinity;
  let off = 0;
  for (let i = 0; i < 200; i++) {
    const a = performance.now();
    const h = Number(process.hrtime.bigint()) / 1e6;
    const b = performance.now();
    if (b - a < best) {
      best = b - a;
      off = h - (a + b) / 2;
    }
  }
  return off;
})();
/** Milliseconds on the system's monotonic clock (comparable across processes). */
function monoMs() {
  return performance.now() + MONO_OFFSET_MS;
}

/**
 * A clock that reads like the epoch but runs on the monotonic clock: run.js
 * passes one `epochOffsetMs` to the source and the consumer, so event
 * timestamps look like the server's (seconds since the epoch) and both
 * processes read exactly the same clock.
 */
function epochClock(epochOffsetMs) {
  const off = MONO_OFFSET_MS + epochOffsetMs;
  return () => performance.now() + off;
}

/**
 * Calls onFrame(type, payload) for every whole frame of a socket's bytes,
 * read with the project's one frame reader (lib/frame-reader.js).
 * @returns {(chunk: Buffer) => void} the socket's 'data' listener
 */
function frameListener(onFrame) {
  const reader = new FrameReader();
  return (chunk) => {
    reader.push(chunk);
    for (let f = reader.next(); f !== null; f = reader.next()) {
      if (f.fatal) throw new Error(f.fatal);
      onFrame(f.type, f.payload);
    }
  };
}

module.exports = { MSG, HEADER, frame, encode, smallEvent, largeEvent, timestampOffset, frameListener, monoMs, epochClock };
