'use strict';
/**
 * Errors a program can branch on: every error nexaclient raises is a
 * NexaError with a stable `code`.
 */

class NexaError extends Error {
  /**
   * @param {string} message
   * @param {string} code
   * @param {object} [props] extra fields (address, collection, ...)
   */
  constructor(message, code, props) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    if (props) Object.assign(this, props);
  }
}

/** Bad credentials: the server's own text is the message. */
class NexaAuthError extends NexaError {
  constructor(message, props) { super(message, 'NEXA_AUTH', props); }
}

/** The server answered ERROR; its text is the message. */
class NexaServerError extends NexaError {
  constructor(message, props, code = 'NEXA_SERVER') { super(message, code, props); }
}

/** update/delete of a key that does not exist. */
class NexaNotFoundError extends NexaServerError {
  constructor(message, props) { super(message, props, 'NEXA_NOT_FOUND'); }
}

class NexaTimeoutError extends NexaError {
  constructor(message, props) { super(message, 'NEXA_TIMEOUT', props); }
}

/** The request or stream was aborted through its AbortSignal; `cause` is the signal's reason. */
class NexaAbortError extends NexaError {
  constructor(message, props) {
    super(message, 'ABORT_ERR', props);
    this.name = 'AbortError'; // what code written for fetch() and node:events checks
  }
}

/** A stream's buffer passed its highWaterMark under the 'error' overflow policy. */
class NexaOverflowError extends NexaError {
  constructor(message, props) { super(message, 'NEXA_OVERFLOW', props); }
}

/** The client, stream or connection was closed. */
class NexaClosedError extends NexaError {
  constructor(message, props) { super(message, 'NEXA_CLOSED', props); }
}

/** The server sent bytes that are not valid NexaDB protocol. */
class NexaProtocolError extends NexaError {
  constructor(message, props) { super(message, 'NEXA_PROTOCOL', props); }
}

/** The network failed: `code` is the system code (ECONNREFUSED, ECONNRESET, ENOTFOUND, ETIMEDOUT, ...). */
class NexaConnectionError extends NexaError {
  constructor(message, code, props) { super(message, code, props); }
}

/**
 * The server's own text in an ERROR or NOT_FOUND answer (`{error: "..."}`), else `fallback`.
 * @param {*} payload
 * @param {string} fallback
 */
function serverText(payload, fallback) {
  return payload && typeof payload.error === 'string' && payload.error !== '' ? payload.error : fallback;
}

/**
 * The error for a connection's terminal report from the core.
 * @param {string|null} code
 * @param {string|null} message
 * @param {string} address host:port
 * @param {*} payload the server's answer to a refused handshake, whose text
 *   is shown instead of the core's message; null otherwise
 */
function fromCore(code, message, address, payload) {
  const props = { address };
  const text = serverText(payload, message);
  switch (code) {
    case 'NEXA_AUTH':
      return new NexaAuthError(text, props);
    case 'NEXA_PROTOCOL':
      return new NexaProtocolError(`protocol error from ${address}: ${text}`, props);
    case 'NEXA_CLOSED':
      return new NexaClosedError(`connection to ${address} closed: ${text}`, props);
    default:
      return new NexaConnectionError(`connection to ${address} failed: ${code} (${text})`, code || 'ECONNRESET', props);
  }
}

module.exports = {
  NexaError,
  NexaAuthError,
  NexaServerError,
  NexaNotFoundError,
  NexaTimeoutError,
  NexaAbortError,
  NexaOverflowError,
  NexaClosedError,
  NexaProtocolError,
  NexaConnectionError,
  fromCore,
  serverText,
};
