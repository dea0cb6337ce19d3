'use strict';
// The append as one Lua script, so that two relays appending the same change
// produce one entry: SET the change's key NX PX window, and XADD only if the
// SET took (Redis 7.0 has no idempotent XADD). One call appends a batch.
//
// KEYS: dedup key 1, stream 1, dedup key 2, stream 2, ...
// ARGV: window ms, trim ('' | 'MAXLEN' | 'MINID'), trim threshold,
//       then per entry: its field count, then its fields.
// Returns one id per entry, '' for a duplicate.
const APPEND_LUA = `
local window = ARGV[1]
local trim = ARGV[2]
local threshold = ARGV[3]
local out = {}
local a = 4
for i = 1, #KEYS / 2 do
  local n = tonumber(ARGV[a])
  local fields = {}
  for j = 1, n do fields[j] = ARGV[a + j] end
  a = a + n + 1
  if redis.call('SET', KEYS[2 * i - 1], '1', 'NX', 'PX', window) then
    if trim == '' then
      out[i] = redis.call('XADD', KEYS[2 * i], '*', unpack(fields))
    else
      out[i] = redis.call('XADD', KEYS[2 * i], trim, '~', threshold, '*', unpack(fields))
    end
  else
    out[i] = ''
  end
end
return out
`;

module.exports = { APPEND_LUA };
