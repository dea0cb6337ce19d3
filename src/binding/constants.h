// The core's shared facts as one frozen JS object (see constants.cc).
#ifndef NX_CONSTANTS_H
#define NX_CONSTANTS_H

#include <napi.h>

Napi::Object MakeConstants(Napi::Env env);

#endif
