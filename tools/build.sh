#!/usr/bin/env bash
# tools/build.sh — configures (once) and builds bertlab in ./build, release mode.
# Extra arguments go to `meson setup` on the first run, e.g. tools/build.sh -Dcuda=disabled.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release "$@"
fi
ninja -C build
