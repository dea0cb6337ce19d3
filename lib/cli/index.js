'use strict';
/**
 * The `nexaclient` command line: dispatch, the context every subcommand gets,
 * exit codes, and the one line an error becomes.
 *
 * A subcommand is a module lib/cli/<name>.js listed in COMMANDS below, exporting
 *
 *   summary  string: one line for `nexaclient --help`
 *   usage    string: the text of `nexaclient <name> --help` (without the
 *            connection options, which are appended unless `connects` is false)
 *   options  a node:util parseArgs options object of its own options
 *   connects (optional) false: it takes no connection options (demo); else
 *            the connection options (--url --host --port --user --db --timeout
 *            --verbose, connect.js) are added to its own and to its --help
 *   async run(values, positionals, ctx) → exit code (a number) or undefined (0)
 *
 * and `ctx` is
 *
 *   stdout, stderr  the output streams (stdout: data only; stderr: messages)
 *   env             the environment (NEXADB_URL, NEXADB_PASSWORD)
 *   stdin           the input stream (documents for create/update)
 *   signal          an AbortSignal aborted on SIGINT or SIGTERM, or when
 *                   stdout closes (a reader such as `head` went away): a
 *                   command that runs until stopped ends cleanly on it
 *   connect(values, extra?) → Promise<NexaClient>: a connected client from
 *                   the connection options (extra: NexaClient options over
 *                   them); disconnected by the dispatcher when run() ends,
 *                   however it ends
 *   clientOptions(values) → Promise<object>: the NexaClient options those
 *                   options make (password included), for commands that
 *                   make clients themselves (and disconnect them); `connect` uses it
 *   output          lib/cli/output.js's writer: out.line(value) writes one
 *                   JSON value as a line (BigInt exact), out.flush()
 *   log(text)       one line on stderr ("nexaclient <name>: text")
 *   verbose(text)   the same, only with --verbose
 *   UsageError      throw it for bad arguments (exit EXIT.USAGE, with a pointer to --help)
 *   EXIT            the exit codes, one per kind of failure (lib/cli/errors.js)
 *
 * Errors thrown by run() are reported in one line on stderr and mapped to an
 * exit code by their kind (errorExit). The password never appears: not in
 * errors, not with --verbose (connect.js keeps it out, and report() masks it
 * in any message as a last line of defence).
 */

const { parseArgs } = require('util');
const { EXIT, UsageError, Interrupted, errorExit, describeError } = require('./errors');
const { Output } = require('./output');
const { CONNECTION_OPTIONS, CONNECTION_USAGE, resolveClientOptions } = require('./connect');

/** Subcommands, in the order `--help` lists them. Add one by adding its name here. */
const COMMANDS = ['watch', 'ping', 'get', 'query', 'create', 'update', 'delete', 'collections', 'databases', 'relay', 'demo'];

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } };

function loadCommand(name) {
  if (!COMMANDS.includes(name)) return null;
  return require(`./${name}`);
}

function mainUsage() {
  const width = Math.max(...COMMANDS.map((n) => n.length));
  const lines = COMMANDS.map((n) => `  ${n.padEnd(width)}  ${loadCommand(n).summary}`);
  return [
    'usage: nexaclient <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    '`nexaclient <command> --help` for a command\'s options.',
    'Connection: --url nexadb://user@host:port/db (or NEXADB_URL); the password from NEXADB_PASSWORD.',
    '',
    `Exit codes: ${EXIT.OK} ok, ${EXIT.USAGE} usage, ${EXIT.CONNECTION} connection, ${EXIT.AUTH} authentication, ` +
      `${EXIT.SERVER} server error, ${EXIT.NOT_FOUND} not found, ${EXIT.INTERRUPTED} interrupted, ${EXIT.INTERNAL} anything else.`,
  ].join('\n');
}

function commandUsage(cmd) {
  return cmd.connects !== false ? `${cmd.usage}\n\n${CONNECTION_USAGE}` : cmd.usage;
}

/**
 * Runs the command line `argv` (without node and the script).
 * @param {string[]} argv
 * @param {{stdout?: NodeJS.WritableStream, stderr?: NodeJS.WritableStream, stdin?: NodeJS.ReadableStream,
 *   env?: object, handleSignals?: boolean}} [io]
 * @returns {Promise<number>} the exit code
 */
async function main(argv, io = {}) {
  const stdout = io.stdout || process.stdout;
  const stderr = io.stderr || process.stderr;
  const env = io.env || process.env;
  const [name, ...rest] = argv;

  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const cmd = topic !== undefined ? loadCommand(topic) : null;
    stdout.write(`${cmd ? commandUsage(cmd) : mainUsage()}\n`);
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === '--version' || name === '-v') {
    stdout.write(`${require('../../package.json').version}\n`);
    return EXIT.OK;
  }
  const cmd = loadCommand(name);
  if (!cmd) {
    stderr.write(`nexaclient: unknown command ${JSON.stringify(name)} (see nexaclient --help)\n`);
    return EXIT.USAGE;
  }

  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: { ...HELP_OPTION, ...(cmd.connects !== false ? CONNECTION_OPTIONS : {}), ...cmd.options },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    stderr.write(`nexaclient ${name}: ${err.message} (see nexaclient ${name} --help)\n`);
    return EXIT.USAGE;
  }
  if (values.help) {
    stdout.write(`${commandUsage(cmd)}\n`);
    return EXIT.OK;
  }

  const abort = new AbortController();
  let stoppedBy = null; // 'SIGINT' or 'SIGTERM'
  const output = new Output(stdout, () => abort.abort(new Error('stdout closed')));
  const clients = [];
  let secret = null; // the password, only to mask it should any message ever hold it
  const ctx = {
    stdout,
    stderr,
    stdin: io.stdin || process.stdin,
    env,
    signal: abort.signal,
    output,
    UsageError,
    EXIT,
    log: (text) => stderr.write(`nexaclient ${name}: ${mask(text, secret)}\n`),
    verbose: (text) => { if (values.verbose) ctx.log(text); }, // --verbose: a connection option
    clientOptions: async (v) => {
      const o = await resolveClientOptions(v, { env, stdin: ctx.stdin, stderr, signal: abort.signal, verbose: ctx.verbose });
      secret = o.password;
      return o;
    },
    connect: async (v, extra) => {
      const NexaClient = require('../client').NexaClient;
      const options = await ctx.clientOptions(v);
      const client = new NexaClient(options, extra);
      clients.push(client);
      try {
        await untilAborted(client.connect(), abort.signal);
      } catch (err) {
        if (err.code === 'NEXA_AUTH' && options.passwordSource === 'the default') err.message += ' (no password given: set NEXADB_PASSWORD)';
        throw err;
      }
      return client;
    },
  };

  const stopSignals = io.handleSignals === false ? null : onStopSignals(abort, stderr, name, (sig) => { stoppedBy = sig; });
  let code;
  try {
    const r = await cmd.run(values, positionals, ctx);
    code = typeof r === 'number' ? r : EXIT.OK;
  } catch (err) {
    code = errorExit(err);
    if (stoppedBy !== null) {
      // Stopped by Ctrl-C or SIGTERM before it was done (a command that runs
      // until stopped, such as watch, returns normally instead).
      code = EXIT.INTERRUPTED;
      stderr.write(`nexaclient ${name}: interrupted (${stoppedBy})\n`);
    } else if (output.closed && code === EXIT.INTERNAL) {
      code = EXIT.OK; // a reader that went away is how a pipeline ends, not an error
    } else {
      report(stderr, name, err, values.verbose, secret);
    }
  } finally {
    await Promise.all(clients.map((c) => c.disconnect().catch(() => {})));
    if (stopSignals) stopSignals();
  }
  await output.flush().catch(() => {});
  return code;
}

/** SIGINT/SIGTERM abort the command (watch: a clean end, exit 0); a second one exits at once. */
function onStopSignals(abort, stderr, name, stopped) {
  const handler = (sig) => {
    if (abort.signal.aborted) {
      stderr.write(`nexaclient ${name}: ${sig} again, exiting now\n`);
      process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
    }
    stopped(sig);
    abort.abort(new Error(sig));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
  };
}

/** `promise`, or a rejection with Interrupted as soon as `signal` aborts (a dial is not waited on after Ctrl-C). */
function untilAborted(promise, signal) {
  if (signal.aborted) return Promise.reject(new Interrupted('interrupted'));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new Interrupted('interrupted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function report(stderr, name, err, verbose, secret) {
  let text = describeError(err);
  if (verbose && err && err.stack && errorExit(err) === EXIT.INTERNAL) text += `\n${err.stack}`;
  const pointer = err instanceof UsageError ? ` (see nexaclient ${name} --help)` : '';
  stderr.write(`nexaclient ${name}: ${mask(text, secret)}${pointer}\n`);
}

function mask(text, secret) {
  const s = String(text);
  return secret && secret.length >= 3 ? s.split(secret).join('***') : s;
}

module.exports = { main, COMMANDS, EXIT };
