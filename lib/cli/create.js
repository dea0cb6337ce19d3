'use strict';
const { expectArgs, readJson, PRETTY } = require('./input');
const { UsageError } = require('./errors');

module.exports = {
  summary: 'insert a document (or an array of them)',
  usage: `usage: nexaclient create <collection> [document] [--pretty] [connection options]

Inserts the document (a JSON object; "-" or nothing: read from stdin) and
prints the server's answer ({"database","collection","document_id","message"}).
A JSON array inserts every document in it in one request (batchWrite) and
prints {"database","collection","document_ids","count","message"}.`,
  options: { ...PRETTY },
  async run(values, positionals, ctx) {
    const { collection, document } = expectArgs(positionals, ['collection'], ['document']);
    const doc = await readJson(document, 'document', ctx.stdin);
    const many = Array.isArray(doc);
    for (const d of many ? doc : [doc]) {
      if (d === null || typeof d !== 'object' || Array.isArray(d)) throw new UsageError('<document> must be a JSON object or an array of objects');
    }
    const client = await ctx.connect(values);
    const answer = many ? await client.batchWrite(collection, doc) : await client.create(collection, doc);
    ctx.output.line(answer, values.pretty);
  },
};
