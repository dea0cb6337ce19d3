{
  "targets": [
    {
      "target_name": "nexaclient",
      "sources": [
        "src/core/frame.c",
        "src/core/codec.c",
        "src/core/decode.c",
        "src/core/conn.c",
        "src/core/session.c",
        "src/core/worker.c",
        "src/core/ingest.c",
        "src/core/ring.c",
        "src/core/intern.c",
        "src/core/tape.c",
        "src/binding/addon.cc",
        "src/binding/handover.cc",
        "src/binding/constants.cc",
        "src/binding/to_js.cc",
        "src/binding/strcache.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "src/core"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags": ["-Wall", "-Wextra", "-Werror", "<!@(node scripts/find-msgpack.js --cflags)"],
      "cflags_c": ["-std=c11", "-D_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions"],
      "cflags!": ["-fno-exceptions"],
      "libraries": ["<!@(node scripts/find-msgpack.js --libs)"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-Wall", "-Wextra", "-Werror", "<!@(node scripts/find-msgpack.js --cflags)"],
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      }
    }
  ]
}
