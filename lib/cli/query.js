'use strict';
const { integer } = require('./connect');
const { expectArgs, readJsonObject, PRETTY } = require('./input');

module.exports = {
  summary: 'print the documents matching a filter, one per line',
  usage: `usage: nexaclient query <collection> [filters] [--limit N] [--pretty] [connection options]

Prints the matching documents, one JSON object per line. filters is a JSON
object, Mongo-style ({"status":"pending","total":{"$gt":100}}; operators $eq
$ne $gt $gte $lt $lte $in $nin $exists $regex); "-" reads it from stdin;
without it every document matches.
  --limit N   at most N documents (default 100)`,
  options: { limit: { type: 'string', short: 'n' }, ...PRETTY },
  async run(values, positionals, ctx) {
    const { collection, filters } = expectArgs(positionals, ['collection'], ['filters']);
    const f = filters === undefined ? {} : await readJsonObject(filters, 'filters', ctx.stdin);
    const limit = values.limit === undefined ? 100 : integer(values.limit, '--limit', 0, 0x7fffffff);
    const client = await ctx.connect(values);
    const docs = await client.query(collection, f, limit);
    for (const d of docs) ctx.output.line(d, values.pretty);
  },
};
