#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer over the native layer.
#
#   bash scripts/asan.sh          (npm run test:asan)  both parts below
#   bash scripts/asan.sh core     only the C unit tests (test/c)
#   bash scripts/asan.sh mocha    only the addon + mocha suite
#
# core:  test/c/*.c and src/core/*.c built with clang
#        -fsanitize=address,undefined (LeakSanitizer on) and run.
# mocha: the working tree is copied to a temporary directory (next to a link
#        to ../shared), the addon is built there with the same sanitizers
#        (build/Release/nexaclient.node of this tree is not touched), and
#        every test/*.test.js runs under node with the ASan runtime
#        preloaded. Node's own allocations are not leak-checked there
#        (detect_leaks=0); scripts/valgrind.sh covers leaks.
# Any sanitizer report (main process or a child process) fails the run:
# reports are also written to files and counted at the end.
# Environment: CC (default clang-14), KEEP=1 keeps the temporary tree,
# ASAN_SPEC: the mocha files to run (default every test/*.test.js; CI runs
# the suites that do not depend on timing, which ASan's slowdown distorts).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-all}"
cc="${CC:-$(command -v clang-14 || command -v clang)}"
cxx="${CXX:-$(command -v clang++-14 || command -v clang++)}"
if [ -z "$cc" ] || [ -z "$cxx" ]; then echo "asan: clang not found (apt-get install clang-14)" >&2; exit 2; fi
rt="$("$cc" -print-file-name=libclang_rt.asan-x86_64.so)"
if [ ! -f "$rt" ]; then echo "asan: ASan runtime not found ($rt): apt-get install libclang-rt-14-dev" >&2; exit 2; fi

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
tmp="$(mktemp -d /tmp/nexaclient-asan.XXXXXX)"
cleanup() { [ -n "${KEEP:-}" ] && echo "asan: kept $tmp" || rm -rf "$tmp"; }
trap cleanup EXIT
status=0
logs="$tmp/reports"
mkdir -p "$logs"

count_reports() { # $1: label
  local n
  n="$(find "$logs" -type f | wc -l)"
  if [ "$n" != 0 ]; then
    echo "asan: $1: $n sanitizer report file(s):"
    for f in "$logs"/*; do echo "---- $f"; head -40 "$f"; done
    return 1
  fi
  return 0
}

run_core() {
  local start=$SECONDS bin="$tmp/test_core_asan"
  echo "asan: building the C unit tests with $san"
  # shellcheck disable=SC2086
  if ! CC="$cc" bash "$root/scripts/build-c-tests.sh" "$bin" $san; then
    echo "asan: the C unit tests did not build"; return 1
  fi
  local out rc
  out="$(ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$logs/core" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/core-ubsan" "$bin" 2>&1)"
  rc=$?
  echo "$out" | tail -3
  local ok=0
  echo "$out" | grep -q 'C core: [0-9]* passed, 0 failed' || ok=1
  [ $rc = 0 ] || ok=1
  count_reports "C unit tests" || ok=1
  echo "asan: C unit tests under ASan+UBSan: $([ $ok = 0 ] && echo clean || echo FAILED) (exit $rc, $((SECONDS - start)) s)"
  return $ok
}

run_mocha() {
  local start=$SECONDS tree="$tmp/main"
  echo "asan: copying the tree to $tree"
  mkdir -p "$tree"
  tar -C "$root" --exclude=./build --exclude=./node_modules --exclude=./.git --exclude=./fuzz \
    --exclude='./build-*' -cf - . | tar -C "$tree" -xf -
  ln -s "$root/node_modules" "$tree/node_modules"
  [ -d "$root/../shared" ] && ln -s "$(cd "$root/../shared" && pwd)" "$tmp/shared"
  echo "asan: building the addon with ASan+UBSan ($cxx)"
  # -shared-libasan: the addon takes the runtime preloaded into node.
  if ! (cd "$tree" && CC="$cc" CXX="$cxx" \
      CFLAGS="$san" CXXFLAGS="$san -fno-sanitize=vptr" LDFLAGS="-fsanitize=address,undefined -shared-libasan" \
      npm run build --silent >"$tmp/build.log" 2>&1); then
    tail -30 "$tmp/build.log"; echo "asan: the sanitized addon did not build"; return 1
  fi
  if [ "$(nm -D "$tree/build/Release/nexaclient.node" | grep -c __asan_init)" = 0 ]; then
    echo "asan: the addon was built without ASan"; return 1
  fi
  echo "asan: running the mocha suite under ASan+UBSan"
  local rc
  (cd "$tree" && env -u CI -u NEXACLIENT_HARDENING LD_PRELOAD="$rt" \
    ASAN_OPTIONS="detect_leaks=0:log_path=$logs/node:allow_user_segv_handler=1:detect_odr_violation=0" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/node-ubsan" \
    NEXACLIENT_UNDER_ASAN=1 node node_modules/mocha/bin/mocha.js --timeout 60000 --reporter dot ${ASAN_SPEC:-'test/*.test.js'})
  rc=$?
  local ok=0
  [ $rc = 0 ] || ok=1
  count_reports "mocha suite" || ok=1
  echo "asan: mocha suite under ASan+UBSan: $([ $ok = 0 ] && echo clean || echo FAILED) (mocha exit $rc, $((SECONDS - start)) s)"
  return $ok
}

case "$mode" in
  core) run_core || status=1 ;;
  mocha) run_mocha || status=1 ;;
  all) run_core || status=1; run_mocha || status=1 ;;
  *) echo "usage: scripts/asan.sh [core|mocha]" >&2; exit 2 ;;
esac
exit $status
