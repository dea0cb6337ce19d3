'use strict';
// The items a stream yields, with `gaps`, where changes were or may have
// been missed. The server has no resume token: what it sent while a stream
// was away is gone, and all a client can do is say so in-band and, with
// `catchUp`, read again what the server can tell changed (catch-up.js).

const NS_DB = 'nexadb'; // every event's ns.db, whatever the database (the server's own quirk)

/** @returns {number} now, in epoch seconds (as the server's `timestamp`) */
function nowSeconds() {
  return Date.now() / 1000;
}

/**
 * A gap item.
 * @param {string|null} coll
 * @param {'reconnect'|'dropOldest'|'undecodable'|'restart'|'relayStall'|'trimmed'} reason (the last three: the relay's)
 * @param {number} since epoch seconds
 * @param {number} until epoch seconds
 * @param {object} [extra] count (dropOldest, relayStall, trimmed), message (undecodable), catchUp (reconnect, with catchUp)
 */
function gapItem(coll, reason, since, until, extra) {
  return { operationType: 'gap', ns: { db: NS_DB, coll }, reason, since, until, ...extra };
}

module.exports = { gapItem, nowSeconds, NS_DB };
