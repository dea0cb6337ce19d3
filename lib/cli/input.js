'use strict';
// Arguments of the commands: positionals by name, JSON from an argument or
// from stdin, the --ops list.

const { parseOperations } = require('../arguments');
const { UsageError } = require('./errors');

/** The positionals as named values; too few or too many is a usage error. */
function expectArgs(positionals, required, optional = []) {
  if (positionals.length < required.length) {
    throw new UsageError(`missing ${required.slice(positionals.length).map((n) => `<${n}>`).join(' ')}`);
  }
  if (positionals.length > required.length + optional.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[required.length + optional.length])}`);
  }
  const out = {};
  [...required, ...optional].forEach((n, i) => { out[n] = positionals[i]; });
  return out;
}

/**
 * A JSON value from `text`, or from stdin when `text` is undefined or "-"
 * and stdin is not a terminal.
 * @param {string|undefined} text
 * @param {string} what named in errors ("document", "filters")
 * @param {NodeJS.ReadableStream} stdin
 */
async function readJson(text, what, stdin) {
  let source = text;
  if (source === undefined || source === '-') {
    if (stdin.isTTY) throw new UsageError(`missing <${what}> (JSON as an argument, or on stdin)`);
    source = await readAll(stdin);
  }
  try {
    return parseJson(source);
  } catch (err) {
    throw new UsageError(`<${what}> is not valid JSON: ${err.message}`);
  }
}

/**
 * JSON.parse, except that an integer beyond 2^53 becomes a BigInt (sent as
 * a 64-bit integer, exactly) instead of a rounded Number: what `watch`
 * prints can be written back unchanged.
 */
function parseJson(text) {
  const big = [];
  const tag = `\u0000${Math.random().toString(36).slice(2)}:`; // marks where a BigInt goes; no document holds it
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) { // a string: skip it, escapes included
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
      if (m === null) continue;
      if (m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(Number(m[0]))) {
        out += `${text.slice(from, i)}${JSON.stringify(tag + big.length)}`;
        big.push(BigInt(m[0]));
        from = i + m[0].length;
      }
      i += m[0].length - 1;
    }
  }
  if (big.length === 0) return JSON.parse(text);
  try {
    return JSON.parse(out + text.slice(from), (k, v) => (typeof v === 'string' && v.startsWith(tag) ? big[Number(v.slice(tag.length))] : v));
  } catch (err) {
    JSON.parse(text); // the message with the positions of the text as given
    throw err;
  }
}

/** A JSON object (not an array, not a scalar). */
async function readJsonObject(text, what, stdin) {
  const v = await readJson(text, what, stdin);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`<${what}> must be a JSON object`);
  return v;
}

function readAll(stream) {
  return new Promise((resolve, reject) => {
    let s = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => { s += d; });
    stream.on('end', () => resolve(s));
    stream.on('error', reject);
  });
}

/** --ops insert,update,...: the operations, checked as watch() checks them. */
function operationsOption(text) {
  try {
    return parseOperations(text.split(',').map((s) => s.trim()).filter(Boolean));
  } catch (err) {
    throw new UsageError(`--ops: ${err.message}`);
  }
}

/** The --pretty option of the commands that print JSON. */
const PRETTY = { pretty: { type: 'boolean' } };

module.exports = { expectArgs, readJson, readJsonObject, parseJson, operationsOption, PRETTY };
