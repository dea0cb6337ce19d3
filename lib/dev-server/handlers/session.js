'use strict';

/**
 * Handlers of the session messages: SUBSCRIBE_CHANGES, UNSUBSCRIBE_CHANGES,
 * PING and DISCONNECT.
 * @module nexaclient/dev-server/handlers/session
 * @private
 */

const { MSG } = require('../protocol');
const { pyTruthy } = require('../query');
const { RequestError, success } = require('./common');

const DEFAULT_OPERATIONS = ['insert', 'update', 'delete'];

/**
 * SUBSCRIBE_CHANGES: one subscription per connection; a second one replaces
 * the first. A falsy collection (nil, "") watches every collection.
 */
function subscribe(server, conn, data) {
  const collection = data.collection === undefined ? null : data.collection;
  const operations = data.operations === undefined ? DEFAULT_OPERATIONS.slice() : data.operations;
  if (!Array.isArray(operations) || !operations.every((o) => typeof o === 'string')) {
    throw new RequestError("'operations' must be a list of operation names");
  }
  conn.subscription = { collection, operations };
  const what = pyTruthy(collection) ? String(collection) : 'all collections';
  return success({
    subscribed: true,
    collection,
    operations,
    message: `Subscribed to change stream for ${what}`,
  });
}

function unsubscribe(server, conn) {
  conn.subscription = null;
  return success({ unsubscribed: true, message: 'Unsubscribed from change stream' });
}

function ping(server) {
  return { type: MSG.PONG, payload: { status: 'ok', timestamp: server._store.clock.tick() / 1e6 } };
}

function disconnect(server, conn) {
  conn.closeAfterAnswer = true;
  return success({ status: 'goodbye' });
}

module.exports = { subscribe, unsubscribe, ping, disconnect, DEFAULT_OPERATIONS };
