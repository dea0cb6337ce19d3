#!/usr/bin/env node
'use strict';
// Writes the libFuzzer seed corpora from the recorded server frames in
// ../shared/protocol/reference-transcripts.json:
//   fuzz/corpus/frame/  server-to-client streams, whole and per frame, with
//                       a chunking prefix (see fuzz_frame.c)
//   fuzz/corpus/check/  the MessagePack payloads of those frames
// The directory is gitignored. Without the transcripts folder: a message,
// exit 0 (the fuzzers then start from an empty corpus).
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { headerSize: HEADER_SIZE } = require('../lib/native').constants;

const root = path.join(__dirname, '..');
const file = path.join(root, '..', 'shared', 'protocol', 'reference-transcripts.json');
const out = process.argv[2] || path.join(__dirname, 'corpus');

if (!fs.existsSync(file)) {
  console.log(`seed corpus: ${path.dirname(file)} is absent; skipping (the fuzzers start from nothing)`);
  process.exit(0);
}

const { scenarios } = JSON.parse(fs.readFileSync(file, 'utf8'));
const dirs = { frame: path.join(out, 'frame'), check: path.join(out, 'check') };
for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
const counts = { frame: 0, check: 0 };

function put(kind, buf) {
  const name = crypto.createHash('sha1').update(buf).digest('hex');
  const f = path.join(dirs[kind], name);
  if (!fs.existsSync(f)) {
    fs.writeFileSync(f, buf);
    counts[kind]++;
  }
}

// Prefix byte: low 4 bits = number of chunk-size bytes, bits 4-5 = max_frame
// (0: 64, 1: 512, 2: 4096, 3: 65536 bytes).
function framed(stream, sizes, maxSel) {
  return Buffer.concat([Buffer.from([(maxSel << 4) | sizes.length, ...sizes]), stream]);
}

for (const [name, sc] of Object.entries(scenarios)) {
  const s2c = (sc.frames || []).filter((f) => f.dir === 's2c' && typeof f.hex === 'string');
  if (!s2c.length) continue;
  const bufs = s2c.map((f) => Buffer.from(f.hex, 'hex'));
  for (const b of bufs) {
    put('frame', framed(b, [], 3));
    put('frame', framed(b, [0, 6, 11], 2)); // 1, 7, 12 bytes at a time
    if (b.length >= HEADER_SIZE) put('check', b.subarray(HEADER_SIZE));
  }
  const stream = Buffer.concat(bufs);
  put('frame', framed(stream, [], 3));
  put('frame', framed(stream, [2, 200, 12], 3));
  put('frame', framed(stream, [], 0)); // most frames above a 64-byte max_frame
  if (stream.length > 20) put('frame', framed(stream.subarray(0, stream.length - 5), [3], 3)); // truncated
  void name;
}
console.log(`seed corpus: ${fs.readdirSync(dirs.frame).length} frame seeds, ${fs.readdirSync(dirs.check).length} payload seeds in ${out} (${counts.frame + counts.check} new)`);
