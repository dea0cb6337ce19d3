'use strict';

/**
 * Framing for the NexaDB binary protocol, as used by the dev server:
 * constants, an incremental frame reader and a frame writer.
 * @module nexaclient/dev-server/protocol
 * @private
 */

const { frame, constants } = require('../native');
const { FrameReader } = require('../frame-reader');

/**
 * How deep a request may nest. The reference server stores documents of
 * any depth its MessagePack and JSON libraries take, far past the client's
 * MAX_DEPTH: so must the dev server, for the client's handling of them to
 * be testable. The bound is the stack's: the addon's encoder and its
 * conversion to JS recurse once a level, with V8 calls inside, in about
 * 0.5 KiB of native stack a level, and V8 gives the main thread about
 * 1 MiB. Past it Node 24 aborts the process (a value of some 4,000 levels
 * does); Node 20 and 22 carry on. 1,024 levels keep well inside it, ten
 * times MAX_DEPTH.
 */
const MAX_LEVELS = 1024;
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
