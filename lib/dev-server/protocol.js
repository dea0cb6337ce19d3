'use strict';

/**
 * Framing for the NexaDB binary protocol, as used by the dev server:
 * constants, an incremental frame reader and a frame writer.
 * @module nexaclient/dev-server/protocol
 * @private
 */

const { constants } = require('../native');
const { frame } = require('../encode');
const { FrameReader } = require('../frame-reader');

/**
 * How deep a request may nest. The reference server stores documents of
 * any depth its MessagePack and JSON libraries take, far past the client's
 * MAX_DEPTH: so must the dev server, for the client's handling of them to
 * be testable. Its encoder (encode.js) and the addon's decoder keep their
 * own stacks, so the bound is a sanity limit, not the thread's stack: a
 * worker_thread with a 1 MB stack serves a request this deep
 * (test/deep-worker.test.js).
 */
const MAX_LEVELS = 4096;
/**
 * How deep what it sends may nest: a request holds a document one level
 * down (`{data: doc}`), an answer up to three (`{results: [{document: doc}]}`),
 * so whatever it stored, it can send.
 */
const SEND_LEVELS = MAX_LEVELS + 2;

// The protocol's facts as the core defines them (src/core/frame.h, via the addon).
const { headerSize: HEADER_SIZE, msg: MSG } = constants;

/**
 * Builds one frame: header then the MessagePack payload.
 * @param {number} type message type
 * @param {*} payload any value the codec encodes (a map in practice)
 * @returns {Buffer}
 */
function encodeFrame(type, payload) {
  return frame(type, payload, SEND_LEVELS);
}

module.exports = { HEADER_SIZE, MAX_LEVELS, SEND_LEVELS, MSG, encodeFrame, FrameReader };
