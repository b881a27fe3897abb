#!/usr/bin/env bash
# tools/setup_st_venv.sh — builds tools/.venv-st, a small Python virtual environment with
# the Hugging Face `safetensors` package, `numpy` and `ml_dtypes` (for bfloat16) from PyPI
# (no torch). Used only by tools/make_safetensors_golden.py, which writes the golden files
# in tests/bert/data/ and checks a file written by our C++ writer with the reference reader.
# Tests never need it: they read the committed golden files.
#
# Usage: bash tools/setup_st_venv.sh            (idempotent; re-run to upgrade)
#        PYTHON=python3.11 bash tools/setup_st_venv.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-st"
python="${PYTHON:-python3}"

# Pinned so that golden files can be regenerated bit for bit (all but the order of
# "__metadata__" keys, which the reference writer keeps in a hash map); the sidecar JSON
# records the versions that made them.
SAFETENSORS_VERSION="${SAFETENSORS_VERSION:-0.8.0}"
NUMPY_VERSION="${NUMPY_VERSION:-2.4.6}"
ML_DTYPES_VERSION="${ML_DTYPES_VERSION:-0.5.4}"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet \
  "safetensors==$SAFETENSORS_VERSION" "numpy==$NUMPY_VERSION" "ml_dtypes==$ML_DTYPES_VERSION"
"$venv/bin/python" - <<'PY'
import importlib.metadata as md
print("tools/.venv-st ready: " + ", ".join(
    f"{p} {md.version(p)}" for p in ("safetensors", "numpy", "ml_dtypes")))
PY
