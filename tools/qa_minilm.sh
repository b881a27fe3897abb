#!/usr/bin/env bash
# tools/qa_minilm.sh — real result 3 of issue #5: all-MiniLM-L6-v2 fine-tuned for extractive
# question answering with `bertlab finetune qa`, SQuAD v1.1 exact match and F1 (the official
# normalisation) on held-out questions. Not part of CI (hours on two CPU cores).
#
# The split: ../shared/data/squad holds a 44-article part of the official SQuAD v1.1 train set
# (train-v1.1-subset.json, 11,877 questions) and the official dev set (dev-v1.1.json, 48
# articles, 10,570 questions; no article in both). The model trains on TRAIN_EXAMPLES questions
# drawn at random (seeded) from train-v1.1-subset.json and is scored on the first EVAL_EXAMPLES
# questions of dev-v1.1.json (whole articles in the official order, starting with
# Super_Bowl_50); 0 means all.
#
# Usage (from the repository root, after tools/fetch_minilm.sh and a build):
#   tools/qa_minilm.sh
# Environment: BERTLAB (build/bert/bertlab), DATA (../shared/data), RUNS (runs), THREADS (0),
#   TRAIN_EXAMPLES (6000), EVAL_EXAMPLES (2000), EPOCHS (1), LR (1e-4), MAXLEN (256),
#   STRIDE (128), BATCH (16).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bertlab=${BERTLAB:-$root/build/bert/bertlab}
data=${DATA:-$root/../shared/data}
runs=${RUNS:-$root/runs}
model=${MODEL:-$root/models/all-MiniLM-L6-v2}
out="$runs/qa-squad-minilm"
train="$data/squad/train-v1.1-subset.json"
dev="$data/squad/dev-v1.1.json"
for f in "$train" "$dev"; do
  [ -f "$f" ] || { echo "qa_minilm: $f not found (set DATA to the shared data folder)" >&2; exit 1; }
done
"$root/tools/fetch_minilm.sh" > /dev/null

common=(--max-length "${MAXLEN:-256}" --doc-stride "${STRIDE:-128}" --threads "${THREADS:-0}")
echo "== SQuAD v1.1: ${TRAIN_EXAMPLES:-6000} training questions, ${EPOCHS:-1} epoch(s), scored on the first ${EVAL_EXAMPLES:-2000} dev questions"
t0=$SECONDS
"$bertlab" finetune qa --model "$model" --train "$train" --dev "$dev" \
  --max-train-examples "${TRAIN_EXAMPLES:-6000}" --max-eval-examples "${EVAL_EXAMPLES:-2000}" \
  --epochs "${EPOCHS:-1}" --lr "${LR:-1e-4}" --batch-size "${BATCH:-16}" --group-by-length --log-every 50 \
  "${common[@]}" --out "$out"
echo "fine-tuning and evaluation took $(( (SECONDS - t0) / 60 )) min"
"$bertlab" eval qa --model "$out/best" --data "$dev" --max-examples "${EVAL_EXAMPLES:-2000}" "${common[@]}" --json \
  > "$out/eval_dev.json"
python3 - "$out/eval_dev.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
print(f"SQuAD v1.1 dev (first {j['n']} questions, {j['features']} windows): exact match {j['exact_match']:.2f}, F1 {j['f1']:.2f}")
EOF
