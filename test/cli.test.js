'use strict';
// The `nexaclient` command line, run as a user runs it: the real bin in a
// child process against a dev server. Requests, errors and exit codes,
// credentials, --help. (watch, pipes, signals and demo: cli-watch.test.js.)
const assert = require('assert');

const NexaClient = require('..');
const { startDevServer } = require('../lib/dev-server');
const { closedPort } = require('./fixtures/helpers');
const { explain } = require('./helpers/scenario');
const { runCli, jsonLines } = require('./helpers/cli');
const { COMMANDS, EXIT } = require('../lib/cli');
const { stringify } = require('../lib/cli/output');

const PASSWORD = 'correct-horse-battery'; // the server's root password in this suite

describe('nexaclient CLI: requests and errors', function () {
  let srv;
  let url;
  let client; // the test's own view of the server
  const env = () => ({ NEXADB_URL: url, NEXADB_PASSWORD: PASSWORD });

  before(async () => {
    srv = await startDevServer({ port: 0, users: { root: PASSWORD } });
    url = `nexadb://root@127.0.0.1:${srv.port}`;
    client = new NexaClient({ host: '127.0.0.1', port: srv.port, password: PASSWORD });
  });
  after(async () => {
    await client.disconnect();
    await srv.close();
  });

  /** Runs the CLI with the suite's server and password; asserts the exit code. */
  async function cli(args, { code = 0, ...opts } = {}) {
    const r = await runCli(args, { ...opts, env: { ...env(), ...opts.env } });
    assert.strictEqual(r.code, code, explain(r));
    return r;
  }

  it('lists every command in --help, and every command has its own --help', async () => {
    const top = await cli(['--help']);
    for (const name of COMMANDS) assert.match(top.stdout, new RegExp(`^  ${name} `, 'm'));
    assert.match(top.stdout, /Exit codes: 0 ok, 2 usage, 3 connection, 4 authentication, 5 server error/);
    for (const name of COMMANDS) {
      const r = await cli([name, '--help']);
      assert.match(r.stdout, new RegExp(`^usage: nexaclient ${name}\\b`), name);
      assert.strictEqual(r.stderr, '', name);
    }
    const watch = await cli(['watch', '-h']);
    assert.match(watch.stdout, /--url nexadb:\/\/user@host:port\/db/);
  });

  it('ping prints the server\'s answer, the address and the round trip as one JSON line', async () => {
    const r = await cli(['ping']);
    const [pong, ...more] = jsonLines(r.stdout);
    assert.deepStrictEqual(more, []);
    assert.strictEqual(pong.status, 'ok');
    assert.strictEqual(pong.address, `127.0.0.1:${srv.port}`);
    assert.ok(Math.abs(pong.timestamp - Date.now() / 1000) < 60, `timestamp ${pong.timestamp}`);
    assert.ok(pong.roundTripMs >= 0);
  });

  it('create, get, query, update and delete documents, JSON in and out', async () => {
    const coll = `cli_docs_${Date.now()}`;
    const created = jsonLines((await cli(['create', coll, '{"customer":"Alice","total":99.5,"tags":["a","b"]}'])).stdout)[0];
    assert.strictEqual(created.collection, coll);
    const key = created.document_id;
    assert.deepStrictEqual(await client.get(coll, key), jsonLines((await cli(['get', coll, key])).stdout)[0]);

    // From stdin; an array is one batchWrite.
    const batch = jsonLines((await cli(['create', coll], { input: '[{"customer":"Bob","total":5},{"customer":"Carol","total":250}]' })).stdout)[0];
    assert.strictEqual(batch.count, 2);

    const big = jsonLines((await cli(['query', coll, '{"total":{"$gt":50}}'])).stdout);
    assert.deepStrictEqual(big.map((d) => d.customer).sort(), ['Alice', 'Carol']);
    assert.deepStrictEqual(big, await client.query(coll, { total: { $gt: 50 } }));
    assert.strictEqual(jsonLines((await cli(['query', coll, '--limit', '1'])).stdout).length, 1);

    await cli(['update', coll, key, '{"status":"shipped"}']);
    assert.strictEqual((await client.get(coll, key)).status, 'shipped');
    const del = jsonLines((await cli(['delete', coll, key])).stdout)[0];
    assert.strictEqual(del.document_id, key);
    assert.strictEqual(await client.get(coll, key), null);

    const pretty = await cli(['get', coll, batch.document_ids[0], '--pretty']);
    assert.strictEqual(pretty.stdout, `${JSON.stringify(await client.get(coll, batch.document_ids[0]), null, 2)}\n`);
  });

  it('integers beyond 2^53 go in and come out exactly', async () => {
    const coll = `cli_big_${Date.now()}`;
    const text = '{"big":9007199254740993,"neg":-9223372036854775808,"label":"9007199254740993 \\" 12345678901234567890","small":12,"f":1.5}';
    const created = jsonLines((await cli(['create', coll, text])).stdout)[0];
    const exact = new NexaClient({ host: '127.0.0.1', port: srv.port, password: PASSWORD, int64: 'auto' });
    try {
      const doc = await exact.get(coll, created.document_id);
      assert.deepStrictEqual([doc.big, doc.neg, doc.label, doc.small, doc.f],
        [9007199254740993n, -9223372036854775808n, '9007199254740993 " 12345678901234567890', 12, 1.5]);
    } finally {
      await exact.disconnect();
    }
    const printed = (await cli(['get', coll, created.document_id])).stdout;
    assert.match(printed, /"big":9007199254740993,"neg":-9223372036854775808,"label":"9007199254740993 \\" 12345678901234567890","small":12,"f":1\.5\}\n$/);
  });

  it('collections and databases print one JSON array; --db chooses the database', async () => {
    await client.createDatabase('cli_tenant');
    await client.create('invoices', { n: 1 }, { database: 'cli_tenant' });
    assert.deepStrictEqual(jsonLines((await cli(['collections', '--db', 'cli_tenant'])).stdout), [['invoices']]);
    assert.deepStrictEqual(jsonLines((await cli(['collections', '--url', `${url}/cli_tenant`])).stdout), [['invoices']]);
    const [dbs] = jsonLines((await cli(['databases'])).stdout);
    assert.ok(dbs.includes('cli_tenant') && dbs.includes('default'), JSON.stringify(dbs));
  });

  it('a missing key is exit 6 with one line naming the key and collection', async () => {
    for (const args of [['get', 'orders', 'nokey'], ['update', 'orders', 'nokey', '{"a":1}'], ['delete', 'orders', 'nokey']]) {
      const r = await cli(args, { code: EXIT.NOT_FOUND });
      assert.strictEqual(r.stdout, '');
      assert.match(r.stderr, /^nexaclient (get|update|delete): .*key "nokey" in collection 'orders' \(127\.0\.0\.1:\d+\)\n$/);
    }
  });

  it('a server error is exit 5, with the server\'s text', async () => {
    await client.create('cli_numbers', { n: 1 });
    const r = await cli(['query', 'cli_numbers', '{"n":{"$gt":"text"}}'], { code: EXIT.SERVER });
    assert.strictEqual(r.stderr, `nexaclient query: server error at 127.0.0.1:${srv.port} (query cli_numbers): ` +
      "'>' not supported between instances of 'int' and 'str'\n");
  });

  it('a refused connection is exit 3: "ECONNREFUSED host:port", one line', async () => {
    const port = await closedPort();
    const r = await cli(['ping', '--port', String(port)], { code: EXIT.CONNECTION });
    assert.strictEqual(r.stderr, `nexaclient ping: ECONNREFUSED 127.0.0.1:${port} (connection refused)\n`);
    assert.strictEqual(r.stdout, '');
  });

  it('wrong credentials are exit 4, and the password never shows, not even with --verbose', async () => {
    const wrong = 'hunter2-wrong-password';
    const r = await cli(['ping', '--verbose'], { code: EXIT.AUTH, env: { NEXADB_PASSWORD: wrong } });
    assert.match(r.stderr, /connecting to root@127\.0\.0\.1:\d+, password from NEXADB_PASSWORD/);
    assert.match(r.stderr, /authentication failed at 127\.0\.0\.1:\d+: Invalid username or password\n$/);
    for (const out of [r.stdout, r.stderr]) assert.ok(!out.includes(wrong), out);

    // A password inside the URL is accepted, and never echoed either.
    const inUrl = await cli(['ping', '--verbose', '--url', `nexadb://root:${wrong}@127.0.0.1:${srv.port}`], { code: EXIT.AUTH });
    assert.match(inUrl.stderr, /password from the URL/);
    for (const out of [inUrl.stdout, inUrl.stderr]) assert.ok(!out.includes(wrong), out);
    const good = await cli(['ping', '--url', `nexadb://root:${encodeURIComponent(PASSWORD)}@127.0.0.1:${srv.port}`], { env: { NEXADB_PASSWORD: wrong } });
    assert.ok(!good.stdout.includes(PASSWORD) && !good.stderr.includes(PASSWORD));

    // Without any password and without a terminal: the server's default, and the error says so.
    const none = await runCli(['ping', '--port', String(srv.port), '--host', '127.0.0.1']);
    assert.strictEqual(none.code, EXIT.AUTH, explain(none));
    assert.match(none.stderr, /\(no password given: set NEXADB_PASSWORD\)\n$/);
  });

  it('bad arguments and bad URLs are exit 2, pointing at --help, never echoing a URL\'s password', async () => {
    const secret = 's3cret-in-url';
    const cases = [
      [['ping', '--url', `http://root:${secret}@db:6970`], /--url: invalid connection string: the scheme must be nexadb:\/\//],
      [['ping', '--url', `nexadb://root:${secret}@[oops`], /--url: invalid connection string/],
      [['ping', '--port', 'http'], /--port must be a whole number from 1 to 65535/],
      [['ping', '--password', secret], /Unknown option '--password'/],
      [['watch', '--ops', 'insert,upsert'], /--ops: unknown operation "upsert"/],
      [['watch', '--count', '0'], /--count must be a whole number from 1/],
      [['get', 'orders'], /missing <key>/],
      [['query', 'orders', '{oops'], /<filters> is not valid JSON/],
      [['create', 'orders', '[1]'], /<document> must be a JSON object or an array of objects/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args, { code: EXIT.USAGE });
      assert.match(r.stderr, re, args.join(' '));
      assert.match(r.stderr, /^nexaclient[^\n]*\(see nexaclient [a-z ]*--help\)\n$/, 'one line, pointing at --help');
      assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), r.stderr);
    }
    const r = await cli(['ping'], { code: EXIT.USAGE, env: { NEXADB_URL: `ftp://root:${secret}@db` } });
    assert.match(r.stderr, /^nexaclient ping: NEXADB_URL: invalid connection string/);
    assert.ok(!r.stderr.includes(secret));
  });
});

describe('nexaclient CLI: JSON output', () => {
  it('writes BigInt as its exact digits, undefined as null, bytes as $binary; pretty as JSON.stringify indents', () => {
    assert.strictEqual(stringify({ big: 2n ** 63n - 1n, neg: -(2n ** 60n), u: undefined, list: [undefined, 1.5, NaN] }),
      '{"big":9223372036854775807,"neg":-1152921504606846976,"u":null,"list":[null,1.5,null]}');
    assert.strictEqual(stringify({ b: Buffer.from('hi') }), '{"b":{"$binary":"aGk="}}');
    const plain = { operationType: 'insert', ns: { db: 'nexadb', coll: 'o' }, a: [], o: {}, s: 'é"\n', n: [1, { x: true }], z: null };
    assert.strictEqual(stringify(plain), JSON.stringify(plain));
    assert.strictEqual(stringify(plain, true), JSON.stringify(plain, null, 2));
  });
});
