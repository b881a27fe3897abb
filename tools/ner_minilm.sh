#!/usr/bin/env bash
# tools/ner_minilm.sh — real result 2 of issue #5: all-MiniLM-L6-v2 fine-tuned for NER with
# `bertlab finetune ner`, entity precision / recall / F1 (seqeval = conlleval, and strict IOB2)
# on dev and test, for CoNLL-2003 English and WNUT-17. Not part of CI (hours on two CPU cores).
#
# CoNLL-2003 is Reuters text under a research licence: it is read from ../shared/data and never
# copied into the repository (nor are the run folders under runs/, which are gitignored).
#
# Usage (from the repository root, after tools/fetch_minilm.sh and a build):
#   tools/ner_minilm.sh [conll|wnut|all]
# Environment: BERTLAB (default build/bert/bertlab), DATA (default ../shared/data), RUNS (runs),
#   THREADS (0 = OpenMP's default), CONLL_EPOCHS (1), WNUT_EPOCHS (3), LR (5e-5), MAXLEN (128).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bertlab=${BERTLAB:-$root/build/bert/bertlab}
data=${DATA:-$root/../shared/data}
runs=${RUNS:-$root/runs}
model=${MODEL:-$root/models/all-MiniLM-L6-v2}
threads=${THREADS:-0}
lr=${LR:-5e-5}
maxlen=${MAXLEN:-128}
what=${1:-all}

"$root/tools/fetch_minilm.sh" > /dev/null

run_one() {  # name train dev test epochs
  local name=$1 train=$2 dev=$3 test=$4 epochs=$5
  local out="$runs/ner-$name-minilm"
  for f in "$train" "$dev" "$test"; do
    [ -f "$f" ] || { echo "ner_minilm: $f not found (set DATA to the shared data folder)" >&2; exit 1; }
  done
  echo "== $name: fine-tuning ($epochs epochs) into $out"
  local t0=$SECONDS
  "$bertlab" finetune ner --model "$model" --train "$train" --dev "$dev" --epochs "$epochs" --lr "$lr" \
    --batch-size 32 --max-length "$maxlen" --group-by-length --threads "$threads" --log-every 100 --out "$out"
  echo "fine-tuning took $(( (SECONDS - t0) / 60 )) min"
  for split in dev test; do
    local file=$dev
    [ $split = test ] && file=$test
    "$bertlab" eval ner --model "$out/best" --data "$file" --max-length "$maxlen" --threads "$threads" --json > "$out/eval_$split.json"
    "$bertlab" eval ner --model "$out/best" --data "$file" --max-length "$maxlen" --threads "$threads"
  done
  python3 - "$name" "$out" <<'EOF'
import json, sys
name, out = sys.argv[1], sys.argv[2]
for split in ("dev", "test"):
    j = json.load(open(f"{out}/eval_{split}.json"))
    print(f"{name} {split:4s}  entity F1 {j['f1']:.4f} (P {j['precision']:.4f} R {j['recall']:.4f})  "
          f"strict IOB2 F1 {j['strict_f1']:.4f}  token accuracy {j['accuracy']:.4f}  ({j['n']} sentences)")
EOF
}

if [ "$what" = conll ] || [ "$what" = all ]; then
  run_one conll2003 "$data/ner/conll2003/eng.train" "$data/ner/conll2003/eng.testa" "$data/ner/conll2003/eng.testb" \
    "${CONLL_EPOCHS:-1}"
fi
if [ "$what" = wnut ] || [ "$what" = all ]; then
  run_one wnut17 "$data/ner/wnut17/wnut17train.conll" "$data/ner/wnut17/emerging.dev.conll" \
    "$data/ner/wnut17/emerging.test.annotated" "${WNUT_EPOCHS:-3}"
fi
