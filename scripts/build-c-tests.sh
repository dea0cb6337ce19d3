#!/usr/bin/env bash
# Builds the C core's unit tests (src/core + test/c) into OUT: the one place
# their sources, warnings and libraries are named, for npm test
# (scripts/test.js), scripts/asan.sh and scripts/valgrind.sh, which add
# their own optimisation and sanitizer flags.
#   CC=cc scripts/build-c-tests.sh OUT [extra cc flags...]
# Exits 2 when msgpack-c or libuv is not found by pkg-config, 1 when the
# build fails.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 1 ]; then echo "usage: build-c-tests.sh OUT [extra cc flags...]" >&2; exit 64; fi
out="$1"
shift

msgpack_pc=msgpack-c # newer releases; msgpack 4.0 and before: msgpack
pkg-config --exists msgpack-c 2>/dev/null || msgpack_pc=msgpack
if ! pkg-config --exists "$msgpack_pc"; then echo "C core tests: cannot build: msgpack-c (libmsgpack-dev) not found by pkg-config" >&2; exit 2; fi
if ! pkg-config --exists libuv; then echo "C core tests: cannot build: libuv (libuv1-dev) not found by pkg-config" >&2; exit 2; fi
read -r -a deps <<<"$(pkg-config --cflags --libs "$msgpack_pc" libuv)"

mkdir -p "$(dirname "$out")"
# The wrap: test/c/test_out_of_memory.c fails chosen allocations.
"${CC:-cc}" -std=c11 -D_GNU_SOURCE -DNX_TAPE_CHECK_ROOM "$@" -Wall -Wextra -Werror -I"$root/src/core" \
  "$root"/src/core/*.c "$root"/test/c/*.c "${deps[@]}" -lpthread -Wl,--wrap=realloc -o "$out" || exit 1
