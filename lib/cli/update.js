'use strict';
const { expectArgs, readJsonObject, PRETTY } = require('./input');

module.exports = {
  summary: 'merge fields into a document',
  usage: `usage: nexaclient update <collection> <key> [fields] [--pretty] [connection options]

Merges fields (a JSON object; "-" or nothing: read from stdin) into the
document and prints the server's answer. A missing key is an error (exit 6).`,
  options: { ...PRETTY },
  async run(values, positionals, ctx) {
    const { collection, key, fields } = expectArgs(positionals, ['collection', 'key'], ['fields']);
    const updates = await readJsonObject(fields, 'fields', ctx.stdin);
    const client = await ctx.connect(values);
    ctx.output.line(await client.update(collection, key, updates), values.pretty);
  },
};
