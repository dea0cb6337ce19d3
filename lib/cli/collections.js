'use strict';
const { expectArgs, PRETTY } = require('./input');

module.exports = {
  summary: 'list the collections of a database',
  usage: `usage: nexaclient collections [--db NAME] [--pretty] [connection options]

Prints the collection names of the database (--db, else the URL's, else the
server's "default") as one JSON array.`,
  options: { ...PRETTY },
  async run(values, positionals, ctx) {
    expectArgs(positionals, []);
    const client = await ctx.connect(values);
    ctx.output.line(await client.listCollections(), values.pretty);
  },
};
