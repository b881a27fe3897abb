#!/usr/bin/env bash
# quickstart.sh — the main job on a fresh Debian 12 machine: install what is needed, build, and
# run the embedded default:
#   1. pre-train a small BERT (bert-tiny: 2 layers, hidden 128) with masked LM + next sentence
#      prediction on WikiText-2 (shipped in data/) for 3 minutes;
#   2. fine-tune it on SST-2 sentiment (shipped in data/), 2 epochs;
#   3. print the dev accuracy and the model's predictions for example sentences.
# About 8 minutes of work on 2 CPU cores (plus the one-time install and build). Everything
# lands in runs/quickstart/ (Hugging Face-format model folders, metrics.jsonl, a loss plot).
# Extra arguments are passed to the fine-tuning command (e.g. --epochs 1).
set -euo pipefail
cd "$(dirname "$0")"
tools/install_deps.sh
tools/build.sh

export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
bertlab=./build/bert/bertlab
out=runs/quickstart
rm -rf "$out"
mkdir -p "$out"

echo "== 1/3 pre-training bert-tiny on WikiText-2 (3 minutes)"
$bertlab pretrain --config bert-tiny --corpus data/wikitext2/wiki.test.raw --max-seq-length 64 \
  --batch-size 64 --lr 1e-3 --warmup-steps 100 --steps 2000 --max-minutes 3 --log-every 100 \
  --seed 0 --out "$out/pretrain"

echo "== 2/3 fine-tuning on SST-2 (2 epochs)"
$bertlab finetune classify --model "$out/pretrain/final" --train data/sst2/train.tsv --dev data/sst2/dev.tsv \
  --epochs 2 --max-length 64 --batch-size 32 --lr 2e-4 --group-by-length --label-names negative,positive \
  --log-every 500 --seed 0 --out "$out/sst2" "$@"

echo "== 3/3 results"
$bertlab eval classify --model "$out/sst2/best" --data data/sst2/dev.tsv
$bertlab predict sentiment --model "$out/sst2/best" \
  "a gorgeous, witty, seductive movie." \
  "the plot is tedious and the acting is wooden." \
  "I loved every minute of it." \
  "an utterly forgettable film with nothing to say." \
  "the cast is good, but the script lets them down."
if command -v gnuplot >/dev/null; then
  $bertlab plot "$out/pretrain" --out "$out/pretrain_loss.png" && echo "loss curve: $out/pretrain_loss.png"
fi
