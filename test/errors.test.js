'use strict';
// The error a connection's end becomes (fromCore), without a server: the
// server's own text of a refused handshake is read here, and only here.
const assert = require('assert');
const { fromCore, NexaAuthError, NexaProtocolError, NexaConnectionError } = require('../lib/errors');

const ADDRESS = '127.0.0.1:6970';
const CORE_TEXT = 'the server refused the connection';

describe('errors from the core', () => {
  it("a refused login shows the server's error text, else the core's message", () => {
    const refused = fromCore('NEXA_AUTH', CORE_TEXT, ADDRESS, { error: 'Invalid username or password' });
    assert.ok(refused instanceof NexaAuthError);
    assert.strictEqual(refused.message, 'Invalid username or password');
    assert.strictEqual(refused.address, ADDRESS);
    assert.strictEqual(fromCore('NEXA_AUTH', CORE_TEXT, ADDRESS, { error: '' }).message, CORE_TEXT);
    assert.strictEqual(fromCore('NEXA_AUTH', CORE_TEXT, ADDRESS, { reason: 'no error field' }).message, CORE_TEXT);
    assert.strictEqual(fromCore('NEXA_AUTH', CORE_TEXT, ADDRESS, null).message, CORE_TEXT);
  });

  it('a handshake answered with another message type is a protocol error carrying the same text', () => {
    const err = fromCore('NEXA_PROTOCOL', CORE_TEXT, ADDRESS, { error: 'not now' });
    assert.ok(err instanceof NexaProtocolError);
    assert.strictEqual(err.message, `protocol error from ${ADDRESS}: not now`);
    assert.strictEqual(fromCore('NEXA_PROTOCOL', CORE_TEXT, ADDRESS, {}).message, `protocol error from ${ADDRESS}: ${CORE_TEXT}`);
  });

  it("a network failure keeps the system code and the core's message", () => {
    const err = fromCore('ECONNREFUSED', 'connection refused', ADDRESS, null);
    assert.ok(err instanceof NexaConnectionError);
    assert.strictEqual(err.code, 'ECONNREFUSED');
    assert.strictEqual(err.message, `connection to ${ADDRESS} failed: ECONNREFUSED (connection refused)`);
  });
});
