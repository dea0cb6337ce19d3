'use strict';
const { NexaNotFoundError } = require('../errors');
const { expectArgs, PRETTY } = require('./input');

module.exports = {
  summary: 'print one document by key',
  usage: `usage: nexaclient get <collection> <key> [--pretty] [connection options]

Prints the document as JSON. A key that does not exist is an error (exit 6).`,
  options: { ...PRETTY },
  async run(values, positionals, ctx) {
    const { collection, key } = expectArgs(positionals, ['collection', 'key']);
    const client = await ctx.connect(values);
    const doc = await client.get(collection, key);
    if (doc === null) {
      const address = `${client.host}:${client.port}`;
      throw new NexaNotFoundError(`no document with key ${JSON.stringify(key)} in collection '${collection}' (${address})`,
        { address, collection, key });
    }
    ctx.output.line(doc, values.pretty);
  },
};
