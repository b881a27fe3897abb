#!/usr/bin/env bash
# tools/setup_hf5_venv.sh — builds tools/.venv-hf5, a Python virtual environment with
# transformers 5.x and tokenizers from PyPI, used only by tools/make_hf5_golden.py (golden
# tokenizer.json folders as transformers 5 writes them) and tools/check_hf5_load.py (folders
# saved by bertlab load in transformers 5). Tests never need it: they read committed files.
#
# Usage: bash tools/setup_hf5_venv.sh              (tokenizers only; idempotent)
#        WITH_TORCH=1 bash tools/setup_hf5_venv.sh (adds torch from PyPI, large: for the
#                                                   model check in check_hf5_load.py)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-hf5"
python="${PYTHON:-python3}"

# Pinned so that the golden files can be regenerated bit for bit (their README records the
# versions): the newest transformers 5 and tokenizers on PyPI when they were made.
TRANSFORMERS_VERSION="${TRANSFORMERS_VERSION:-5.23.0}"
TOKENIZERS_VERSION="${TOKENIZERS_VERSION:-0.23.3}"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet \
  "transformers==$TRANSFORMERS_VERSION" "tokenizers==$TOKENIZERS_VERSION"
if [ "${WITH_TORCH:-0}" = 1 ]; then
  "$venv/bin/python" -m pip install --quiet torch
fi
"$venv/bin/python" - <<'PY'
import transformers, tokenizers
print(f"tools/.venv-hf5 ready: transformers {transformers.__version__}, tokenizers {tokenizers.__version__}")
PY
