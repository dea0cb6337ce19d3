'use strict';

/**
 * User records of the dev server, holding what the reference server's
 * users.json holds (times in seconds since the epoch, as Python's time.time()).
 * @module nexaclient/dev-server/users
 * @private
 */

const crypto = require('crypto');

/** A user's `databases` meaning "every database, at the level of the role". */
const ALL_DATABASES = '*';

const ROLES = ['admin', 'write', 'read', 'guest'];
const LEVELS = { guest: 1, read: 2, write: 3, admin: 4 };

/**
 * Seconds since the epoch as a float that is never integral, so the codec
 * always writes it as float64, as the reference's time.time() is.
 */
function nowSeconds() {
  const s = Date.now() / 1000;
  return Number.isInteger(s) ? s + 1e-6 : s;
}

/** The reference's API key: "nxdb_" + secrets.token_urlsafe(32). */
function newApiKey() {
  return `nxdb_${crypto.randomBytes(32).toString('base64url')}`;
}

/**
 * @param {string} password
 * @param {string} role
 * @param {'*'|Object<string,string>} databases database permissions
 */
function newUser(password, role, databases) {
  return {
    password,
    role,
    databases,
    apiKey: newApiKey(),
    createdAt: nowSeconds(),
    lastLogin: null,
    passwordChangedAt: null,
  };
}

/**
 * The reference's `_check_database_permission`: admins reach every
 * database; others need a level at least `required` for that database.
 * @param {{role: string, databases: '*'|Object<string,string>}} session
 */
function hasDatabasePermission(session, database, required) {
  if (session.role === 'admin') return true;
  let level;
  if (session.databases === ALL_DATABASES) level = session.role;
  else if (session.databases && Object.prototype.hasOwnProperty.call(session.databases, database)) {
    level = session.databases[database];
  } else return false;
  return (LEVELS[level] || 0) >= (LEVELS[required] || 0);
}

module.exports = { ALL_DATABASES, ROLES, newUser, nowSeconds, hasDatabasePermission };
