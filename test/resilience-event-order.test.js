'use strict';
// Resilience against a server that sends a burst's events out of timestamp
// order: reorderWindowMs puts them back in order.
const assert = require('assert');

const { collect } = require('./fixtures/helpers');
const { resilienceSuite } = require('./helpers/resilience-rig');

describe('resilience', function () {
  this.timeout(15000);

  const { client, stopServer, startServer } = resilienceSuite();

  describe('event order', () => {
    it('reorderWindowMs delivers a shuffled 300-event batch in timestamp order; without it the order is shuffled', async () => {
      await stopServer();
      await startServer({ port: 0, shuffleEvents: true });
      const c = client();
      const ordered = c.watch('ro', { reorderWindowMs: 100 });
      const raw = c.watch('ro');
      await Promise.all([ordered.ready, raw.ready]);
      const colO = collect(ordered);
      const colR = collect(raw);
      const N = 300;
      let outOfOrder = 0;
      for (let round = 1; round <= 5; round++) {
        await c.batchWrite('ro', Array.from({ length: N }, (_, i) => ({ round, i })));
        const mine = (col) => col.events.filter((e) => e.fullDocument.round === round);
        await colO.until(() => mine(colO).length === N, `round ${round} on the ordered stream`);
        await colR.until(() => mine(colR).length === N, `round ${round} on the raw stream`);
        const o = mine(colO);
        for (let k = 1; k < N; k++) {
          assert.ok(o[k - 1].timestamp <= o[k].timestamp, `round ${round}: event ${k} out of timestamp order`);
        }
        assert.deepStrictEqual(o.map((e) => e.fullDocument.i), Array.from({ length: N }, (_, i) => i), 'the write order');
        const r = mine(colR);
        assert.deepStrictEqual(r.map((e) => e.fullDocument.i).sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i));
        if (r.some((e, k) => k > 0 && r[k - 1].timestamp > e.timestamp)) outOfOrder++;
        if (outOfOrder > 0) break;
      }
      assert.ok(outOfOrder > 0, 'without reorderWindowMs, a shuffled burst arrives out of order');
    });
  });
});
