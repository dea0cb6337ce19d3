#!/usr/bin/env bash
# Valgrind memcheck over the native layer.
#
#   bash scripts/valgrind.sh          (npm run test:valgrind)  both parts
#   bash scripts/valgrind.sh core     the C unit tests only
#   bash scripts/valgrind.sh node     the Node fixture only
#
# core: test/c/*.c + src/core built with -g -O1, under memcheck with
#       every definite/indirect leak and every invalid access an error.
# node: test/fixtures/hardening-valgrind.js under memcheck (the dev server
#       runs in a forked child outside valgrind): 100,000 streamed events,
#       200 documents at the nesting limit and 200 past it (undecodable
#       events, refused answers), then 1,000 connect / watch / disconnect
#       cycles, printing open handles and RSS at the start/middle/end of the
#       cycles. Fails on definite or indirect leaks whose stack goes through
#       the addon, and on invalid reads/writes anywhere
#       (scripts/valgrind-report.js reads the log).
#       Uses build/Release/nexaclient.node: run `npm run build` first.
# Environment: HARDENING_EVENTS, HARDENING_DEEP, HARDENING_CYCLES (smaller loads),
# VALGRIND_LOGS=dir (default a temp dir, printed).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-all}"
command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install valgrind)" >&2; exit 2; }
logs="${VALGRIND_LOGS:-$(mktemp -d /tmp/nexaclient-valgrind.XXXXXX)}"
mkdir -p "$logs"
echo "valgrind: logs in $logs"
vg=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible
  --errors-for-leak-kinds=definite,indirect --num-callers=30 --track-origins=no)
status=0

run_core() {
  local start=$SECONDS bin="$logs/test_core"
  bash "$root/scripts/build-c-tests.sh" "$bin" -g -O1 ||
    { echo "valgrind: C tests did not build"; return 1; }
  "${vg[@]}" --error-exitcode=99 --log-file="$logs/core.log" "$bin" >"$logs/core.out" 2>&1
  local rc=$?
  tail -1 "$logs/core.out"
  grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|in use at exit' "$logs/core.log" | sed 's/^==[0-9]*== */valgrind: core: /'
  node "$root/scripts/valgrind-report.js" "$logs/core.log" --all-leaks | sed 's/^valgrind:/valgrind: core:/'
  local rep=${PIPESTATUS[0]}
  local ok=0
  [ $rc = 0 ] || ok=1
  [ "$rep" = 0 ] || ok=1
  grep -q 'C core: [0-9]* passed, 0 failed' "$logs/core.out" || ok=1
  echo "valgrind: C unit tests: $([ $ok = 0 ] && echo clean || echo FAILED) (exit $rc, $((SECONDS - start)) s)"
  return $ok
}

run_node() {
  local start=$SECONDS
  [ -f "$root/build/Release/nexaclient.node" ] || { echo "valgrind: build the addon first (npm run build)"; return 1; }
  echo "valgrind: node fixture under memcheck (slow: several minutes)"
  "${vg[@]}" --log-file="$logs/node.log" --suppressions="$root/scripts/valgrind-node.supp" \
    node "$root/test/fixtures/hardening-valgrind.js" 2>&1 | tee "$logs/node.out" | grep -v '^{'
  local rc=${PIPESTATUS[0]}
  grep -E 'ERROR SUMMARY' "$logs/node.log" | sed 's/^==[0-9]*== */valgrind: node: /'
  node "$root/scripts/valgrind-report.js" "$logs/node.log" | sed 's/^valgrind:/valgrind: node:/'
  local rep=${PIPESTATUS[0]}
  local ok=0
  [ $rc = 0 ] || { echo "valgrind: the fixture exited with $rc"; ok=1; }
  [ "$rep" = 0 ] || ok=1
  grep -q '"cycles"' "$logs/node.out" || { echo "valgrind: the fixture did not finish"; ok=1; }
  echo "valgrind: node fixture: $([ $ok = 0 ] && echo clean || echo FAILED) ($((SECONDS - start)) s)"
  return $ok
}

case "$mode" in
  core) run_core || status=1 ;;
  node) run_node || status=1 ;;
  all) run_core || status=1; run_node || status=1 ;;
  *) echo "usage: scripts/valgrind.sh [core|node]" >&2; exit 2 ;;
esac
exit $status
