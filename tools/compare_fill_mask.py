#!/usr/bin/env python3
"""tools/compare_fill_mask.py — checks `bertlab predict fill-mask` against transformers' fill-mask
pipeline on the same model folder (e.g. a `bertlab pretrain` run's final/): same tokens, token_str
and sequence, scores within 1e-5. Needs a Python with torch + transformers (tools/setup_torch_venv.sh).

  tools/.venv-torch/bin/python tools/compare_fill_mask.py runs/pretrain/final [--bertlab build/bert/bertlab]
"""
import argparse
import json
import subprocess
import sys

from transformers import pipeline

TEXTS = [
    "the cat sat on the [MASK] .",
    "[MASK] is the capital of [MASK] .",
    "in the beginning god created the [MASK] and the earth .",
]

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--bertlab", default="build/bert/bertlab")
ap.add_argument("--top-k", type=int, default=5)
a = ap.parse_args()

out = subprocess.run([a.bertlab, "predict", "fill-mask", "--json", "--top-k", str(a.top_k), "--model", a.model, *TEXTS],
                     check=True, capture_output=True, text=True).stdout
ours = [json.loads(line) for line in out.splitlines()]
fm = pipeline("fill-mask", model=a.model, device=-1)
worst = 0.0
for text, o in zip(TEXTS, ours):
    h = fm(text, top_k=a.top_k)
    flat = lambda r: r if isinstance(r[0], dict) else [x for row in r for x in row]
    for x, y in zip(flat(h), flat(o)):
        for k in ("token", "token_str", "sequence"):
            if x[k] != y[k]:
                sys.exit(f"{text!r}: transformers {k}={x[k]!r}, bertlab {k}={y[k]!r}")
        worst = max(worst, abs(x["score"] - y["score"]))
print(f"{len(TEXTS)} texts: tokens, token_str and sequence identical; max |score difference| {worst:.2e}")
sys.exit(0 if worst <= 1e-5 else 1)
