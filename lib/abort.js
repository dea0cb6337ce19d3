'use strict';
// The bounds of a request: its timeout and its AbortSignal, armed and
// disarmed in one place. A user may share one signal across any number of
// requests: each signal gets one listener of ours, not one per request
// (eleven would print MaxListenersExceededWarning), and it is removed once
// nothing of ours waits on the signal.
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
 * Arms a request's bounds: `onTimeout` after `timeout` ms (0: never; the
 * timer does not keep the process alive), `onAbort` when `signal` aborts.
 * Whichever comes first, the caller settles the request and disarms.
 * @param {number} timeout ms
 * @param {AbortSignal|undefined} signal
 * @param {() => void} onTimeout
 * @param {() => void} onAborted
 * @returns {() => void} disarms both
 */
function bound(timeout, signal, onTimeout, onAborted) {
  let timer = null;
  if (timeout > 0) {
    timer = setTimeout(onTimeout, timeout);
    timer.unref();
  }
  const unabort = signal ? onAbort(signal, onAborted) : null;
  if (timer === null && unabort === null) return noop;
  return () => {
    if (timer !== null) clearTimeout(timer);
    if (unabort !== null) unabort();
  };
}

function noop() {}

/**
 * The error of an aborted request or stream: NexaAbortError, `cause` the signal's reason.
 * @param {AbortSignal} signal
 * @param {object} [context] operation, collection, ...
 */
function abortError(signal, context) {
  const what = (context && context.operation) || 'request';
  return new NexaAbortError(`${what} was aborted`, { cause: signal.reason, ...context });
}

module.exports = { onAbort, bound, abortError };
