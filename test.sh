#!/usr/bin/env bash
# test.sh — install what is needed, build, and run every test (see README.md).
# GPU tests exit 77 (shown as SKIP) on a machine without a CUDA device.
#
# Then the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer, in a second
# build directory (build-asan/: gcc, -O2 -g, CUDA off): an out-of-bounds access, a use after
# free, a leak or undefined behaviour (signed overflow, a bad shift or cast, ...) fails the test
# that triggers it, with a stack trace. BERTLAB_SKIP_ASAN=1 skips this second run.
set -euo pipefail
cd "$(dirname "$0")"
tools/install_deps.sh
tools/build.sh
# OpenMP threads sleep rather than spin while waiting: on shared CI cores spinning is 3-4x slower
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
meson test -C build --print-errorlogs --num-processes 2

if [ "${BERTLAB_SKIP_ASAN:-0}" != 1 ]; then
  if [ ! -f build-asan/build.ninja ]; then
    # -fno-sanitize-recover: UBSan's reports abort (and so fail the test) instead of scrolling by.
    # b_lundef=false: required by meson with sanitizers (the runtime provides symbols at load time).
    meson setup build-asan --buildtype=debugoptimized -Dcuda=disabled \
      -Db_sanitize=address,undefined -Db_lundef=false -Dcpp_args=-fno-sanitize-recover=undefined
  fi
  ninja -C build-asan
  export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=1:print_stacktrace=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  export LSAN_OPTIONS=suppressions=$PWD/tools/lsan.supp:print_suppressions=0
  # instrumented code runs 2-5x slower: the same tests, with longer time limits
  meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 4
fi
