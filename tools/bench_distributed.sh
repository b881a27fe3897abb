#!/usr/bin/env bash
# tools/bench_distributed.sh — what data parallelism costs on this machine: a bert-mini
# pre-training step of 32 sequences x 128 tokens on one process (all cores) against N ranks
# (one core each, 32/N sequences each), and the all-reduce's share of the 2-rank step at two
# bucket sizes, with the buckets sent during backward (overlap 1) and after it (overlap 0).
# Then the same 2-rank step with ZeRO-1 (--zero-stage 1: reduce-scatter + all-gather instead of
# the all-reduce, no overlap). Step times are medians over the steps after the first two (metrics.jsonl's elapsed_s).
# Usage: tools/bench_distributed.sh [build-dir] [steps] [ranks]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
steps=${2:-12}
np=${3:-2}
bin=$build/bert/bertlab
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_WAIT_POLICY=PASSIVE
flags="--config bert-mini --corpus data/wikitext2/wiki.test.raw --max-seq-length 128 --steps $steps
       --holdout-every 0 --log-every 1 --seed 1 --no-progress"
median_step() {  # median of elapsed_s differences after step 2
  python3 - "$1" <<'PY'
import json, sys, statistics
t = [json.loads(l)["elapsed_s"] for l in open(sys.argv[1]) if '"elapsed_s"' in l]
d = [b - a for a, b in zip(t[2:], t[3:])]
print(f"{1e3 * statistics.median(d):.0f}")
PY
}
cores=$(nproc)
echo "bert-mini pre-training step, 32 x 128, $steps steps, $(date -u +%F), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
OMP_NUM_THREADS=$cores $bin pretrain $flags --batch-size 32 --out "$tmp/one" 2> "$tmp/one.err"
one=$(median_step "$tmp/one/metrics.jsonl")
echo "1 process x $cores threads, batch 32:            $one ms/step"
t=$((cores / np > 0 ? cores / np : 1))
for cfg in "25 1" "25 0" "4 1" "4 0"; do
  set -- $cfg
  mb=$1 ov=$2
  mpirun --oversubscribe --allow-run-as-root --mca btl self,vader -np "$np" -x OMP_NUM_THREADS=$t \
    -x BERTLAB_BUCKET_MB=$mb -x BERTLAB_DDP_OVERLAP=$ov -x OMP_WAIT_POLICY \
    $bin pretrain $flags --batch-size $((32 / np)) --out "$tmp/dp$mb$ov" 2> "$tmp/dp$mb$ov.err"
  dp=$(median_step "$tmp/dp$mb$ov/metrics.jsonl")
  echo "$np ranks x $t threads, batch $((32 / np)) each, buckets $mb MB, overlap $ov: $dp ms/step ($(python3 -c "print(f'{$dp/$one:.2f}')")x the single process)"
  grep "data parallel on" "$tmp/dp$mb$ov.err" | sed 's/^/    /'
done
mpirun --oversubscribe --allow-run-as-root --mca btl self,vader -np "$np" -x OMP_NUM_THREADS=$t -x OMP_WAIT_POLICY \
  $bin pretrain $flags --batch-size $((32 / np)) --zero-stage 1 --out "$tmp/zero" 2> "$tmp/zero.err"
dp=$(median_step "$tmp/zero/metrics.jsonl")
echo "$np ranks x $t threads, batch $((32 / np)) each, ZeRO-1 (25 MB buckets): $dp ms/step ($(python3 -c "print(f'{$dp/$one:.2f}')")x the single process)"
grep "ZeRO-1" "$tmp/zero.err" | sed 's/^/    /'
