'use strict';
/**
 * What nexaclient tells tracers and loggers, in one place: its
 * node:diagnostics_channel channels and its NODE_DEBUG=nexaclient log.
 *
 * Channels (messages are plain objects; never a password, never a document):
 *
 *   tracing channel 'nexaclient:request'  (start, end, asyncStart, asyncEnd, error)
 *     around every request: { operation, collection?, key?, database?,
 *     address, requestId }, plus `error` when it fails (the answer is not
 *     added: answers hold documents). requestId: a number unique in the process.
 *   'nexaclient:stream:subscribe'   { stream, collection, operations, address, resubscribe }
 *   'nexaclient:stream:disconnect'  { stream, collection, address, error }
 *   'nexaclient:stream:reconnect'   { stream, collection, address, attempts, downtimeMs }
 *   'nexaclient:stream:gap'         { stream, collection, gap } (the gap item)
 *   'nexaclient:stream:close'       { stream, collection, error } (error: null when closed on purpose)
 *   'nexaclient:connection:open'    { connectionId, address, stream }
 *   'nexaclient:connection:close'   { connectionId, address, stream, error }
 *
 * Nothing is built or published while a channel has no subscriber, and
 * change events are never published one by one.
 */
const dc = require('diagnostics_channel');
const { debuglog } = require('util');

// tracingChannel is Node 18.19+/20+; before, requests are simply not traced.
const request = typeof dc.tracingChannel === 'function' ? dc.tracingChannel('nexaclient:request') : null;

const channels = {
  subscribe: dc.channel('nexaclient:stream:subscribe'),
  disconnect: dc.channel('nexaclient:stream:disconnect'),
  reconnect: dc.channel('nexaclient:stream:reconnect'),
  gap: dc.channel('nexaclient:stream:gap'),
  close: dc.channel('nexaclient:stream:close'),
  connectionOpen: dc.channel('nexaclient:connection:open'),
  connectionClose: dc.channel('nexaclient:connection:close'),
};

/** True when something listens to the request tracing channel (tracingChannel.hasSubscribers is Node 20.13+). */
function tracingRequests() {
  if (request === null) return false;
  if (request.hasSubscribers !== undefined) return request.hasSubscribers;
  return request.start.hasSubscribers || request.end.hasSubscribers || request.asyncStart.hasSubscribers ||
    request.asyncEnd.hasSubscribers || request.error.hasSubscribers;
}

/**
 * Runs `send()` (which returns a promise) inside the request tracing
 * channel when it has subscribers; `context()` makes the message only then.
 * The answer is kept out of the message (tracePromise would put it in
 * `result`): answers hold documents, and traces must not.
 * @param {() => Promise<*>} send
 * @param {() => object} context
 * @returns {Promise<*>}
 */
function traceRequest(send, context) {
  if (!tracingRequests()) return send();
  let answer;
  return request.tracePromise(() => send().then((r) => { answer = r; }), context()).then(() => answer);
}

let requestIds = 0;

/** The next request id (process-wide, so ids in a trace never collide across clients). */
function nextRequestId() {
  requestIds = requestIds >= Number.MAX_SAFE_INTEGER ? 1 : requestIds + 1;
  return requestIds;
}

/**
 * Publishes on a channel; `message()` is only called when it has subscribers.
 * @param {import('diagnostics_channel').Channel} channel
 * @param {() => object} message
 */
function publish(channel, message) {
  if (channel.hasSubscribers) channel.publish(message());
}

/**
 * NODE_DEBUG=nexaclient: `debug(fmt, ...args)` writes "NEXACLIENT <pid>: ..."
 * to stderr; `debug.enabled` says whether it does (test it before building
 * arguments on a path that runs often).
 */
const debug = debuglog('nexaclient');

/** How a stream is named in the debug log and in errors: `'orders'`, or every collection. */
function streamName(collection) {
  return collection === null ? 'every collection' : `'${collection}'`;
}

module.exports = { request, channels, traceRequest, nextRequestId, publish, debug, streamName };
