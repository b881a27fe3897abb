#!/usr/bin/env bash
# tools/setup_torch_venv.sh — a Python virtual environment with PyTorch and Hugging Face
# transformers from PyPI, for the reference scripts in tools/ (golden files, parity checks,
# side-by-side benchmarks). The test suite never needs it: golden files are committed.
#
# Usage: tools/setup_torch_venv.sh            (creates tools/.venv-torch, idempotent)
# PyPI's torch wheel brings several GB of CUDA libraries; that is fine once, here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv-torch"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q torch transformers tokenizers safetensors numpy
"$venv/bin/python" -c "import torch, transformers; print('torch', torch.__version__, '| transformers', transformers.__version__)"
