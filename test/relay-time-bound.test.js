'use strict';
// The relay's deadline for close() (lib/relay/time-bound.js), alone: what
// waits on it ends when it passes, and nothing it made outlives its wait.
const assert = require('assert');
const { Deadline, TIMED_OUT } = require('../lib/relay/time-bound');

const activeTimeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('relay: the close() deadline', () => {
  it('a race gives what it waited on, or TIMED_OUT once the deadline passes mid-wait', async () => {
    const d = new Deadline();
    assert.strictEqual(await d.race(Promise.resolve('appended')), 'appended');
    const never = new Promise(() => {});
    const waiting = d.race(never);
    d.by(Date.now() + 20);
    assert.strictEqual(await waiting, TIMED_OUT);
    assert.strictEqual(await d.race(never), TIMED_OUT, 'once passed, at once');
    d.clear();
  });

  it('races settled before the deadline are let go: an append a race, for a relay\'s whole life, holds nothing', async () => {
    const d = new Deadline();
    for (let i = 0; i < 1000; i++) await d.race(Promise.resolve(i));
    assert.strictEqual(d._waiting.size, 0, 'no wake-up kept for a race that settled');
    d.clear();
  });

  it('a retry backoff cut short by the deadline leaves no timer to hold the process up', async () => {
    const d = new Deadline();
    await new Promise((r) => setImmediate(r)); // mocha's own timer for this test is running by now
    const before = activeTimeouts();
    const slept = d.sleep(5000);
    d.by(Date.now() + 10);
    assert.strictEqual(await slept, TIMED_OUT);
    d.clear();
    assert.strictEqual(activeTimeouts(), before, 'the 5 s backoff timer is gone');
  });
});
