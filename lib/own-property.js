'use strict';
// Objects built from keys someone else chose (a server's map, a stored
// document, a TOON text) get every key as an own property: assigned, a key
// named "__proto__" would set the prototype instead.

/**
 * obj[key] = value, as an own enumerable property also for "__proto__".
 * @param {object} obj
 * @param {string} key
 * @param {*} value
 */
function setOwn(obj, key, value) {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

module.exports = { setOwn };
