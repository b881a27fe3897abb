#!/usr/bin/env bash
# tools/gpu_check.sh — the whole GPU check in one command, for a fresh machine with a GPU.
#
#   tools/gpu_check.sh --prepare   # HERE, before the GPU run (needs Debian's package mirror):
#                                  # the build dependencies as .deb files, and prebuilt binaries
#                                  # as a fallback, into build-gpudeps/ (ignored by git)
#   tools/gpu_check.sh             # ON THE GPU MACHINE, with build-gpudeps/ carried along:
#                                  # build, test, sanitize, benchmark; logs to $OUT or ./gpu-logs
#
# On the GPU machine, stage by stage, each stage's failure NOT stopping the later ones (every
# exit code and duration goes to summary.txt, which is also printed at the end):
#   env        nvidia-smi, nvcc, g++, meson, ninja, python3 + torch + transformers
#   deps       the build dependencies (OpenBLAS, utf8proc, nlohmann-json, CLI11, doctest,
#              Google Benchmark, zlib, pkg-config): the system's if it has them, else the
#              carried .deb files unpacked into /tmp/bertlab-deps (never into /)
#   configure  meson setup build-gpu -Dcuda=enabled -Dgpu_sm=$GPU_SM (default 90: H100/H200)
#   build      ninja -k 0 on only what is run here: tests/cuda/test_cuda, tests/cuda/test_bert_cuda,
#              bench/bench_cuda_kernels, bench/bench_cuda_gemm, bench/bench_cuda_bert, bert/bertlab;
#              a target that did not build is taken from build-gpudeps/prebuilt when it is there
#   test_cuda, test_bert_cuda   the CUDA tests (exit 77 = no device visible counts as a failure)
#   cli        tools/gpu_cli_check.sh: pretrain, finetune (classify, ner, qa), eval and predict
#              with --device cuda on small data, and 40 bert-base pretraining steps through the CLI
#   bench_kernels, bench_gemm   the per-kernel GB/s and the tiled GEMM against cuBLAS
#   e2e        tools/gpu_bench_e2e.py: bert-base pretraining step, bertlab vs PyTorch (+ MFU)
#   memcheck   compute-sanitizer --tool memcheck on test_bert_cuda, then on test_cuda
#              (BERTLAB_CUDA_NO_CACHE=1: every tensor its own exact allocation; MEMCHECK_FILTER
#              narrows test_cuda with a doctest -tc filter if the full run does not fit)
#   bertlab    the CLI starts (--help)
#   profile    (only when STAGES names it) tools/gpu_profile.py: the step's kernels, bertlab and
#              PyTorch, by category and by name
# STAGES="test_cuda e2e ..." runs only the stages named (build and deps always run as needed).
# The stages share a time budget (GPU_CHECK_BUDGET seconds, default 540, so that the device
# tool's 600-second command limit is kept); a stage gets at most what is left, and is skipped
# when too little is left. $OUT keeps at most 8 files: summary.txt, cli.txt, tests.txt,
# memcheck.txt, benchmarks.txt, e2e.txt, profile.txt and logs.tar.gz (everything, build.txt and the
# Google Benchmark JSON included). Exit status: 0 when every stage passed.
#
# The device call (a later session, with this repository as the working tree):
#   tools/gpu_check.sh --prepare     # here; about 15 min on 2 cores (the prebuilt fallback)
#   run(command="tools/gpu_check.sh", carry=["build-gpudeps"], timeout_s=600)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
GPU_SM=${GPU_SM:-90}
BUILD=${BUILD:-build-gpu}
DEPS=build-gpudeps                # carried: debs/ and prebuilt/
BUDGET=${GPU_CHECK_BUDGET:-540}
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
export PATH="$CUDA_HOME/bin:$PATH"
TARGETS=(tests/cuda/test_cuda tests/cuda/test_bert_cuda bench/bench_cuda_kernels bench/bench_cuda_gemm
         bench/bench_cuda_bert bert/bertlab)
# Debian bookworm packages with the headers, libraries and pkg-config files the build needs
# (runtime libraries too: libopenblas0-openmp needs libgfortran5 and libquadmath0)
DEBS=(libopenblas0-openmp libopenblas-openmp-dev libgfortran5 libquadmath0 libutf8proc2 libutf8proc-dev
      nlohmann-json3-dev libcli11-dev doctest-dev libbenchmark1debian libbenchmark-dev zlib1g-dev
      pkgconf pkgconf-bin libpkgconf3 pkg-config)

# The sources the binaries are built from, as one hash (the same command on both machines:
# the GPU machine gets the working tree without .git).
source_hash() {
  { find autograd bench bert cuda nn ops tests tokenizer -type f \
      \( -name '*.cpp' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' -o -name meson.build \) 2>/dev/null
    echo meson.build; echo meson_options.txt; } | LC_ALL=C sort | xargs sha1sum 2>/dev/null | sha1sum | cut -c1-16
}

# ---------------------------------------------------------------------------------------
# --prepare: here, where Debian's mirror can be reached

if [ "${1:-}" = "--prepare" ]; then
  set -e
  mkdir -p "$DEPS/debs"
  rm -f "$DEPS"/debs/*.deb
  echo "gpu_check --prepare: downloading ${#DEBS[@]} packages into $DEPS/debs"
  (cd "$DEPS/debs" && apt-get download "${DEBS[@]}" 2>&1 | grep -v "^W: Download is performed unsandboxed" || true)
  ls "$DEPS"/debs/*.deb > /dev/null
  # the fallback: the same targets built here (sm_$GPU_SM), binaries only
  PREP=build-gpu-prep
  [ -f "$PREP/build.ninja" ] || meson setup "$PREP" --buildtype=release -Dcuda=enabled -Dgpu_sm="$GPU_SM"
  meson configure "$PREP" -Dcuda=enabled -Dgpu_sm="$GPU_SM" > /dev/null
  echo "gpu_check --prepare: building ${TARGETS[*]} in $PREP (this machine's cores: $(nproc))"
  start=$(date +%s)
  ninja -C "$PREP" -k 0 "${TARGETS[@]}" || echo "gpu_check --prepare: some targets did not build (see above)"
  echo "gpu_check --prepare: built in $(( $(date +%s) - start )) s"
  rm -rf "$DEPS/prebuilt"
  for t in "${TARGETS[@]}"; do
    if [ -x "$PREP/$t" ]; then mkdir -p "$DEPS/prebuilt/$(dirname "$t")"; cp "$PREP/$t" "$DEPS/prebuilt/$t"; fi
  done
  source_hash > "$DEPS/prebuilt/SOURCE_HASH"
  du -sh "$DEPS/debs" "$DEPS/prebuilt"
  echo "gpu_check --prepare: done. Carry $DEPS (the working tree plus it must stay under 64 MiB)."
  exit 0
fi

# ---------------------------------------------------------------------------------------
# on the GPU machine

# STAGES names only known stages (a typo would silently run nothing)
ALL_STAGES=" test_cuda test_bert_cuda cli bench_kernels bench_gemm e2e profile memcheck_bert memcheck_cuda bertlab "
for s in ${STAGES:-}; do
  if [[ "$ALL_STAGES" != *" $s "* ]]; then
    echo "gpu_check: unknown stage '$s' in STAGES (stages:$ALL_STAGES)" >&2
    exit 2
  fi
done

T0=$(date +%s)
FINAL=${OUT:-$ROOT/gpu-logs}
mkdir -p "$FINAL"
FINAL=$(cd "$FINAL" && pwd)
W=$(mktemp -d /tmp/gpu-check.XXXXXX)  # every log; the chosen few go to $FINAL at the end
SUMMARY=$W/summary.txt
: > "$SUMMARY"
failed=()
LAST_RC=none

elapsed() { echo $(( $(date +%s) - T0 )); }
note() { echo "[$(elapsed) s] $*" | tee -a "$SUMMARY"; }
# record <stage> <rc> <seconds> [detail]
record() {
  local verdict=ok
  [ "$2" = 0 ] || verdict=FAILED
  [ "$2" = skipped ] && verdict=SKIPPED
  [ "$verdict" = FAILED ] && failed+=("$1")
  printf '%-16s %-8s rc=%-8s %5ss  %s\n' "$1" "$verdict" "$2" "$3" "${4:-}" | tee -a "$SUMMARY"
}
# run_stage <stage> <max seconds> <log> <command...>: runs under the time left, records rc
wanted() {  # STAGES="a b c" runs only those stages (and the build when needed); the default is every stage but profile
  case "$1" in configure | build) return 0 ;; esac
  if [ -n "${STAGES:-}" ]; then [[ " $STAGES " == *" $1 "* ]]; else [ "$1" != profile ]; fi
}
run_stage() {
  local name=$1 cap=$2 log=$3; shift 3
  if ! wanted "$name"; then LAST_RC=skipped; return 1; fi
  local left=$(( BUDGET - $(elapsed) - 15 ))
  if [ "$left" -lt 20 ]; then
    LAST_RC=skipped
    record "$name" skipped 0 "no time left in the ${BUDGET}-s budget"
    failed+=("$name")
    return 1
  fi
  [ "$cap" -gt "$left" ] && cap=$left
  echo "==== $name: $* (limit ${cap} s)" >> "$log"
  local s; s=$(date +%s)
  timeout --kill-after=10 "$cap" "$@" >> "$log" 2>&1
  local rc=$?
  local detail=""
  [ "$rc" = 124 ] && detail="timed out after ${cap} s"
  [ "$rc" = 77 ] && detail="exit 77: SKIPPED, no CUDA device visible"
  LAST_RC=$rc
  record "$name" "$rc" "$(( $(date +%s) - s ))" "$detail"
  return $rc
}
finish() {
  local rc=$?
  { echo; echo "stages failed: ${#failed[@]}${failed[*]:+ (${failed[*]})}; total $(elapsed) s; logs: $FINAL"; } >> "$SUMMARY"
  tar -czf "$W/logs.tar.gz" -C "$W" --exclude=logs.tar.gz . 2>/dev/null
  for f in summary.txt cli.txt tests.txt memcheck.txt benchmarks.txt e2e.txt profile.txt logs.tar.gz; do
    [ -f "$W/$f" ] && cp -f "$W/$f" "$FINAL/"
  done
  echo "---- summary.txt"
  cat "$SUMMARY"
  exit $rc
}
trap finish EXIT
note "gpu_check started $(date -u +%FT%TZ) in $ROOT (budget ${BUDGET} s, sm_$GPU_SM)"

# ---- env
{
  echo "== nvidia-smi"; nvidia-smi 2>&1 || true
  echo "== nvcc"; nvcc --version 2>&1 || true
  echo "== g++"; g++ --version 2>&1 | head -n 1 || true
  echo "== meson"; meson --version 2>&1 || true
  echo "== ninja"; ninja --version 2>&1 || true
  echo "== pkg-config"; pkg-config --version 2>&1 || true
  echo "== python3"; python3 -c 'import sys, torch, transformers; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__, "gpu", torch.cuda.is_available())' 2>&1 || true
  echo "== compute-sanitizer"; (command -v compute-sanitizer || ls "$CUDA_HOME"/compute-sanitizer/compute-sanitizer) 2>&1 || true
  echo "== cpus"; nproc
  echo "== os"; head -n 2 /etc/os-release 2>/dev/null || true
} > "$W/env.txt" 2>&1
note "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'none visible to nvidia-smi')"
note "nvcc: $(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' || echo missing); g++: $(g++ -dumpversion 2>/dev/null || echo missing); meson: $(meson --version 2>/dev/null || echo missing); cores: $(nproc)"

# ---- deps: the system's, or the carried .deb files unpacked into /tmp
have_deps() {
  command -v pkg-config > /dev/null && pkg-config --exists libutf8proc nlohmann_json CLI11 benchmark zlib &&
    { [ -e /usr/include/x86_64-linux-gnu/openblas-openmp/cblas.h ] || pkg-config --exists openblas; } &&
    [ -e /usr/include/doctest/doctest.h ]
}
DEPLIB=""   # library path for running our binaries (not for python: torch has its own libraries)
s=$(date +%s)
if have_deps; then
  record deps 0 $(( $(date +%s) - s )) "the system has them"
elif ls "$DEPS"/debs/*.deb > /dev/null 2>&1; then
  P=/tmp/bertlab-deps
  MA=x86_64-linux-gnu
  rm -rf "$P" && mkdir -p "$P/bin"
  rc=0
  for d in "$DEPS"/debs/*.deb; do
    if command -v dpkg > /dev/null; then dpkg -x "$d" "$P" || rc=1
    else (x=$(mktemp -d) && cd "$x" && ar x "$ROOT/$d" && tar -xf data.tar.* -C "$P") || rc=1; fi
  done
  find "$P" -name '*.pc' -exec sed -i "s|/usr|$P/usr|g" {} +   # the .pc files name /usr
  export PKG_CONFIG_PATH="$P/usr/lib/$MA/pkgconfig:$P/usr/share/pkgconfig:$P/usr/lib/$MA/openblas-openmp/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  export CMAKE_PREFIX_PATH="$P/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export CPATH="$P/usr/include:$P/usr/include/$MA${CPATH:+:$CPATH}"   # also for nvcc's host compiler
  export LIBRARY_PATH="$P/usr/lib/$MA:$P/usr/lib/$MA/openblas-openmp${LIBRARY_PATH:+:$LIBRARY_PATH}"
  DEPLIB="$P/usr/lib/$MA:$P/usr/lib/$MA/openblas-openmp"
  if ! command -v pkg-config > /dev/null; then  # the carried pkgconf, through a wrapper that finds its library
    printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$P/usr/lib/$MA" "$P/usr/bin/pkgconf" > "$P/bin/pkg-config"
    chmod +x "$P/bin/pkg-config"
    export PATH="$P/bin:$PATH"
  fi
  record deps $rc $(( $(date +%s) - s )) "unpacked $(ls "$DEPS"/debs/*.deb | wc -l) carried .deb files into $P"
else
  record deps 1 $(( $(date +%s) - s )) "build dependencies missing and no $DEPS/debs carried (run tools/gpu_check.sh --prepare first)"
fi
# our binaries (and meson's and ninja's test programs) find the unpacked libraries through
# this prefix; python's torch is left alone
WITH_DEPS=(env "LD_LIBRARY_PATH=${DEPLIB}${DEPLIB:+:}${LD_LIBRARY_PATH:-}")

# ---- configure and build (skipped when the carried prebuilt binaries were built from these very
# sources, with the same nvcc major version: that saves minutes of device time; BUILD_ON_GPU=1 builds anyway)
built=0
prebuilt_hash=$(cat "$DEPS/prebuilt/SOURCE_HASH" 2>/dev/null || echo none)
if [ "${BUILD_ON_GPU:-0}" != 1 ] && [ "$prebuilt_hash" = "$(source_hash)" ]; then
  record build skipped 0 "the carried prebuilt binaries match these sources ($prebuilt_hash); BUILD_ON_GPU=1 builds here"
elif command -v meson > /dev/null && command -v ninja > /dev/null && command -v nvcc > /dev/null; then
  if [ -f "$BUILD/build.ninja" ]; then
    run_stage configure 120 "$W/build.txt" "${WITH_DEPS[@]}" meson configure "$BUILD" -Dcuda=enabled -Dgpu_sm="$GPU_SM"
  else
    run_stage configure 120 "$W/build.txt" "${WITH_DEPS[@]}" meson setup "$BUILD" --buildtype=release -Dcuda=enabled -Dgpu_sm="$GPU_SM"
  fi
  if [ "$LAST_RC" = 0 ]; then
    # with the unpacked libraries on the library path, meson's and ninja's test programs run too
    run_stage build 360 "$W/build.txt" "${WITH_DEPS[@]}" ninja -C "$BUILD" -k 0 "${TARGETS[@]}" && built=1
    [ "$built" = 1 ] || tail -n 40 "$W/build.txt"
  fi
else
  record configure 1 0 "meson, ninja or nvcc not found"
fi

# which binary to run for each target: the fresh build, else the carried prebuilt one
declare -A BIN
for t in "${TARGETS[@]}"; do
  if [ -x "$BUILD/$t" ]; then BIN[$t]="$BUILD/$t"
  elif [ -x "$DEPS/prebuilt/$t" ]; then
    BIN[$t]="$DEPS/prebuilt/$t"
    note "using the prebuilt $t ($( [ "$prebuilt_hash" = "$(source_hash)" ] && echo 'same sources' || echo 'WARNING: built from other sources'))"
  else BIN[$t]=""; note "no binary for $t"; fi
done
bin_dir() {  # the build folder a binary lives in (for the e2e script's --build)
  local b=${BIN[$1]}; echo "${b%/$1}"
}
run_bin() {  # run_bin <stage> <cap> <log> <target> <args...>
  local name=$1 cap=$2 log=$3 t=$4; shift 4
  if [ -z "${BIN[$t]}" ]; then record "$name" 1 0 "no binary for $t"; return 1; fi
  run_stage "$name" "$cap" "$log" "${WITH_DEPS[@]}" "${BIN[$t]}" "$@"
}

# ---- tests
run_bin test_cuda 240 "$W/tests.txt" tests/cuda/test_cuda --duration=true
run_bin test_bert_cuda 120 "$W/tests.txt" tests/cuda/test_bert_cuda --duration=true
grep -E "^\[doctest\] (test cases|assertions)|SKIP|ERROR|FATAL" "$W/tests.txt" 2>/dev/null | head -n 40 | sed 's/^/    /' | tee -a "$SUMMARY"

# ---- the subcommands with --device cuda (pretrain, finetune, eval, predict), small data
if [ -n "${BIN[bert/bertlab]}" ]; then
  run_stage cli 150 "$W/cli.txt" "${WITH_DEPS[@]}" tools/gpu_cli_check.sh "$ROOT/${BIN[bert/bertlab]}" /tmp/bertlab-cli
else
  record cli 1 0 "no bertlab binary"
fi
grep -E "^cli |tok/s|accuracy|\"f1\"|exact|Error|error" "$W/cli.txt" 2>/dev/null | head -n 40 | sed 's/^/    /' | tee -a "$SUMMARY"

# ---- benchmarks (Google Benchmark: plain-number min_time works in 1.7 and 1.8+)
run_bin bench_kernels 90 "$W/benchmarks.txt" bench/bench_cuda_kernels --benchmark_min_time=0.05 \
  --benchmark_out="$W/bench_kernels.json" --benchmark_out_format=json
run_bin bench_gemm 60 "$W/benchmarks.txt" bench/bench_cuda_gemm --benchmark_min_time=0.05 \
  --benchmark_out="$W/bench_gemm.json" --benchmark_out_format=json

# ---- end to end, bertlab against PyTorch
if [ -n "${BIN[bench/bench_cuda_bert]}" ]; then
  run_stage e2e 150 "$W/e2e.txt" env BERTLAB_LD_LIBRARY_PATH="$DEPLIB" PYTHONUNBUFFERED=1 \
    python3 tools/gpu_bench_e2e.py --build "$(bin_dir bench/bench_cuda_bert)" --min-time 2 --reps 3 \
    --out "$W/e2e.json" --log "$W/e2e_bench_output.txt"
else
  record e2e 1 0 "no bench_cuda_bert binary"
fi
grep -E "^(bert|torch|ratio|peak|fused)" "$W/e2e.txt" 2>/dev/null | sed 's/^/    /' | tee -a "$SUMMARY"

# ---- where the step's time goes, kernel by kernel, bertlab and PyTorch (only with STAGES=...profile...)
if wanted profile && [ -n "${BIN[bench/bench_cuda_bert]}" ]; then
  run_stage profile 240 "$W/profile.txt" env BERTLAB_LD_LIBRARY_PATH="$DEPLIB" PYTHONUNBUFFERED=1 \
    python3 tools/gpu_profile.py --build "$(bin_dir bench/bench_cuda_bert)" --steps 1 --out "$W/profile.json"
  grep -E "^== |^    (gemm|softmax|layer_norm|cross|gelu|dropout|embedding|adam|reduce|copy|fill|elem|other|atten)" \
    "$W/profile.txt" 2>/dev/null | sed 's/^/    /' | tee -a "$SUMMARY"
fi

# ---- compute-sanitizer memcheck (the caching allocator off: each tensor its exact bounds)
SANITIZER=$(command -v compute-sanitizer || ls "$CUDA_HOME"/compute-sanitizer/compute-sanitizer 2>/dev/null || true)
run_memcheck() {  # run_memcheck <stage> <cap> <target> <args...>
  local name=$1 cap=$2 t=$3; shift 3
  if [ -z "$SANITIZER" ]; then record "$name" 1 0 "compute-sanitizer not found"; return 1; fi
  if [ -z "${BIN[$t]}" ]; then record "$name" 1 0 "no binary for $t"; return 1; fi
  local api_flag=()
  "$SANITIZER" --help 2>/dev/null | grep -q -- "--report-api-errors" && api_flag=(--report-api-errors no)
  # API errors are expected (the out-of-memory test) and checked by the tests themselves
  run_stage "$name" "$cap" "$W/memcheck.txt" "${WITH_DEPS[@]}" BERTLAB_CUDA_NO_CACHE=1 \
    "$SANITIZER" --tool memcheck --error-exitcode 1 "${api_flag[@]}" "${BIN[$t]}" "$@"
}
run_memcheck memcheck_bert 120 tests/cuda/test_bert_cuda
if [ -n "${MEMCHECK_FILTER:-}" ]; then
  run_memcheck memcheck_cuda 300 tests/cuda/test_cuda -tc="$MEMCHECK_FILTER"
else
  run_memcheck memcheck_cuda 300 tests/cuda/test_cuda
fi
grep -E "ERROR SUMMARY|========= (Invalid|Program hit|Error)" "$W/memcheck.txt" 2>/dev/null | sort | uniq -c | head -n 20 |
  sed 's/^/    /' | tee -a "$SUMMARY"

# ---- the CLI starts
run_bin bertlab 30 "$W/build.txt" bert/bertlab --help

[ ${#failed[@]} -eq 0 ]
