#!/usr/bin/env bash
# tools/gpu_cli_check.sh — the bertlab subcommands with --device $DEV, end to end, on small data
# (the GPU check's "cli" stage; tools/gpu_check.sh runs it). Each command's exit status and time
# is printed; the script goes on after a failure and exits 1 if any command failed.
#
#   tools/gpu_cli_check.sh BERTLAB_BINARY [WORK_DIR]
#   DEVICE=cpu PT_STEPS=20 BASE_STEPS=2 tools/gpu_cli_check.sh build/bert/bertlab   # smoke test here
#
# What runs (bert-tiny unless said; data from data/ and tests/data/tasks/):
#   pretrain   300 steps of MLM + NSP on WikiText-2, batch 64 x 64, on cuda; then 20 more steps
#              resumed from the final checkpoint with --model (a reload onto the GPU)
#   eval pretrain, predict fill-mask                                    (the pretrained model)
#   finetune classify  SST-2, 8,000 examples, 1 epoch, then eval classify + predict sentiment
#   finetune ner       the small WNUT-17 sample, 3 epochs, then eval ner + predict ner
#   finetune qa        the small SQuAD sample, 3 epochs, then eval qa + predict qa
#   pretrain bert-base 40 steps at batch 32 x 128 (--tf32): the CLI's own sequences per second,
#              data pipeline, logging and checkpoint included
set -uo pipefail
cd "$(dirname "$0")/.."
BL=${1:?usage: tools/gpu_cli_check.sh BERTLAB_BINARY [WORK_DIR]}
D=${2:-$(mktemp -d /tmp/bertlab-cli.XXXXXX)}
mkdir -p "$D"
T=tests/data/tasks
DEV=${DEVICE:-cuda}            # DEVICE=cpu: a smoke test of this script on a machine without a GPU
PT_STEPS=${PT_STEPS:-300}
BASE_STEPS=${BASE_STEPS:-40}
fails=0
step() {  # step <name> <command...>
  local name=$1; shift
  echo "==== $name: $*"
  local s; s=$(date +%s%N)
  "$@"
  local rc=$?
  local ms=$(( ($(date +%s%N) - s) / 1000000 ))
  printf 'cli %-22s rc=%-3s %4d.%03d s\n' "$name" "$rc" $((ms / 1000)) $((ms % 1000))
  [ "$rc" = 0 ] || fails=$((fails + 1))
  return $rc
}
common=(--device $DEV --no-progress)   # finetune

step pretrain "$BL" pretrain --config bert-tiny --corpus data/wikitext2/wiki.test.raw --max-seq-length 64 \
  --batch-size 64 --lr 1e-3 --warmup-steps 30 --steps $PT_STEPS --log-every 50 --seed 0 --out "$D/pt" --device $DEV
step pretrain_continue "$BL" pretrain --model "$D/pt/final" --corpus data/wikitext2/wiki.test.raw \
  --max-seq-length 64 --batch-size 64 --lr 1e-4 --steps 20 --log-every 10 --seed 1 --out "$D/pt2" --device $DEV
step eval_pretrain "$BL" eval pretrain --model "$D/pt/final" --corpus data/wikitext2/wiki.test.raw --device $DEV
step predict_fill_mask "$BL" predict fill-mask --model "$D/pt/final" --device $DEV "the [MASK] of the city is paris ."

step finetune_classify "$BL" finetune classify --model "$D/pt/final" --train data/sst2/train.tsv \
  --dev data/sst2/dev.tsv --max-train-examples 8000 --epochs 1 --max-length 64 --batch-size 32 --lr 2e-4 \
  --group-by-length --label-names negative,positive --log-every 50 --seed 0 --out "$D/sst2" --json "${common[@]}"
step eval_classify "$BL" eval classify --model "$D/sst2/best" --data data/sst2/dev.tsv --device $DEV
step predict_sentiment "$BL" predict sentiment --model "$D/sst2/best" --device $DEV \
  "a gorgeous, witty, seductive movie." "the plot is tedious and the acting is wooden."

step finetune_ner "$BL" finetune ner --config bert-tiny --train $T/wnut_train.conll --dev $T/wnut_dev.conll \
  --epochs 3 --batch-size 8 --lr 1e-3 --seed 0 --out "$D/ner" --json "${common[@]}"
step eval_ner "$BL" eval ner --model "$D/ner/best" --data $T/wnut_dev.conll --device $DEV
step predict_ner "$BL" predict ner --model "$D/ner/best" --device $DEV "Empire State Building is in New York"

step finetune_qa "$BL" finetune qa --config bert-tiny --train $T/squad_tiny.json --dev $T/squad_tiny.json \
  --epochs 3 --batch-size 8 --lr 1e-3 --max-length 192 --seed 0 --out "$D/qa" --json "${common[@]}"
step eval_qa "$BL" eval qa --model "$D/qa/best" --data $T/squad_tiny.json --device $DEV
step predict_qa "$BL" predict qa --model "$D/qa/best" --device $DEV --question "Where is the cat?" \
  --context "The cat sat on the mat in the kitchen."

step pretrain_bert_base "$BL" pretrain --config bert-base --corpus data/wikitext2/wiki.test.raw \
  --max-seq-length 128 --batch-size 32 --lr 1e-4 --warmup-steps 10 --steps $BASE_STEPS --log-every 10 --seed 0 \
  --tf32 --out "$D/base" --device $DEV

echo "cli commands failed: $fails"
[ "$fails" = 0 ]
