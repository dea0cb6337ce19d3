// Type definitions for nexaclient's ESM entry (lib/index.mjs): the same
// declarations as index.d.ts, whose default export is the class itself.
// (Through index.d.ts alone, TypeScript's nodenext mode would make the default
// import the CommonJS module object: "This expression is not constructable".)
import { NexaClient } from './index.js';

export * from './index.js';
export default NexaClient;
