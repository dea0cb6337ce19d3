'use strict';
// Reads ../shared/protocol/reference-transcripts.json exactly: integers
// beyond 2^53 become BigInt (JSON.parse would round them), and the file's
// conventions are expanded: {"$bin": hex} is a Buffer, {"$str": s, "$len": n}
// the string s repeated to n characters.
const fs = require('fs');
const path = require('path');
const assert = require('assert');
const { setOwn } = require('../../lib/own-property');

const DIR = path.join(__dirname, '..', '..', '..', 'shared', 'protocol');
const FILE = path.join(DIR, 'reference-transcripts.json');

/** A JSON parser that keeps unsafe integers exact. */
function parseExact(text) {
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  function value() {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o = {};
      ws();
      if (text[i] === '}') { i++; return o; }
      for (;;) {
        ws();
        const k = str();
        ws();
        if (text[i++] !== ':') throw new SyntaxError(`expected : at ${i}`);
        const v = value();
        setOwn(o, k, v);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] === '}') return o;
        throw new SyntaxError(`expected , or } at ${i}`);
      }
    }
    if (c === '[') {
      i++;
      const a = [];
      ws();
      if (text[i] === ']') { i++; return a; }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] === ']') return a;
        throw new SyntaxError(`expected , or ] at ${i}`);
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (!m) throw new SyntaxError(`unexpected ${c} at ${i}`);
    i += m[0].length;
    if (!m[1] && !m[2]) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  }
  function str() {
    // The string's extent, then JSON.parse for the escapes.
    const start = i;
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  }
  const v = value();
  ws();
  if (i !== text.length) throw new SyntaxError(`trailing text at ${i}`);
  return v;
}

function expand(v) {
  if (Array.isArray(v)) return v.map(expand);
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '$bin') return Buffer.from(v.$bin, 'hex');
    if (keys.length === 2 && keys[0] === '$str' && keys[1] === '$len') {
      return v.$str.repeat(Math.ceil(v.$len / v.$str.length)).slice(0, v.$len);
    }
    const o = {};
    for (const k of keys) setOwn(o, k, expand(v[k]));
    return o;
  }
  return v;
}

/** The scenarios, or null when ../shared/protocol is absent. */
function load() {
  if (!fs.existsSync(FILE)) return null;
  const doc = parseExact(fs.readFileSync(FILE, 'utf8'));
  for (const s of Object.values(doc.scenarios)) {
    for (const f of s.frames) if ('payload' in f) f.payload = expand(f.payload);
  }
  return doc.scenarios;
}

/** Deep equality that also checks key order, -0 and value kinds. */
function assertSame(actual, expected, where = '$') {
  if (Buffer.isBuffer(expected)) {
    assert.ok(Buffer.isBuffer(actual), `${where}: expected a Buffer`);
    assert.ok(actual.equals(expected), `${where}: bytes differ`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: expected an array, got ${typeof actual}`);
    assert.strictEqual(actual.length, expected.length, `${where}: length`);
    expected.forEach((e, k) => assertSame(actual[k], e, `${where}[${k}]`));
    return;
  }
  if (expected && typeof expected === 'object') {
    assert.ok(actual && typeof actual === 'object' && !Array.isArray(actual), `${where}: expected an object`);
    assert.deepStrictEqual(Object.keys(actual), Object.keys(expected), `${where}: keys or their order`);
    for (const k of Object.keys(expected)) assertSame(actual[k], expected[k], `${where}.${k}`);
    return;
  }
  assert.ok(Object.is(actual, expected), `${where}: ${String(actual)} (${typeof actual}) !== ${String(expected)} (${typeof expected})`);
}

module.exports = { load, assertSame, parseExact, DIR, FILE };
