#!/usr/bin/env bash
# quickstart.sh — the main job on a fresh Debian 12 machine: install what is needed, build,
# and run the embedded default (see README.md).
set -euo pipefail
cd "$(dirname "$0")"
tools/install_deps.sh
tools/build.sh
./build/bert/bertlab demo "$@"
