'use strict';

/**
 * Query filters for the dev server, with the reference server's semantics
 * (which are Python's): a plain value means equality, a map holds operators
 * ($eq $ne $gt $gte $lt $lte $in $nin $exists $regex), unknown operators are
 * ignored, several fields are ANDed, "a.b" reaches into nested maps, and a
 * missing field reads as nil. Ordering two values Python cannot order (nil
 * with a number, a string with a number...) is an error, as on the reference
 * server, whose text we reproduce.
 * @module nexaclient/dev-server/query
 * @private
 */

function isMap(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** The Python type name of a decoded value, for error texts. */
function pyType(v) {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Uint8Array) return 'bytes';
  return 'dict';
}

function isNumeric(v) {
  return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean';
}

function numCompare(a, b) {
  if (typeof a === 'boolean') a = a ? 1 : 0;
  if (typeof b === 'boolean') b = b ? 1 : 0;
  if (typeof a === 'number' && Number.isNaN(a)) return NaN;
  if (typeof b === 'number' && Number.isNaN(b)) return NaN;
  // < and > work across number and BigInt without losing precision.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Python ==. */
function pyEqual(a, b) {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (isNumeric(a) && isNumeric(b)) return numCompare(a, b) === 0;
  if (a === null || b === null) return a === b;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!pyEqual(a[i], b[i])) return false;
    return true;
  }
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) {
      if (!Object.prototype.hasOwnProperty.call(b, k) || !pyEqual(a[k], b[k])) return false;
    }
    return true;
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0;
  return false;
}

/** Python ordering: -1, 0, 1 (NaN when a NaN is involved); throws TypeError like Python. */
function pyCompare(a, b, op) {
  if (isNumeric(a) && isNumeric(b)) return numCompare(a, b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (!pyEqual(a[i], b[i])) return pyCompare(a[i], b[i], op);
    }
    return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
  }
  throw new TypeError(`'${op}' not supported between instances of '${pyType(a)}' and '${pyType(b)}'`);
}

/** Python `x in container`. */
function pyIn(x, container) {
  if (Array.isArray(container)) return container.some((c) => pyEqual(x, c));
  if (typeof container === 'string') {
    if (typeof x !== 'string') {
      throw new TypeError(`'in <string>' requires string as left operand, not ${pyType(x)}`);
    }
    return container.includes(x);
  }
  if (isMap(container)) return typeof x === 'string' && Object.prototype.hasOwnProperty.call(container, x);
  throw new TypeError(`argument of type '${pyType(container)}' is not iterable`);
}

/** Python str(), close enough for $regex. */
function pyStr(v) {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    if (Object.is(v, -0)) return '-0.0';
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (isMap(v)) return `{${Object.keys(v).map((k) => `${pyRepr(k)}: ${pyRepr(v[k])}`).join(', ')}}`;
  return String(v);
}

function pyRepr(v) {
  return typeof v === 'string' ? `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : pyStr(v);
}

const regexCache = new Map();

/** Python re.search pattern to a JS RegExp (named groups translated). */
function toRegExp(pattern) {
  if (typeof pattern !== 'string') {
    throw new TypeError(`first argument must be string or compiled pattern`);
  }
  let re = regexCache.get(pattern);
  if (!re) {
    const src = pattern.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
    try {
      re = new RegExp(src, 'u');
    } catch (_) {
      re = new RegExp(src); // looser escapes, closer to Python's
    }
    if (regexCache.size > 500) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

/** Value of a dotted field path in a document, nil when absent. */
function getField(doc, field) {
  let value = doc;
  for (const key of String(field).split('.')) {
    if (!isMap(value)) return null;
    value = Object.prototype.hasOwnProperty.call(value, key) ? value[key] : null;
  }
  return value === undefined ? null : value;
}

/**
 * Whether a stored document matches the filters.
 * @param {object} doc
 * @param {object} filters
 * @returns {boolean}
 * @throws {TypeError|SyntaxError} on a comparison Python refuses or a bad pattern
 */
function matches(doc, filters) {
  for (const field of Object.keys(filters)) {
    const condition = filters[field];
    const value = getField(doc, field);
    if (!isMap(condition)) {
      if (!pyEqual(value, condition)) return false;
      continue;
    }
    for (const op of Object.keys(condition)) {
      const operand = condition[op];
      switch (op) {
        case '$eq': if (!pyEqual(value, operand)) return false; break;
        case '$ne': if (pyEqual(value, operand)) return false; break;
        case '$gt': if (!(pyCompare(value, operand, '>') > 0)) return false; break;
        case '$gte': if (!(pyCompare(value, operand, '>=') >= 0)) return false; break;
        case '$lt': if (!(pyCompare(value, operand, '<') < 0)) return false; break;
        case '$lte': if (!(pyCompare(value, operand, '<=') <= 0)) return false; break;
        case '$in': if (!pyIn(value, operand)) return false; break;
        case '$nin': if (pyIn(value, operand)) return false; break;
        case '$regex': if (!toRegExp(operand).test(pyStr(value))) return false; break;
        case '$exists': if ((value !== null) !== pyTruthy(operand)) return false; break;
        default: break; // the reference server ignores operators it does not know
      }
    }
  }
  return true;
}

/** Python truthiness. */
function pyTruthy(v) {
  if (v === null || v === undefined || v === false) return false;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string' || Array.isArray(v) || v instanceof Uint8Array) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

module.exports = { matches, getField, pyEqual, pyCompare, pyTruthy, pyType, isMap };
