#!/usr/bin/env bash
# tools/gpu_check.sh — the whole GPU check in one command, for a fresh machine with a GPU.
#
#   tools/gpu_check.sh            # logs go to $OUT if set, else ./gpu-logs
#   GPU_SM=80 tools/gpu_check.sh  # another architecture (A100); MEMCHECK_TIMEOUT=600 for more time
#
# 1. finds CUDA (/usr/local/cuda) and the GPU (nvidia-smi), and the build tools and
#    libraries; installs what is missing with apt-get (or meson/ninja with pip) when it can,
#    and otherwise says exactly what is missing;
# 2. configures build-gpu with -Dcuda=enabled -Dgpu_sm=$GPU_SM (default 90) and builds only
#    the CUDA test (and CUDA benchmarks, if any exist), so it fits in a few minutes;
# 3. runs `meson test --suite cuda`, then the same binary under compute-sanitizer memcheck
#    with the caching allocator off (BERTLAB_CUDA_NO_CACHE=1, so every tensor has its exact
#    bounds), then the CUDA benchmarks;
# 4. copies every log to the log folder, and exits non-zero if any step failed.
#
# A build-gpu/ configured and built elsewhere (nothing in the build needs a GPU) is reused:
# when meson or ninja cannot be found or installed, an existing
# build-gpu/tests/cuda/test_cuda is run as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LOGS=${OUT:-gpu-logs}
mkdir -p "$LOGS"
LOGS=$(cd "$LOGS" && pwd)
GPU_SM=${GPU_SM:-90}
MEMCHECK_TIMEOUT=${MEMCHECK_TIMEOUT:-300}  # seconds; memcheck runs every kernel instrumented
BUILD=build-gpu
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
export PATH="$CUDA_HOME/bin:$PATH"

failures=()
note() { echo "gpu_check: $*" | tee -a "$LOGS/summary.txt"; }
fail() { failures+=("$1"); note "FAILED: $1"; }
finish() {
  cp -f "$BUILD"/meson-logs/*.txt "$LOGS"/ 2>/dev/null || true
  cp -f "$BUILD"/meson-logs/testlog*.json "$LOGS"/ 2>/dev/null || true
  if [ ${#failures[@]} -eq 0 ]; then note "all steps passed; logs in $LOGS"
  else note "${#failures[@]} step(s) failed: ${failures[*]}; logs in $LOGS"; fi
}
trap finish EXIT
: > "$LOGS/summary.txt"
note "started $(date -u +%FT%TZ) in $ROOT"

# ---------------------------------------------------------------------------------------
# 1. the machine

{ nvidia-smi || echo "nvidia-smi failed or is missing"; } > "$LOGS/nvidia-smi.txt" 2>&1
if ! command -v nvcc > /dev/null; then
  note "nvcc not found (looked in \$PATH and $CUDA_HOME/bin): set CUDA_HOME to the CUDA toolkit"
  fail "no nvcc"
  exit 1
fi
nvcc --version > "$LOGS/nvcc-version.txt" 2>&1
note "nvcc: $(nvcc --version | tail -n 2 | head -n 1)"
note "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'none visible to nvidia-smi')"

# what the build needs: a command, a header or a library, and the Debian package with it
missing_pkgs=()
missing_what=()
need() {  # need <package> <test...>
  local pkg=$1; shift
  if ! "$@" > /dev/null 2>&1; then missing_pkgs+=("$pkg"); missing_what+=("$pkg ($*)"); fi
}
check_deps() {
  missing_pkgs=(); missing_what=()
  need g++ command -v g++
  need meson command -v meson
  need ninja-build command -v ninja
  need pkg-config command -v pkg-config
  need libopenblas-openmp-dev test -e /usr/include/x86_64-linux-gnu/openblas-openmp/cblas.h -o -e /usr/include/cblas.h -o -e /usr/include/x86_64-linux-gnu/cblas.h
  need libutf8proc-dev pkg-config --exists libutf8proc
  need nlohmann-json3-dev test -e /usr/include/nlohmann/json.hpp
  need libcli11-dev test -e /usr/include/CLI/CLI.hpp
  need doctest-dev test -e /usr/include/doctest/doctest.h
  need zlib1g-dev pkg-config --exists zlib
}
check_deps
if [ ${#missing_pkgs[@]} -gt 0 ]; then
  note "missing: ${missing_what[*]}"
  if command -v apt-get > /dev/null && [ "$(id -u)" -eq 0 ]; then
    note "trying apt-get install ${missing_pkgs[*]} (needs a package mirror)"
    export DEBIAN_FRONTEND=noninteractive
    if timeout 180 apt-get update -qq > "$LOGS/apt.txt" 2>&1 &&
       timeout 300 apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >> "$LOGS/apt.txt" 2>&1; then
      note "apt-get installed ${missing_pkgs[*]}"
    else
      note "apt-get could not install them (no network or no mirror?); see apt.txt"
    fi
  fi
  if ! command -v meson > /dev/null || ! command -v ninja > /dev/null; then
    if command -v pip3 > /dev/null || command -v pip > /dev/null; then
      note "trying pip install meson ninja"
      "$(command -v pip3 || command -v pip)" install -q meson ninja > "$LOGS/pip.txt" 2>&1 ||
        note "pip could not install meson/ninja; see pip.txt"
      hash -r
    fi
  fi
  check_deps
fi

TEST_BIN="$BUILD/tests/cuda/test_cuda"
if [ ${#missing_pkgs[@]} -gt 0 ]; then
  note "still missing: ${missing_what[*]}"
  if [ -x "$TEST_BIN" ]; then
    note "using the prebuilt $TEST_BIN as it is (no rebuild)"
    prebuilt=1
  else
    note "cannot build: install the packages above (Debian: apt-get install ${missing_pkgs[*]}),"
    note "or configure and build $BUILD on another machine with the same libraries and copy it here"
    fail "missing build dependencies"
    exit 1
  fi
else
  prebuilt=0
fi

# ---------------------------------------------------------------------------------------
# 2. configure and build only what the check runs

if [ "$prebuilt" -eq 0 ]; then
  if [ ! -f "$BUILD/build.ninja" ]; then
    if ! meson setup "$BUILD" --buildtype=release -Dcuda=enabled -Dgpu_sm="$GPU_SM" > "$LOGS/configure.txt" 2>&1; then
      fail "meson setup"; tail -n 30 "$LOGS/configure.txt"; exit 1
    fi
  else
    meson configure "$BUILD" -Dcuda=enabled -Dgpu_sm="$GPU_SM" > "$LOGS/configure.txt" 2>&1
  fi
  # CUDA benchmarks: benchmark() targets whose name mentions cuda
  mapfile -t bench_targets < <(meson introspect "$BUILD" --benchmarks 2>/dev/null |
    python3 -c 'import json,sys,os; [print(os.path.relpath(b["cmd"][0], sys.argv[1])) for b in json.load(sys.stdin) if "cuda" in b["name"].lower()]' "$ROOT/$BUILD" 2>/dev/null || true)
  note "building tests/cuda/test_cuda ${bench_targets[*]:-} (sm_$GPU_SM)"
  start=$(date +%s)
  if ! ninja -C "$BUILD" tests/cuda/test_cuda "${bench_targets[@]}" > "$LOGS/build.txt" 2>&1; then
    fail "build"; tail -n 40 "$LOGS/build.txt"; exit 1
  fi
  note "built in $(( $(date +%s) - start )) s"
else
  bench_targets=()
fi
ldd "$TEST_BIN" > "$LOGS/ldd.txt" 2>&1 || true
if grep -q "not found" "$LOGS/ldd.txt"; then
  note "shared libraries not found: $(grep 'not found' "$LOGS/ldd.txt" | tr -s ' \t' ' ' | tr '\n' ';')"
fi

# ---------------------------------------------------------------------------------------
# 3. run

start=$(date +%s)
if [ "$prebuilt" -eq 0 ]; then
  # doctest's --duration prints each test's time into the test log
  if meson test -C "$BUILD" --suite cuda --no-rebuild --print-errorlogs --test-args=--duration=true \
       > "$LOGS/meson-test.txt" 2>&1; then
    note "meson test --suite cuda: $(grep -E '^(Ok|Fail|Skipped):' "$LOGS/meson-test.txt" | tr -s ' ' | tr '\n' ' ')"
  else
    fail "meson test --suite cuda"
    grep -E "ERROR|FATAL|SKIP|test cases" "$BUILD/meson-logs/testlog.txt" | head -n 30 || true
  fi
  if grep -qE '^Skipped:[[:space:]]+[1-9]' "$LOGS/meson-test.txt"; then
    fail "the CUDA test was SKIPPED: no device visible to the CUDA runtime (see meson-test.txt)"
  fi
else
  if "$TEST_BIN" --duration=true > "$LOGS/test_cuda.txt" 2>&1; then
    note "test_cuda: $(grep -E '^\[doctest\] (test cases|assertions)' "$LOGS/test_cuda.txt" | tr -s ' ' | tr '\n' ' ')"
  else
    rc=$?
    fail "test_cuda (exit $rc; 77 means no device)"
    grep -E "ERROR|FATAL|SKIP" "$LOGS/test_cuda.txt" | head -n 30 || true
  fi
fi
note "tests ran in $(( $(date +%s) - start )) s"

SANITIZER=$(command -v compute-sanitizer || ls "$CUDA_HOME"/compute-sanitizer/compute-sanitizer 2>/dev/null || true)
if [ -n "$SANITIZER" ]; then
  start=$(date +%s)
  # expected API errors (the out-of-memory test) are reported by our own checks, not here
  api_flag=()
  "$SANITIZER" --help 2>/dev/null | grep -q -- "--report-api-errors" && api_flag=(--report-api-errors no)
  if BERTLAB_CUDA_NO_CACHE=1 timeout "$MEMCHECK_TIMEOUT" "$SANITIZER" --tool memcheck --error-exitcode 1 "${api_flag[@]}" \
       "$TEST_BIN" > "$LOGS/memcheck.txt" 2>&1; then
    note "compute-sanitizer memcheck: $(grep -E 'ERROR SUMMARY' "$LOGS/memcheck.txt" | tail -n 1) ($(( $(date +%s) - start )) s)"
  else
    rc=$?
    [ "$rc" -eq 124 ] && note "compute-sanitizer memcheck timed out after $MEMCHECK_TIMEOUT s"
    fail "compute-sanitizer memcheck (exit $rc)"
    grep -E "ERROR SUMMARY|Invalid|out of bounds|========= [A-Z]" "$LOGS/memcheck.txt" | head -n 20 || true
  fi
else
  note "compute-sanitizer not found (looked in \$PATH and $CUDA_HOME/compute-sanitizer): memcheck NOT run"
  fail "no compute-sanitizer"
fi

if [ ${#bench_targets[@]} -gt 0 ]; then
  for b in "${bench_targets[@]}"; do
    name=$(basename "$b")
    if timeout 300 "$BUILD/$b" --benchmark_min_time=0.2 > "$LOGS/$name.txt" 2>&1; then note "benchmark $name: done"
    else fail "benchmark $name"; fi
  done
else
  note "no CUDA benchmarks registered (bench/meson.build has no benchmark() whose name mentions cuda)"
fi

[ ${#failures[@]} -eq 0 ]
