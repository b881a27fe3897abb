#!/usr/bin/env bash
# tools/pretrain_bert_mini.sh — the pre-training result of issue #5 (not part of CI): pre-trains
# bert-mini (4 layers, hidden 256; Turc et al. 2019) from scratch with MLM + NSP for at least 30
# minutes on WikiText-2 test (data/wikitext2) plus the Debian text of tools/fetch_debian_text.sh,
# plots the loss curves into docs/, and prints fill-mask examples from the model.
#
#   tools/pretrain_bert_mini.sh                   (RUN=runs/bert-mini-30min MINUTES=31)
#   BERTLAB=build/bert/bertlab RUN=runs/x MINUTES=60 STEPS=2000 tools/pretrain_bert_mini.sh
#   RESUME=1 tools/pretrain_bert_mini.sh          (continue an interrupted run)
#   BATCH=32 LR=1e-3 WARMUP=200 STEPS=2500 ...    (the second run in docs/pretraining.md)
#
# The learning rate decays linearly towards STEPS; the run stops at STEPS or after MINUTES,
# whichever comes first (STEPS is set above what 31 minutes reach on 2 CPU cores, so time
# decides, and the rate has not quite reached 0 there). Runs under `nice`, with OpenMP's threads
# sleeping instead of spinning when they wait (OMP_WAIT_POLICY=PASSIVE): on a machine shared with
# other jobs, spinning threads made training 3-4x slower (docs/pretraining.md).
set -euo pipefail
cd "$(dirname "$0")/.."

BERTLAB=${BERTLAB:-build/bert/bertlab}
RUN=${RUN:-runs/bert-mini-30min}
MINUTES=${MINUTES:-31}
STEPS=${STEPS:-1600}
THREADS=${THREADS:-2}
BATCH=${BATCH:-16}
LR=${LR:-5e-4}
WARMUP=${WARMUP:-50}
DEBIAN=${DEBIAN:-runs/corpus/debian_text.raw}
PLOT=${PLOT:-docs/pretraining_loss.png}

[[ -x "$BERTLAB" ]] || { echo "pretrain_bert_mini: $BERTLAB not built (meson setup build && ninja -C build)" >&2; exit 1; }
[[ -f "$DEBIAN" ]] || tools/fetch_debian_text.sh "$DEBIAN"

args=(pretrain --config bert-mini
      --corpus data/wikitext2/wiki.test.raw --corpus "$DEBIAN"
      --max-seq-length 128 --batch-size "$BATCH" --lr "$LR" --warmup-steps "$WARMUP" --steps "$STEPS"
      --max-minutes "$MINUTES" --eval-every 100 --eval-examples 256 --save-every 100 --keep 2
      --log-every 10 --seed 42 --threads "$THREADS" --out "$RUN")
[[ "${RESUME:-0}" == 1 ]] && args+=(--resume)

export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
mkdir -p "$RUN"
echo "pretrain_bert_mini: $BERTLAB ${args[*]}" | tee -a "$RUN/pretrain.log"
nice -n 10 "$BERTLAB" "${args[@]}" 2>&1 | tee -a "$RUN/pretrain.log"

"$BERTLAB" plot "$RUN" --out "$PLOT"

echo
echo "fill-mask examples from $RUN/final:"
"$BERTLAB" predict fill-mask --model "$RUN/final" --top-k 5 \
  "the capital of france is [MASK] ." \
  "the [MASK] sat on the mat ." \
  "in the beginning god created the [MASK] and the earth ." \
  "the kernel allocates [MASK] for the buffer ." \
  "python is a programming [MASK] ." \
  "he was born in [MASK] and died in 1990 ." \
  "the function returns a [MASK] of strings ." \
  "and god said , let there be [MASK] ." | tee "$RUN/fill_mask.txt"
