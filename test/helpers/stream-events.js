'use strict';
// Reading a ChangeStream with next() in a test, with a deadline: a missing
// event fails the test at once instead of hanging it until mocha's timeout.
const assert = require('assert');

/** The next event, failing (rather than hanging) if none comes within `ms`. */
function nextEvent(stream, ms = 5000) {
  let timer;
  return Promise.race([
    stream.next().then((r) => {
      assert.strictEqual(r.done, false, 'the stream ended instead of delivering an event');
      return r.value;
    }),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The next `n` events, all within `ms`. */
async function takeEvents(stream, n, ms = 8000) {
  const out = [];
  const until = Date.now() + ms;
  while (out.length < n) out.push(await nextEvent(stream, Math.max(1, until - Date.now())));
  return out;
}

module.exports = { nextEvent, takeEvents };
