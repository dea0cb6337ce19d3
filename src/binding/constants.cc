// The facts JS and the core must agree on, handed to JS once at load
// (lib/native.js `constants`): message types, item kinds, tape ops, int64
// modes, the request ids an owner may use. The numbers come from the C
// headers; JS never writes them down.
#include "constants.h"

#include "convert.h"
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

const Named kMessageTypes[] = {
    {"CONNECT", NX_MSG_CONNECT}, {"CREATE", NX_MSG_CREATE}, {"READ", NX_MSG_READ}, {"UPDATE", NX_MSG_UPDATE},
    {"DELETE", NX_MSG_DELETE}, {"QUERY", NX_MSG_QUERY}, {"VECTOR_SEARCH", NX_MSG_VECTOR_SEARCH},
    {"BATCH_WRITE", NX_MSG_BATCH_WRITE}, {"PING", NX_MSG_PING}, {"DISCONNECT", NX_MSG_DISCONNECT},
    {"QUERY_TOON", NX_MSG_QUERY_TOON}, {"EXPORT_TOON", NX_MSG_EXPORT_TOON}, {"IMPORT_TOON", NX_MSG_IMPORT_TOON},
    {"CREATE_USER", NX_MSG_CREATE_USER}, {"DELETE_USER", NX_MSG_DELETE_USER}, {"LIST_USERS", NX_MSG_LIST_USERS},
    {"CHANGE_PASSWORD", NX_MSG_CHANGE_PASSWORD}, {"LIST_COLLECTIONS", NX_MSG_LIST_COLLECTIONS},
    {"DROP_COLLECTION", NX_MSG_DROP_COLLECTION}, {"GET_VECTORS", NX_MSG_GET_VECTORS},
    {"SUBSCRIBE_CHANGES", NX_MSG_SUBSCRIBE_CHANGES}, {"UNSUBSCRIBE_CHANGES", NX_MSG_UNSUBSCRIBE_CHANGES}, {"LIST_DATABASES", NX_MSG_LIST_DATABASES},
    {"DROP_DATABASE", NX_MSG_DROP_DATABASE}, {"BUILD_HNSW_INDEX", NX_MSG_BUILD_HNSW_INDEX},
    {"SUCCESS", NX_MSG_SUCCESS}, {"ERROR", NX_MSG_ERROR}, {"NOT_FOUND", NX_MSG_NOT_FOUND},
    {"DUPLICATE", NX_MSG_DUPLICATE}, {"STREAM_START", NX_MSG_STREAM_START}, {"STREAM_CHUNK", NX_MSG_STREAM_CHUNK},
    {"STREAM_END", NX_MSG_STREAM_END}, {"PONG", NX_MSG_PONG}, {"CHANGE_EVENT", NX_MSG_CHANGE_EVENT},
};

const Named kItemKinds[] = {
    {"OPEN", NX_EV_OPEN}, {"OPEN_FAILED", NX_EV_OPEN_FAILED}, {"REPLY", NX_EV_REPLY}, {"CHANGE", NX_EV_CHANGE},
    {"CLOSED", NX_EV_CLOSED}, {"UNDECODABLE", NX_EV_UNDECODABLE}, {"REPLY_FAILED", NX_EV_REPLY_FAILED},
    {"PAUSED", NX_EV_PAUSED}, {"RESUMED", NX_EV_RESUMED},
};

const Named kTapeOps[] = {
    {"STR", NX_T_STR}, {"NUM", NX_T_NUM}, {"U64", NX_T_U64}, {"I64", NX_T_I64}, {"TRUE", NX_T_TRUE},
    {"FALSE", NX_T_FALSE}, {"NULL", NX_T_NULL}, {"BIN", NX_T_BIN}, {"ARR", NX_T_ARR}, {"MAP", NX_T_MAP},
    {"MAPK", NX_T_MAPK}, {"KEY", NX_T_KEY}, {"VAL", NX_T_VAL}, {"NEWKEY", NX_T_NEWKEY},
    {"NEWSHAPE", NX_T_NEWSHAPE}, {"NEWVAL", NX_T_NEWVAL}, {"SEG", NX_T_SEG},
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
  c.Set("headerSize", Napi::Number::New(env, NX_HEADER_SIZE));
  c.Set("magic", Napi::Number::New(env, NX_MAGIC));
  c.Set("version", Napi::Number::New(env, NX_VERSION));
  c.Set("maxRequestId", Napi::Number::New(env, NX_REQ_ID_MAX));
  c.Freeze();
  return c;
}
