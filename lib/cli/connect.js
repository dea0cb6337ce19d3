'use strict';
// Where the CLI connects, and with which password.
//
// The server: --url nexadb://user@host:port/db, else NEXADB_URL; then --host,
// --port, --user and --db override its parts; what is left unset takes the
// client's defaults (root@localhost:6970, the server's "default" database).
//
// The password, first found of:
//   1. the password inside the URL (accepted, never echoed; a password on a
//      command line is visible to other users in `ps`, so prefer 2),
//   2. NEXADB_PASSWORD,
//   3. a prompt on the terminal, without echo, when stdin is a TTY
//      (Enter alone: the server's default password),
//   4. the server's default password ("nexadb123"), as the library uses;
//      a refusal then says that no password was given.
// It is never taken from an option of its own and never printed.

const { parseOptions, fromConnectionString } = require('../options');
const { UsageError, Interrupted } = require('./errors');

const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  user: { type: 'string', short: 'u' },
  db: { type: 'string', short: 'd' },
  timeout: { type: 'string' },
  verbose: { type: 'boolean' },
};

const CONNECTION_USAGE = `Connection options:
  --url nexadb://user@host:port/db   the server (default: NEXADB_URL, else root@localhost:6970)
  --host HOST, --port PORT            override the URL's host and port
  -u, --user NAME                     override the URL's user name
  -d, --db NAME                       the database (default: the server's "default")
  --timeout MS                        for connecting and for each answer (default 10000 / 30000)
  --verbose                           say where it connects (never the password)
The password comes from NEXADB_PASSWORD, else a prompt when stdin is a terminal,
else the server's default password. It is never an option and never printed.`;

/**
 * The NexaClient options of the connection options in `values`.
 * @param {object} values parseArgs values
 * @param {{env: object, stdin: object, stderr: object, signal: AbortSignal, verbose: (t: string) => void}} io
 * @returns {Promise<object>} NexaClient options (int64: 'auto', so no integer is rounded)
 */
async function resolveClientOptions(values, io) {
  const url = values.url !== undefined ? values.url : io.env.NEXADB_URL;
  let o = {};
  if (url !== undefined && url !== '') {
    try {
      o = fromConnectionString(url); // its messages never hold the URL's text
    } catch (err) {
      throw new UsageError(`${values.url !== undefined ? '--url' : 'NEXADB_URL'}: ${err.message}`);
    }
  }
  if (values.host !== undefined) o.host = values.host;
  if (values.port !== undefined) o.port = integer(values.port, '--port', 1, 65535);
  if (values.user !== undefined) o.username = values.user;
  if (values.db !== undefined) o.database = values.db;
  if (values.timeout !== undefined) {
    o.connectTimeout = integer(values.timeout, '--timeout', 0, 0x7fffffff);
    o.requestTimeout = o.connectTimeout;
  }
  o.int64 = 'auto';

  let source = 'the URL';
  if (o.password === undefined) {
    if (io.env.NEXADB_PASSWORD !== undefined) {
      o.password = io.env.NEXADB_PASSWORD;
      source = 'NEXADB_PASSWORD';
    } else if (io.stdin && io.stdin.isTTY && typeof io.stdin.setRawMode === 'function') {
      const where = describeTarget(o);
      const typed = await promptHidden(io.stdin, io.stderr, `Password for ${where} (Enter: the default): `, io.signal);
      if (typed !== '') o.password = typed;
      source = typed !== '' ? 'the prompt' : 'the default';
    } else {
      source = 'the default';
    }
  }
  let full;
  try {
    full = parseOptions(o);
  } catch (err) {
    throw new UsageError(err.message); // option messages name the option, never its value
  }
  io.verbose(`connecting to ${describeTarget(full)}${full.database ? ` database ${full.database}` : ''}, password from ${source}`);
  Object.defineProperty(full, 'passwordSource', { value: source, enumerable: false });
  return full;
}

/** user@host:port, never the password. */
function describeTarget(o) {
  const host = o.host || 'localhost';
  return `${o.username || 'root'}@${host.includes(':') ? `[${host}]` : host}:${o.port || 6970}`;
}

function integer(text, what, min, max) {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new UsageError(`${what} must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`);
  return n;
}

/**
 * Reads a line from a terminal without echoing it. Ctrl-C rejects with
 * Interrupted; so does the abort of `signal`.
 */
function promptHidden(stdin, stderr, question, signal) {
  return new Promise((resolve, reject) => {
    // Echo off before the question shows: a reply typed as soon as it shows is not echoed.
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stderr.write(question);
    stdin.setEncoding('utf8');
    stdin.resume();
    let typed = '';
    const finish = () => {
      stdin.removeListener('data', onData);
      if (signal) signal.removeEventListener('abort', onAbort);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stderr.write('\n');
    };
    const onAbort = () => {
      finish();
      reject(new Interrupted('interrupted at the password prompt'));
    };
    const onData = (chunk) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(typed);
          return;
        }
        if (ch === '\u0003') {
          onAbort();
          return;
        }
        if (ch === '\u007f' || ch === '\b') typed = Array.from(typed).slice(0, -1).join('');
        else if (ch >= ' ') typed += ch;
      }
    };
    stdin.on('data', onData);
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
  });
}

module.exports = { CONNECTION_OPTIONS, CONNECTION_USAGE, resolveClientOptions, describeTarget, integer };
