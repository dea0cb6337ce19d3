'use strict';
// The CLI's exit codes and the one line each kind of error becomes.

/** Exit codes, one per kind of failure (documented in `nexaclient --help` and the README). */
const EXIT = Object.freeze({
  OK: 0,
  INTERNAL: 1, // anything unexpected
  USAGE: 2, // bad arguments, a bad URL, JSON that does not parse
  CONNECTION: 3, // refused, unreachable, timed out, reset, not NexaDB protocol
  AUTH: 4, // the server refused the credentials
  SERVER: 5, // the server answered with an error
  NOT_FOUND: 6, // get/update/delete of a key that does not exist
  INTERRUPTED: 130, // stopped by Ctrl-C or SIGTERM before it was done (watch: a clean end, 0)
});

/** Bad arguments: reported with a pointer to `--help`, exit 2. */
class UsageError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Ctrl-C where it cannot mean a clean end (at the password prompt, while connecting). */
class Interrupted extends Error {}

const CONNECTION_CODES = new Set(['NEXA_TIMEOUT', 'NEXA_CLOSED', 'NEXA_PROTOCOL']);

/** The exit code of an error. */
function errorExit(err) {
  if (err instanceof UsageError) return EXIT.USAGE;
  if (err instanceof Interrupted) return EXIT.INTERRUPTED;
  if (!err || typeof err.code !== 'string') return EXIT.INTERNAL;
  const name = err.name || '';
  if (err.code === 'NEXA_AUTH') return EXIT.AUTH;
  if (err.code === 'NEXA_NOT_FOUND') return EXIT.NOT_FOUND;
  if (err.code === 'NEXA_SERVER') return EXIT.SERVER;
  if (CONNECTION_CODES.has(err.code) || name === 'NexaConnectionError') return EXIT.CONNECTION;
  return EXIT.INTERNAL;
}

/**
 * One line saying what failed and where, e.g.
 * "ECONNREFUSED 127.0.0.1:6970 (connection refused)" or
 * "authentication failed at 127.0.0.1:6970: Invalid username or password".
 */
function describeError(err) {
  if (!err || typeof err !== 'object') return String(err);
  const msg = String(err.message || err).split('\n')[0];
  const where = err.address ? ` ${err.address}` : '';
  switch (errorExit(err)) {
    case EXIT.USAGE:
    case EXIT.INTERRUPTED:
      return msg;
    case EXIT.AUTH:
      return `authentication failed at${where}: ${msg}`;
    case EXIT.CONNECTION: {
      if (err.name === 'NexaConnectionError') {
        // "connection to host:port failed: ECONNREFUSED (connection refused)" → "ECONNREFUSED host:port (connection refused)"
        const why = /\(([^)]*)\)\s*$/.exec(msg);
        return `${err.code}${where}${why ? ` (${why[1]})` : ''}`;
      }
      return msg;
    }
    case EXIT.SERVER:
      return `server error at${where}${err.operation ? ` (${err.operation}${err.collection ? ` ${err.collection}` : ''})` : ''}: ${msg}`;
    case EXIT.NOT_FOUND:
      return msg;
    default:
      return `${err.name || 'Error'}: ${msg}`;
  }
}

module.exports = { EXIT, UsageError, Interrupted, errorExit, describeError };
