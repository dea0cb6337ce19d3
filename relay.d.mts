// Type definitions for nexaclient/relay's ESM entry (lib/relay/index.mjs):
// the same declarations as relay.d.ts, plus its default export (the module's
// functions and classes in one object).
import * as relayModule from './relay.js';

export * from './relay.js';
export default relayModule;
