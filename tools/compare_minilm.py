#!/usr/bin/env python3
"""tools/compare_minilm.py — the real all-MiniLM-L6-v2 weights in bertlab and in transformers.

Both load models/all-MiniLM-L6-v2 (tools/fetch_minilm.sh) and embed the seed sentences:
bertlab through `bertlab embed --dump-hidden`, transformers through AutoModel + AutoTokenizer.
Prints the largest |difference| of last_hidden_state over real tokens (goal: 1e-4), the input
ids agreement, and the cosine similarities of the mean-pooled, normalised sentence embeddings
side by side.

Run:  tools/fetch_minilm.sh && tools/.venv-torch/bin/python tools/compare_minilm.py
"""
import pathlib
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file
from transformers import AutoModel, AutoTokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "all-MiniLM-L6-v2"
SENTENCES = [
    "The cat sat on the mat.",
    "It was a lazy afternoon.",
    "Elon Musk founded Tesla in California.",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "Transformers changed natural language processing.",
]

with tempfile.TemporaryDirectory() as tmp:
    dump = pathlib.Path(tmp) / "h.safetensors"
    subprocess.run([str(ROOT / "build/bert/bertlab"), "embed", "--model", str(MODEL), "--dump-hidden", str(dump)]
                   + SENTENCES, check=True, capture_output=True)
    ours = load_file(str(dump))

tok = AutoTokenizer.from_pretrained(MODEL)
model = AutoModel.from_pretrained(MODEL).eval()
enc = tok(SENTENCES, padding=True, return_tensors="pt")
with torch.no_grad():
    h = model(**enc).last_hidden_state
mask = enc["attention_mask"]
same_mask = torch.equal(mask, ours["attention_mask"].long())
m = mask.unsqueeze(-1).bool()
diff = (h - ours["last_hidden_state"]).abs().masked_select(m).max().item()
emb = (h * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
emb = torch.nn.functional.normalize(emb, dim=-1)
sim_ref = emb @ emb.T
mine = torch.nn.functional.normalize(ours["sentence_embedding"], dim=-1)
sim_ours = mine @ mine.T
print(f"torch {torch.__version__}; {len(SENTENCES)} sentences, {int(mask.sum())} tokens; same padding mask: {same_mask}")
print(f"max |last_hidden_state difference| over real tokens: {diff:.2e}  (goal <= 1e-4: {'OK' if diff <= 1e-4 else 'FAIL'})")
print(f"max |cosine similarity difference|: {(sim_ref - sim_ours).abs().max().item():.2e}")
print("pair                                                                      transformers  bertlab")
for i in range(len(SENTENCES)):
    for j in range(i + 1, len(SENTENCES)):
        if i < 3 and j < 3 or (i >= 3 and j >= 3):
            pair = f"{SENTENCES[i]!r} ~ {SENTENCES[j]!r}"
            print(f"{pair:74s} {sim_ref[i, j].item():12.4f} {sim_ours[i, j].item():8.4f}")
sys.exit(0 if diff <= 1e-4 and same_mask else 1)
