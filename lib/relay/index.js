'use strict';
/**
 * nexaclient/relay: NexaDB changes into Redis Streams, and consumer groups
 * reading them. Needs the `redis` package (an optional peer dependency).
 * @module nexaclient/relay
 */
require('./redis-client'); // says "npm install redis" when it is missing
const { relay, Relay } = require('./relay');
const { consume, Consumer } = require('./consumer');
const { RedisSink } = require('./redis-sink');

module.exports = { relay, Relay, consume, Consumer, RedisSink };
