'use strict';
// The types as users' projects see them: the packed package (installed by
// test/helpers/packed.js) type-checked by TypeScript 5 and 7 in each module
// system, with tsconfigs that have no "types" entry (TypeScript 7 loads no
// @types by itself: index.d.ts must bring Node's types along). Every setup
// shares test/fixtures/types/consumer-body.ts, whose @ts-expect-error lines
// fail if the event union stops discriminating.
const assert = require('assert');
const fs = require('fs');
const path = require('path');

const { packAndInstall, shipsPrebuild, run } = require('./helpers/packed');

const root = path.join(__dirname, '..');
const TSC = {
  'TypeScript 5': path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
  'TypeScript 7': path.join(root, 'node_modules', 'typescript-7', 'bin', 'tsc'),
};
// The ESM setup also checks index.d.ts itself and Node's types (skipLibCheck
// off); the others check only their own use of them, which is quicker.
const strict = { strict: true, noEmit: true, target: 'es2022', skipLibCheck: true };
const nodenext = { ...strict, module: 'nodenext', moduleResolution: 'nodenext' };

const SETUPS = [
  {
    name: 'ESM ("type": "module", module nodenext): default import',
    type: 'module', file: 'consumer.ts', options: { ...nodenext, skipLibCheck: false },
    head: "import NexaClient, { NexaError } from 'nexaclient';",
  },
  {
    name: '.mts in a CommonJS package (module nodenext)',
    type: 'commonjs', file: 'consumer.mts', options: nodenext,
    head: "import NexaClient, { NexaError } from 'nexaclient';",
  },
  {
    name: 'CommonJS (module nodenext, esModuleInterop): default import',
    type: 'commonjs', file: 'consumer.ts', options: nodenext,
    head: "import NexaClient, { NexaError } from 'nexaclient';",
  },
  {
    name: 'CommonJS (module nodenext): import = require()',
    type: 'commonjs', file: 'consumer.ts', options: nodenext,
    head: "import nexa = require('nexaclient');\nconst { NexaClient, NexaError } = nexa;\ntype NexaClient = nexa.NexaClient;",
  },
  {
    // TypeScript 7 has dropped esModuleInterop: false and moduleResolution node10.
    name: 'CommonJS (module commonjs, esModuleInterop off): default import',
    type: 'commonjs', file: 'consumer.ts', only: 'TypeScript 5',
    options: { ...strict, module: 'commonjs', moduleResolution: 'node10', esModuleInterop: false },
    head: "import NexaClient, { NexaError } from 'nexaclient';",
  },
];

describe('types of the packed package, in each module system', function () {
  this.timeout(180000);
  const body = fs.readFileSync(path.join(__dirname, 'fixtures', 'types', 'consumer-body.ts'), 'utf8');
  const results = {}; // TypeScript version -> { code, out }
  let base;

  /** Writes each setup's project under the packed install; one `tsc -b` per TypeScript version checks them all. */
  before(async function () {
    if (!shipsPrebuild) this.skip(); // the packed install needs the prebuilt addon (test/install.test.js)
    base = (await packAndInstall()).dir;
    for (const [ts, tsc] of Object.entries(TSC)) {
      const dirs = [];
      SETUPS.forEach((setup, i) => {
        if (setup.only && setup.only !== ts) return;
        const dir = projectDir(ts, i);
        fs.mkdirSync(path.join(base, dir));
        fs.writeFileSync(path.join(base, dir, 'package.json'), JSON.stringify({ private: true, type: setup.type }));
        fs.writeFileSync(path.join(base, dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: setup.options, files: [setup.file] }));
        fs.writeFileSync(path.join(base, dir, setup.file), `${setup.head}\n\n${body}`);
        dirs.push(dir);
      });
      results[ts] = await run(process.execPath, [tsc, '-b', ...dirs], { cwd: base });
    }
  });

  const projectDir = (ts, i) => `types-${ts.replace(/\W/g, '')}-${i}`;

  SETUPS.forEach((setup, i) => {
    for (const ts of Object.keys(TSC)) {
      if (setup.only && setup.only !== ts) continue;
      it(`${ts}: ${setup.name}`, () => {
        const { code, out } = results[ts];
        const mine = out.split('\n').filter((l) => l.startsWith(`${projectDir(ts, i)}/`));
        assert.deepStrictEqual(mine, [], out);
        const anyProject = /^types-\w+-\d+\//m.test(out);
        assert.ok(code === 0 || anyProject, `tsc failed outside the projects:\n${out}`);
      });
    }
  });
});
