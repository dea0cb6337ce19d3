// decode()'s msgpack-c objects to JS values, on the main thread: the dev server's
// requests and tests. (What arrives on a connection is built in JS from the tape,
// lib/tape.js; JS values to MessagePack: lib/encode.js.)
#ifndef NX_CONVERT_H
#define NX_CONVERT_H

#include <msgpack.h>
#include <node_api.h>

#include "strcache.h"

// How integers beyond the exact range of a double arrive (client option
// `int64`): 'number' rounds; 'bigint' gives a BigInt for every integer sent
// in 64 bits (beyond the 32-bit range); 'auto' a BigInt only where a Number
// would lose precision; 'string' a decimal string there.
enum Int64Mode { INT64_NUMBER = 0, INT64_BIGINT = 1, INT64_AUTO = 2, INT64_STRING = 3 };

struct Interned {
  StrCache keys{4096, 64, true};
  StrCache values{1024, 16, false};
};

// msgpack object -> JS value, with a stack of its own (any depth the core's
// check allowed, on any thread's stack).
napi_status ToJs(napi_env env, Interned *in, const msgpack_object &o, int mode, napi_value *out);


#endif
