'use strict';
const { expectArgs, PRETTY } = require('./input');

module.exports = {
  summary: 'delete a document by key',
  usage: `usage: nexaclient delete <collection> <key> [--pretty] [connection options]

Deletes the document and prints the server's answer. A missing key is an
error (exit 6).`,
  options: { ...PRETTY },
  async run(values, positionals, ctx) {
    const { collection, key } = expectArgs(positionals, ['collection', 'key']);
    const client = await ctx.connect(values);
    ctx.output.line(await client.delete(collection, key), values.pretty);
  },
};
