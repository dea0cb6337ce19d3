'use strict';
// Touches every field of an event: counts leaves and sums the lengths of every
// string, keys included, so a decoder that defers work cannot win by skipping it.
const totals = { leaves: 0, strChars: 0 };

function walk(v) {
  if (typeof v === 'string') {
    totals.strChars += v.length;
    totals.leaves++;
  } else if (v === null || typeof v !== 'object') {
    totals.leaves++;
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) walk(v[i]);
  } else {
    for (const k in v) {
      totals.strChars += k.length;
      walk(v[k]);
    }
  }
}

module.exports = { walk, totals };
