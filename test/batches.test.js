'use strict';
// The batch dispatcher's table of live connections, without a server.
const assert = require('assert');
const { batches } = require('../lib/batches');

describe('batch dispatcher', () => {
  it("never gives a live connection's id to another, also once the ids wrap", () => {
    const saved = batches._nextId;
    const added = [];
    const add = (conn) => {
      const id = batches.add(conn);
      added.push(id);
      return id;
    };
    try {
      const first = add({ name: 'first' });
      batches._nextId = first; // as if the counter came round to it again
      const second = add({ name: 'second' });
      assert.notStrictEqual(second, first);

      batches._nextId = 0xffffffff;
      const last = add({ name: 'last' });
      assert.strictEqual(last, 0xffffffff);
      batches._nextId = 0xffffffff;
      const wrapped = add({ name: 'wrapped' });
      assert.ok(wrapped >= 1 && wrapped !== last && !added.slice(0, -1).includes(wrapped), `id ${wrapped}`);
    } finally {
      for (const id of added) batches.remove(id);
      batches._nextId = saved;
    }
  });
});
