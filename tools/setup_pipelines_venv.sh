#!/usr/bin/env bash
# tools/setup_pipelines_venv.sh — tools/.venv-pipelines: PyTorch (CPU is enough) and a pinned
# Hugging Face transformers from plain PyPI, for tools/make_pipelines_golden.py only (the
# golden files of tests/tasks/test_pipelines_hf.cpp). The test suite never needs it.
#
# transformers is pinned to 4.57.6, the last 4.x: transformers 5 removed the
# question-answering pipeline, and the golden header records the versions that made it.
# PyPI's torch wheel brings several GB of CUDA libraries; that is fine once, here.
#
# Usage: bash tools/setup_pipelines_venv.sh            (idempotent)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-pipelines"
python="${PYTHON:-python3}"
TRANSFORMERS_VERSION="${TRANSFORMERS_VERSION:-4.57.6}"
TOKENIZERS_VERSION="${TOKENIZERS_VERSION:-0.22.2}"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet torch safetensors numpy \
  "transformers==$TRANSFORMERS_VERSION" "tokenizers==$TOKENIZERS_VERSION"
"$venv/bin/python" -c "import torch, transformers; print('tools/.venv-pipelines ready: torch', torch.__version__, '| transformers', transformers.__version__)"
