#!/usr/bin/env bash
# libFuzzer over the native core: fuzz_frame (incremental frame reader +
# nx_decode of each frame + the event tape, read back) and fuzz_check
# (nx_check vs msgpack-c).
#
#   bash fuzz/run.sh [seconds-per-target]    (npm run fuzz -- 30)
#
# Default 60 s a target; CI=true makes it 10 s. Environment:
#   FUZZ_RUNS=N      stop each target after N executions instead (the time
#                    limit still applies if given as an argument)
#   FUZZ_TARGETS="fuzz_frame fuzz_check"   which targets
#   FUZZ_PARALLEL=1  run the targets at the same time (one core each)
#   CC=clang-14      the compiler (needs libFuzzer: libclang-rt-14-dev)
#   FUZZ_OUT=dir     where build/, work/, crashes/, logs/ go (default fuzz/)
# Corpora grow in fuzz/work/<target> (seeded from fuzz/corpus, built from the
# recorded transcripts); crashes land in fuzz/crashes/<target>/; logs in
# fuzz/logs/. Exit status 1 when any target crashed.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
secs="${1:-}"
if [ -z "$secs" ]; then
  if [ -n "${CI:-}" ] && [ "${CI}" != "false" ]; then secs=10; else secs=60; fi
fi
runs="${FUZZ_RUNS:-}"
targets="${FUZZ_TARGETS:-fuzz_frame fuzz_check}"
cc="${CC:-}"
if [ -z "$cc" ] || ! "$cc" --version 2>/dev/null | grep -q clang; then
  cc="$(command -v clang-14 || command -v clang || true)"
fi
if [ -z "$cc" ]; then
  echo "fuzz: clang not found (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 2
fi

msgpack_pc=msgpack-c
pkg-config --exists msgpack-c 2>/dev/null || msgpack_pc=msgpack
if ! pkg-config --exists "$msgpack_pc"; then
  echo "fuzz: msgpack-c not found by pkg-config (apt-get install libmsgpack-dev)" >&2
  exit 2
fi
read -r -a mp_flags <<<"$(pkg-config --cflags --libs "$msgpack_pc")"

out="${FUZZ_OUT:-$here}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
build="$out/build"
mkdir -p "$build" "$out/logs"
# It exits 0 when the transcripts are absent; any other failure (the addon
# not built, say) stops the run rather than fuzz from an empty corpus.
node "$here/build-corpus.js" "$here/corpus" || { echo "fuzz: the seed corpus could not be built" >&2; exit 1; }

declare -A maxlen=([fuzz_frame]=16384 [fuzz_check]=4096)
declare -A seeds=([fuzz_frame]=frame [fuzz_check]=check)

for t in $targets; do
  echo "fuzz: building $t with $cc"
  if ! "$cc" -std=c11 -D_GNU_SOURCE -DNX_TAPE_CHECK_ROOM -g -O1 -fno-omit-frame-pointer \
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -I"$root/src/core" "$here/$t.c" "$root/src/core/frame.c" "$root/src/core/codec.c" "$root/src/core/decode.c" "$root/src/core/intern.c" "$root/src/core/tape.c" \
      "${mp_flags[@]}" -o "$build/$t"; then
    echo "fuzz: build of $t failed" >&2
    exit 2
  fi
done

run_one() {
  local t="$1"
  local work="$out/work/$t" crashes="$out/crashes/$t" log="$out/logs/$t.log"
  mkdir -p "$work" "$crashes"
  local seeddir="$here/corpus/${seeds[$t]}"
  [ -d "$seeddir" ] || seeddir=""
  local args=(-max_len="${maxlen[$t]}" -dict="$here/nexa.dict" -print_final_stats=1
    -artifact_prefix="$crashes/" -rss_limit_mb=2048 -timeout=10)
  [ -n "$runs" ] && args+=(-runs="$runs")
  [ -n "$secs" ] && args+=(-max_total_time="$secs")
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    "$build/$t" "${args[@]}" "$work" $seeddir >"$log" 2>&1
  echo $? >"$log.rc"
}

summary() {
  local t="$1" log="$out/logs/$t.log"
  local rc execs last cov ft crashes
  rc="$(cat "$log.rc" 2>/dev/null || echo '?')"
  execs="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')"
  last="$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1)"
  cov="$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")"
  ft="$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")"
  crashes="$(find "$out/crashes/$t" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) -newer "$build/$t" | wc -l)"
  local secs_used
  secs_used="$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | awk '{print $5}' | tail -1)"
  printf 'fuzz: %-11s executions %s in %ss, cov %s, ft %s, crashes %s, corpus %s files (exit %s)\n' \
    "$t" "${execs:-?}" "${secs_used:-?}" "${cov:-?}" "${ft:-?}" "$crashes" "$(ls "$out/work/$t" | wc -l)" "$rc"
  if [ "$crashes" != 0 ] || { [ "$rc" != 0 ] && [ "$rc" != '?' ]; }; then
    grep -E 'ERROR|SUMMARY|runtime error|abort|differs|accepted|refused' "$log" | head -5 | sed 's/^/    /'
    return 1
  fi
  return 0
}

echo "fuzz: ${secs:+$secs s}${runs:+ / $runs runs} per target: $targets"
if [ -n "${FUZZ_PARALLEL:-}" ]; then
  for t in $targets; do run_one "$t" & done
  wait
else
  for t in $targets; do run_one "$t"; done
fi
status=0
for t in $targets; do summary "$t" || status=1; done
[ $status = 0 ] && echo "fuzz: no crashes" || echo "fuzz: CRASHES: see $out/crashes/ and $out/logs/ (reproduce: $build/<target> <file>)"
exit $status
