'use strict';
const { expectArgs, PRETTY } = require('./input');

module.exports = {
  summary: 'check a server: its answer and the round trip',
  usage: `usage: nexaclient ping [--pretty] [connection options]

Connects, sends PING and prints the server's answer with the address and the
round trip of the PING in ms:
  {"status":"ok","timestamp":1795686148.06,"address":"127.0.0.1:6970","roundTripMs":0.41}`,
  options: { ...PRETTY },
  async run(values, positionals, ctx) {
    expectArgs(positionals, []);
    const client = await ctx.connect(values);
    const t0 = process.hrtime.bigint();
    const pong = await client.ping();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    ctx.output.line({ ...pong, address: `${client.host}:${client.port}`, roundTripMs: Math.round(ms * 1000) / 1000 }, values.pretty);
  },
};
