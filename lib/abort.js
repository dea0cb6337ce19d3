'use strict';
// AbortSignal wiring for requests and streams. A user may share one signal
// across any number of requests: each signal gets one listener of ours, not
// one per request (eleven would print MaxListenersExceededWarning), and it
// is removed once nothing of ours waits on the signal.
const { NexaAbortError } = require('./errors');

/** signal -> the callbacks waiting on it (a Set; the listener is installed while it is non-empty) */
const waiting = new WeakMap();

/**
 * Calls `fn` once when `signal` aborts. Returns the function that cancels it.
 * @param {AbortSignal} signal not yet aborted
 * @param {() => void} fn
 * @returns {() => void}
 */
function onAbort(signal, fn) {
  let fns = waiting.get(signal);
  if (fns === undefined) {
    fns = new Set();
    waiting.set(signal, fns);
    signal.addEventListener('abort', fire, { once: true });
  }
  // A wrapper of its own, so the same fn may be registered twice and cancelled once.
  const entry = () => fn();
  fns.add(entry);
  return () => {
    if (!fns.delete(entry) || fns.size > 0) return;
    waiting.delete(signal);
    signal.removeEventListener('abort', fire);
  };
}

function fire(event) {
  const signal = event.target;
  const fns = waiting.get(signal);
  waiting.delete(signal);
  if (fns !== undefined) for (const fn of fns) fn();
}

/**
 * The error of an aborted request or stream: NexaAbortError, `cause` the signal's reason.
 * @param {AbortSignal} signal
 * @param {object} [context] operation, collection, ...
 */
function abortError(signal, context) {
  const what = (context && context.operation) || 'request';
  return new NexaAbortError(`${what} was aborted`, { cause: signal.reason, ...context });
}

module.exports = { onAbort, abortError };
