'use strict';
// NexaClient: the constructor's options, their defaults and the values it refuses.
const assert = require('assert');

const NexaClient = require('..');

describe('NexaClient', function () {
  describe('constructor options', () => {
    it('accepts no options and valid options', () => {
      const c = new NexaClient();
      assert.strictEqual(c.host, 'localhost');
      assert.strictEqual(c.port, 6970);
      assert.strictEqual(c.connected, false);
      const d = new NexaClient({ host: 'db.example', port: 1234, int64: 'bigint', connectTimeout: 0, maxFrameBytes: 1024 });
      assert.strictEqual(d.host, 'db.example');
      assert.strictEqual(d.port, 1234);
    });

    const bad = [
      ['null options', null],
      ['a string for options', 'localhost'],
      ['an empty host', { host: '' }],
      ['a numeric host', { host: 127 }],
      ['port 0', { port: 0 }],
      ['port 65536', { port: 65536 }],
      ['a string port', { port: '6970' }],
      ['a fractional port', { port: 69.7 }],
      ['a numeric username', { username: 1 }],
      ['a null password', { password: null }],
      ['a negative connectTimeout', { connectTimeout: -1 }],
      ['a fractional connectTimeout', { connectTimeout: 1.5 }],
      ['a string connectTimeout', { connectTimeout: '100' }],
      ['a tiny maxFrameBytes', { maxFrameBytes: 10 }],
      ['an unknown int64 mode', { int64: 'float' }],
    ];
    for (const [what, opts] of bad) {
      it(`throws TypeError for ${what}`, () => {
        assert.throws(() => new NexaClient(opts), TypeError);
      });
    }
  });
});
