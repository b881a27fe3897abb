#!/usr/bin/env bash
# tools/setup_hf_venv.sh — builds tools/.venv-hf, a Python virtual environment with the
# Hugging Face `transformers` and `tokenizers` packages from PyPI (no torch), used only by
# tools/make_tokenizer_golden.py (tokenizer golden files) and bench/tokenizer_vs_hf.py
# (speed comparison). Tests never need it: they read the committed golden files.
#
# Usage: bash tools/setup_hf_venv.sh            (idempotent)
#        PYTHON=python3.11 bash tools/setup_hf_venv.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-hf"
python="${PYTHON:-python3}"

# Pinned so that the golden files can be regenerated bit for bit (each golden file's header
# records the versions that made it): transformers 4.57 is the last 4.x, which still ships the
# pure-Python "slow" BertTokenizer next to the Rust-backed BertTokenizerFast.
TRANSFORMERS_VERSION="${TRANSFORMERS_VERSION:-4.57.6}"
TOKENIZERS_VERSION="${TOKENIZERS_VERSION:-0.22.2}"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet \
  "transformers==$TRANSFORMERS_VERSION" "tokenizers==$TOKENIZERS_VERSION"
"$venv/bin/python" - <<'PY'
import transformers, tokenizers
print(f"tools/.venv-hf ready: transformers {transformers.__version__}, tokenizers {tokenizers.__version__}")
PY
