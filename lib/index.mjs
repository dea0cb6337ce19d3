// ESM entry: the same classes as require('nexaclient').
import NexaClient from './index.js';

export default NexaClient;
export const {
  ChangeStream,
  NexaError,
  NexaAuthError,
  NexaServerError,
  NexaNotFoundError,
  NexaTimeoutError,
  NexaAbortError,
  NexaOverflowError,
  NexaClosedError,
  NexaProtocolError,
  NexaConnectionError,
  MAX_DEPTH,
} = NexaClient;
export { NexaClient };
