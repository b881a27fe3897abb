#!/usr/bin/env bash
# tools/fuzz.sh — builds every libFuzzer target of tests/fuzz/ (and the tokenizer's) with clang,
# ASan and UBSan, runs each for a while, and reports per target: seconds run, executions, result.
#
#   tools/fuzz.sh                       every target, 600 s each, two at a time
#   FUZZ_SECONDS=120 tools/fuzz.sh      shorter runs
#   FUZZ_JOBS=1 tools/fuzz.sh config squad   only these targets, one at a time
#
# Installs clang, its sanitizer and libFuzzer runtime (Debian 12: libclang-rt-14-dev) and LLVM's
# OpenMP (libomp-dev) when missing, and configures build-fuzz/ once:
#   CXX=clang++ CC=clang meson setup build-fuzz -Dfuzz=enabled -Dcuda=disabled
# which compiles every library with coverage hooks and -fsanitize=address,undefined
# -fno-sanitize-recover=undefined (UB aborts). Each target grows its corpus in
# build-fuzz/corpus/<target>/ from the committed seeds tests/fuzz/corpus_<target>/; a crash,
# sanitizer report, leak, timeout (30 s wall time for one input, as the machine may be shared)
# or out-of-memory (2 GB) stops the target and leaves the input in build-fuzz/findings/<target>/
# (add it, minimised with -minimize_crash=1, to tests/fuzz/corpus_<target>/ with the fix, so that
# every build replays it). Fuzzers run under
# `nice -n 19`. Exits 1 when any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-600}
JOBS=${FUZZ_JOBS:-2}
B=build-fuzz

all=(safetensors tokenizer tokenizer_json config tokenizer_config vocab classify conll squad corpus trainer_state
     optimizer_state metrics)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

packages=(clang libclang-rt-14-dev libomp-dev meson ninja-build)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "fuzz: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
tools/install_deps.sh >/dev/null

if [ ! -f "$B/build.ninja" ]; then
  CXX=${FUZZ_CXX:-clang++} CC=clang meson setup "$B" --buildtype=debugoptimized -Dfuzz=enabled -Dcuda=disabled >/dev/null
fi
binary() {  # the fuzzer of a target (the tokenizer's is built in tests/tokenizer/)
  if [ "$1" = tokenizer ]; then echo "$B/tests/tokenizer/fuzz_tokenizer"; else echo "$B/tests/fuzz/fuzz_$1"; fi
}
seeds() { echo "tests/fuzz/corpus_$1"; }
ninja_targets=()
for t in "${targets[@]}"; do ninja_targets+=("$(binary "$t" | sed "s|^$B/||")"); done
echo "fuzz: building ${#targets[@]} targets in $B/"
nice ninja -C "$B" "${ninja_targets[@]}"

# ASan: leaks are findings; UBSan: reports abort with a stack trace.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export OMP_NUM_THREADS=1   # one core per fuzzer; the parsers are single-threaded
mkdir -p "$B/logs"

run_one() {  # run_one <target>: fuzzes for SECONDS_EACH, writes its log
  local t=$1 dict=""
  mkdir -p "$B/corpus/$t" "$B/findings/$t"
  [ -f "tests/fuzz/fuzz_$t.dict" ] && dict="-dict=tests/fuzz/fuzz_$t.dict"
  local start=$(date +%s) rc=0
  nice -n 19 "$(binary "$t")" -max_total_time="$SECONDS_EACH" -timeout=30 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$B/findings/$t/" $dict "$B/corpus/$t" "$(seeds "$t")" \
    >"$B/logs/$t.log" 2>&1 || rc=$?
  echo "$(( $(date +%s) - start )) $rc" >"$B/logs/$t.status"
}

pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$JOBS" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done

found=0
printf '%-18s %8s %14s  %s\n' target seconds executions result
for t in "${targets[@]}"; do
  read -r secs rc <"$B/logs/$t.status"
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$B/logs/$t.log" | grep -o '[0-9]*$' | tail -1)
  if [ "$rc" -eq 0 ]; then result="clean"; else result="FOUND (exit $rc): see $B/logs/$t.log, $B/findings/$t/"; found=1; fi
  printf '%-18s %8s %14s  %s\n' "$t" "$secs" "${execs:-?}" "$result"
done
exit $found
