#!/usr/bin/env node
'use strict';
// Reads a memcheck log (scripts/valgrind.sh) and decides: definite/indirect
// leaks whose stack goes through the addon (nexaclient.node or our source
// files) and invalid reads/writes anywhere fail. Prints the counts.
//   node scripts/valgrind-report.js <log> [--all-leaks]
const fs = require('fs');

const [file, flag] = process.argv.slice(2);
const text = fs.readFileSync(file, 'utf8');
const lines = text.split('\n').map((l) => l.replace(/^==\d+== ?/, ''));
const ours = /nexaclient\.node|src\/core\/|src\/binding\/|\b(frame|codec|decode|conn|session|worker|ingest|ring|intern|tape)\.c:|\b(addon|handover|constants|to_js|strcache)\.cc:|\b(test_\w+|scripted_server|fixtures)\.c:|test_core/;
const blocks = [];
for (let i = 0; i < lines.length; i++) {
  const l = lines[i];
  if (/^(Invalid (read|write|free)|Mismatched free|Conditional jump|Use of uninitialised|Syscall param|Source and destination overlap)|are (definitely|indirectly|possibly) lost/.test(l)) {
    const stack = [];
    for (let j = i + 1; j < lines.length && lines[j].trim() !== ''; j++) stack.push(lines[j]);
    blocks.push({ head: l, stack: stack.join('\n') });
  }
}
const summary = {
  definite: (/definitely lost: ([\d,]+) bytes in ([\d,]+) blocks/.exec(text) || [, '0', '0']).slice(1).join(' bytes in ') + ' blocks',
  indirect: (/indirectly lost: ([\d,]+) bytes in ([\d,]+) blocks/.exec(text) || [, '0', '0']).slice(1).join(' bytes in ') + ' blocks',
  possible: (/possibly lost: ([\d,]+) bytes in ([\d,]+) blocks/.exec(text) || [, '0', '0']).slice(1).join(' bytes in ') + ' blocks',
};
const leaksOurs = blocks.filter((b) => /definitely|indirectly/.test(b.head) && (flag === '--all-leaks' || ours.test(b.stack)));
const invalid = blocks.filter((b) => /^(Invalid|Mismatched free)/.test(b.head));
const uninit = blocks.filter((b) => /^(Conditional jump|Use of uninitialised|Syscall param)/.test(b.head) && ours.test(b.stack));
console.log(`valgrind: leaks (whole process): definite ${summary.definite}, indirect ${summary.indirect}, possible ${summary.possible}`);
console.log(`valgrind: definite/indirect leaks ${flag === '--all-leaks' ? '' : 'through the addon '}: ${leaksOurs.length} record(s); invalid reads/writes/frees: ${invalid.length}; uninitialised values in our code: ${uninit.length}`);
for (const b of [...leaksOurs, ...invalid, ...uninit].slice(0, 8)) console.log(`---- ${b.head}\n${b.stack.split('\n').slice(0, 14).join('\n')}`);
process.exit(leaksOurs.length || invalid.length || uninit.length ? 1 : 0);
