'use strict';
// The ways to consume a change stream, one per stream (as the MongoDB driver
// has it): iterating it (for await, next()), 'change' listeners, or the one
// Readable stream() returns. The stream keeps which way it has; this says
// whether another may follow, and makes the Readable.
const { Readable } = require('stream');

/** @typedef {'iterator'|'emitter'|'readable'} Way */

/** @type {Record<Way, string>} what the errors call each way */
const WAYS = { iterator: 'iterated (for await or next())', emitter: "consumed by 'change' listeners", readable: 'read through stream()' };

/**
 * The way a stream is consumed once `wanted` is used.
 * @param {Way|null} current null: not consumed yet
 * @param {Way} wanted
 * @returns {Way} wanted
 * @throws {TypeError} the stream is consumed another way, or already has its Readable
 */
function claimWay(current, wanted) {
  if (current === null || (current === wanted && wanted !== 'readable')) return wanted;
  if (current === wanted) {
    throw new TypeError(`this ChangeStream is ${WAYS.readable}: it already has its Readable (one Readable per stream)`);
  }
  throw new TypeError(`this ChangeStream is ${WAYS[current]}: it cannot also be ${WAYS[wanted]} (one way to consume a stream)`);
}

/**
 * A Readable in object mode that calls `pull` only as fast as it is read,
 * so backpressure holds end to end. Destroying it, or its end, calls `close`.
 * @param {() => Promise<IteratorResult<object>>} pull the stream's items, past the way check
 * @param {() => Promise<void>} close
 * @param {number} highWaterMark
 * @returns {Readable}
 */
function readableOver(pull, close, highWaterMark) {
  const pulls = {
    next: pull,
    return: () => close().then(() => ({ value: undefined, done: true })),
    [Symbol.asyncIterator]: () => pulls,
  };
  return Readable.from(pulls, { objectMode: true, highWaterMark });
}

module.exports = { claimWay, readableOver, WAYS };
