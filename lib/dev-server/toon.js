'use strict';

/**
 * TOON text for the dev server, as the reference server writes and reads it
 * (its own `toon_format.py`, which is a simplified TOON: tabular arrays of
 * maps, `key[N]: a,b` primitive arrays, two-space indentation for nested
 * maps), plus Python's `json.dumps` for the `token_stats` sizes.
 *
 * Known differences, all from the codec: a float with an integral value
 * (1.0) reaches the server as a plain number and is written `1`, where the
 * reference writes `1.0`.
 * @module nexaclient/dev-server/toon
 * @private
 */

const { isMap } = require('./query');
const { setOwn } = require('../own-property');

/** Python repr() of a float (shortest round-trip digits, Python's exponent style). */
function pyFloat(v) {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Object.is(v, -0)) return '-0.0';
  const abs = Math.abs(v);
  if (abs !== 0 && (abs >= 1e16 || abs < 1e-4)) {
    // Python: 1e+16, 1.5e-05 (exponent with at least two digits)
    const [mant, exp] = v.toExponential().split('e');
    const sign = exp[0] === '-' ? '-' : '+';
    const digits = exp.replace(/^[+-]/, '').padStart(2, '0');
    return `${mant}e${sign}${digits}`;
  }
  const s = String(v);
  return Number.isInteger(v) ? `${s}.0` : s;
}

/** Python str() of a number as the codec hands it over (integral -> int). */
function pyNumber(v) {
  if (typeof v === 'bigint') return v.toString();
  if (Number.isInteger(v) && !Object.is(v, -0)) return String(v);
  return pyFloat(v);
}

/** Python json.dumps(str) with ensure_ascii=True. */
function pyJsonString(s) {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Python json.dumps(value) with its default separators (", " and ": "). */
function pyJsonDumps(v) {
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'string') return pyJsonString(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
    return pyNumber(v);
  }
  if (Array.isArray(v)) return `[${v.map(pyJsonDumps).join(', ')}]`;
  if (isMap(v)) return `{${Object.keys(v).map((k) => `${pyJsonString(k)}: ${pyJsonDumps(v[k])}`).join(', ')}}`;
  return pyJsonString(String(v));
}

/** Python repr(), for containers written where TOON expects a primitive. */
function pyRepr(v) {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') {
    const q = v.includes("'") && !v.includes('"') ? '"' : "'";
    let body = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
    if (q === "'") body = body.replace(/'/g, "\\'");
    return `${q}${body}${q}`;
  }
  if (typeof v === 'number' || typeof v === 'bigint') return pyNumber(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (isMap(v)) return `{${Object.keys(v).map((k) => `${pyRepr(k)}: ${pyRepr(v[k])}`).join(', ')}}`;
  return String(v);
}

/** Length of a string in code points, as Python's len(). */
function pyLen(s) {
  let n = 0;
  for (const _ of s) n++; // eslint-disable-line no-unused-vars
  return n;
}

// --- writer -------------------------------------------------------------------

const INDENT = 2;

function pad(level) {
  return ' '.repeat(level * INDENT);
}

function primitive(v) {
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'string') return /[,\n"]/.test(v) ? pyJsonString(v) : v;
  if (typeof v === 'number' || typeof v === 'bigint') return pyNumber(v);
  return pyRepr(v); // a map or a list in a table cell: Python's str()
}

function isPrimitive(v) {
  return !Array.isArray(v) && !isMap(v);
}

/** Keys of all the maps, in first-seen order. */
function unionKeys(items) {
  const keys = [];
  const seen = new Set();
  for (const item of items) {
    for (const k of Object.keys(item)) {
      if (!seen.has(k)) {
        seen.add(k);
        keys.push(k);
      }
    }
  }
  return keys;
}

function cell(item, field) {
  return primitive(Object.prototype.hasOwnProperty.call(item, field) ? item[field] : null);
}

function serialize(v, level) {
  if (isMap(v)) return serializeObject(v, level);
  if (Array.isArray(v)) return serializeArray(v, level);
  return primitive(v);
}

function serializeObject(obj, level) {
  const lines = [];
  const indent = pad(level);
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (isMap(value)) {
      lines.push(`${indent}${key}:`);
      lines.push(serializeObject(value, level + 1));
    } else if (Array.isArray(value)) {
      lines.push(`${indent}${arrayWithKey(key, value, level)}`);
    } else {
      lines.push(`${indent}${key}: ${primitive(value)}`);
    }
  }
  return lines.join('\n');
}

function serializeArray(arr, level) {
  if (arr.length === 0) return '[]';
  if (arr.every(isMap)) {
    const keys = unionKeys(arr);
    return arr.map((item) => `${pad(level)}${keys.map((f) => cell(item, f)).join(',')}`).join('\n');
  }
  if (arr.every(isPrimitive)) return arr.map(primitive).join(',');
  return arr.map((item) => `${pad(level)}${serialize(item, level + 1)}`).join('\n');
}

function arrayWithKey(key, arr, level) {
  if (arr.length === 0) return `${key}[0]:`;
  const n = arr.length;
  if (arr.every(isMap)) {
    const keys = unionKeys(arr);
    if (keys.length > 0) {
      const rows = arr.map((item) => `${pad(level + 1)}${keys.map((f) => cell(item, f)).join(',')}`);
      return [`${key}[${n}]{${keys.join(',')}}:`, ...rows].join('\n');
    }
  }
  if (arr.every(isPrimitive)) return `${key}[${n}]: ${arr.map(primitive).join(',')}`;
  const lines = [`${key}[${n}]:`];
  for (const item of arr) lines.push(`${pad(level + 1)}${serialize(item, level + 1)}`);
  return lines.join('\n');
}

/**
 * TOON text of a value, as the reference's json_to_toon.
 * @param {*} value
 * @returns {string}
 */
function toToon(value) {
  return serialize(value, 0);
}

// --- reader -------------------------------------------------------------------

function leadingSpace(line) {
  return line.length - line.replace(/^\s+/, '').length;
}

/** The reference's CSV row split: quotes toggle and are dropped, empty tail dropped. */
function csvRow(row) {
  const values = [];
  let current = '';
  let quoted = false;
  for (const ch of row) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      values.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current) values.push(current.trim());
  return values;
}

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/;

function parsePrimitive(text) {
  const s = text.trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) return JSON.parse(s);
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (s === 'null') return null;
  if (s.includes('.')) {
    if (FLOAT_RE.test(s)) return parseFloat(s);
    return s;
  }
  if (INT_RE.test(s)) {
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : BigInt(s);
  }
  return s;
}

function arrayDeclaration(key) {
  const name = key.slice(0, key.indexOf('['));
  const lenText = key.slice(key.indexOf('[') + 1, key.indexOf(']'));
  if (!/^\s*[+-]?\d+\s*$/.test(lenText)) {
    throw new Error(`invalid literal for int() with base 10: '${lenText}'`);
  }
  const meta = { length: parseInt(lenText, 10), fields: null };
  if (key.includes('{')) {
    meta.fields = key.slice(key.indexOf('{') + 1, key.indexOf('}')).split(',').map((f) => f.trim());
  }
  return [name, meta];
}

function parseLines(lines, start, base) {
  const obj = {};
  let idx = start;
  while (idx < lines.length) {
    const line = lines[idx];
    if (!line.trim()) {
      idx++;
      continue;
    }
    const indent = leadingSpace(line);
    if (indent < base) break;
    if (indent > base) {
      idx++;
      continue;
    }
    const content = line.trim();
    if (!content.includes(':')) {
      idx++;
      continue;
    }
    const colon = content.indexOf(':');
    const key = content.slice(0, colon).trim();
    const valuePart = content.slice(colon + 1).trim();
    if (key.includes('[') && key.includes(']')) {
      const [name, meta] = arrayDeclaration(key);
      if (key.includes('{')) {
        const rows = [];
        let r = idx + 1;
        while (r < lines.length && rows.length < meta.length) {
          const rowLine = lines[r];
          if (leadingSpace(rowLine) >= indent + 2 && rowLine.trim()) {
            const values = csvRow(rowLine.trim());
            const row = {};
            meta.fields.forEach((field, i) => {
              if (i < values.length) setOwn(row, field, parsePrimitive(values[i]));
            });
            rows.push(row);
          }
          r++;
        }
        setOwn(obj, name, rows);
        idx = r;
        continue;
      }
      setOwn(obj, name, valuePart ? csvRow(valuePart).map(parsePrimitive) : []);
      idx++;
      continue;
    }
    if (!valuePart && idx + 1 < lines.length && leadingSpace(lines[idx + 1]) > indent) {
      const [nested, next] = parseLines(lines, idx + 1, indent + 2);
      setOwn(obj, key, nested);
      idx = next;
      continue;
    }
    if (valuePart) setOwn(obj, key, parsePrimitive(valuePart));
    idx++;
  }
  return [obj, idx];
}

/**
 * Parses TOON text as the reference's toon_to_json does (always a map).
 * @param {string} text
 * @returns {object}
 */
function fromToon(text) {
  const lines = String(text).trim().split('\n');
  return parseLines(lines, 0, 0)[0];
}

/** Python round(x, 1), close enough (half away from zero on the decimal). */
function round1(x) {
  return Math.round(x * 10) / 10;
}

module.exports = { toToon, fromToon, pyJsonDumps, pyLen, pyFloat, round1 };
