// ESM entry: the same as require('nexaclient/relay').
import relayModule from './index.js';

export const { relay, Relay, consume, Consumer, RedisSink } = relayModule;
export default relayModule;
