// The facts JS and the core must agree on, handed to JS once at load
// (lib/native.js `constants`): message types, item kinds, tape ops, int64
// modes, the request ids an owner may use, the document rule's depths. The numbers come from the C
// headers; JS never writes them down.
#include "constants.h"

#include "convert.h"
#include "codec.h"
#include "nx.h"

namespace {

struct Named {
  const char *name;
  uint32_t value;
};

Napi::Object Table(Napi::Env env, const Named *entries, size_t n) {
  Napi::Object o = Napi::Object::New(env);
  for (size_t i = 0; i < n; i++) o.Set(entries[i].name, Napi::Number::New(env, entries[i].value));
  o.Freeze();
  return o;
}

template <size_t N>
Napi::Object Table(Napi::Env env, const Named (&entries)[N]) {
  return Table(env, entries, N);
}

// Built from the headers' own lists: a name added there is here too.
const Named kMessageTypes[] = {
#define NX_NAMED(name, value) {#name, NX_MSG_##name},
    NX_MSG_TYPES(NX_NAMED)
#undef NX_NAMED
};

const Named kItemKinds[] = {
#define NX_NAMED(name, value) {#name, NX_EV_##name},
    NX_ITEM_KINDS(NX_NAMED)
#undef NX_NAMED
};

const Named kTapeOps[] = {
#define NX_NAMED(name, value) {#name, NX_T_##name},
    NX_TAPE_OPS(NX_NAMED)
#undef NX_NAMED
};

// Root keys whose documents sit more than one level down (codec.h).
const Named kDocEnvelopes[] = {
#define NX_NAMED(key, levels) {#key, levels},
    NX_DOC_ENVELOPES(NX_NAMED)
#undef NX_NAMED
};

// The option's names, as users write them.
const Named kInt64Modes[] = {
    {"number", INT64_NUMBER}, {"bigint", INT64_BIGINT}, {"auto", INT64_AUTO}, {"string", INT64_STRING},
};

}  // namespace

Napi::Object MakeConstants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  c.Set("msg", Table(env, kMessageTypes));
  c.Set("item", Table(env, kItemKinds));
  c.Set("tape", Table(env, kTapeOps));
  c.Set("int64", Table(env, kInt64Modes));
  c.Set("docEnvelope", Table(env, kDocEnvelopes));
  c.Set("maxDocDepth", Napi::Number::New(env, NX_MAX_DOC_DEPTH));
  c.Set("headerSize", Napi::Number::New(env, NX_HEADER_SIZE));
  c.Set("magic", Napi::Number::New(env, NX_MAGIC));
  c.Set("version", Napi::Number::New(env, NX_VERSION));
  c.Set("maxRequestId", Napi::Number::New(env, NX_REQ_ID_MAX));
  c.Freeze();
  return c;
}
