'use strict';
// Arguments of the document commands: positionals by name, JSON from an
// argument or from stdin.

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
    return JSON.parse(source);
  } catch (err) {
    throw new UsageError(`<${what}> is not valid JSON: ${err.message}`);
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

/** The --pretty option of the commands that print JSON. */
const PRETTY = { pretty: { type: 'boolean' } };

module.exports = { expectArgs, readJson, readJsonObject, PRETTY };
