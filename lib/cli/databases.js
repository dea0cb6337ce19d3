'use strict';
const { expectArgs, PRETTY } = require('./input');

module.exports = {
  summary: 'list the databases',
  usage: `usage: nexaclient databases [--pretty] [connection options]

Prints the database names as one JSON array.`,
  options: { ...PRETTY },
  async run(values, positionals, ctx) {
    expectArgs(positionals, []);
    const client = await ctx.connect(values);
    ctx.output.line(await client.listDatabases(), values.pretty);
  },
};
