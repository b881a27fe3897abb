#!/usr/bin/env bash
# tools/install_deps.sh — installs what bertlab needs to build and test, from Debian 12's
# packages (run as root). Idempotent: packages already present are skipped, and apt's index
# is refreshed only when something is missing.
#
# CUDA is optional: the build turns it on where nvcc is found (e.g. /usr/local/cuda/bin).
set -euo pipefail

packages=(
  g++ meson ninja-build pkg-config
  libopenblas-openmp-dev   # BLAS sharing OpenMP's thread pool with our own kernels
  libutf8proc-dev          # Unicode normalisation and categories for the tokenizer
  nlohmann-json3-dev       # JSON (config.json, tokenizer_config.json, safetensors headers)
  libcli11-dev             # command-line flags
  doctest-dev              # tests
  libbenchmark-dev         # benchmarks
  zlib1g-dev               # compressed golden files
  gnuplot-nox              # `bertlab plot` draws loss curves with it
  libopenmpi-dev openmpi-bin  # data-parallel training (mpirun -np N bertlab pretrain|finetune)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
