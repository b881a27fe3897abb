#!/usr/bin/env python3
"""tools/check_distilbert_hf.py — DistilBERT folders written by bertlab load in transformers.

For each head, `bertlab init --config distilbert-tiny --task T` writes a folder; transformers'
AutoModelFor... loads it and must report no missing, unexpected or mismatched keys and build the
class the folder names. Then the outputs are compared: `bertlab predict sentiment --json` against
the softmax of DistilBertForSequenceClassification, and `bertlab embed --json` against AutoModel's
mean-pooled, L2-normalised last hidden state, on the same sentences.

Run:  WITH_TORCH=1 tools/setup_hf5_venv.sh && tools/.venv-hf5/bin/python tools/check_distilbert_hf.py [build-dir]
"""
import json
import pathlib
import subprocess
import sys
import tempfile

import torch
from transformers import (AutoModel, AutoModelForMaskedLM, AutoModelForQuestionAnswering,
                          AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoTokenizer)

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXE = ROOT / (sys.argv[1] if len(sys.argv) > 1 else "build") / "bert" / "bertlab"
TEXTS = ["a gorgeous, witty film", "the plot is thin and the acting is flat"]


def bertlab(*args):
    return subprocess.run([str(EXE), *args], check=True, capture_output=True, text=True).stdout


def main():
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for task, auto, cls in [("mlm", AutoModelForMaskedLM, "DistilBertForMaskedLM"),
                                ("classify", AutoModelForSequenceClassification, "DistilBertForSequenceClassification"),
                                ("ner", AutoModelForTokenClassification, "DistilBertForTokenClassification"),
                                ("qa", AutoModelForQuestionAnswering, "DistilBertForQuestionAnswering")]:
            d = f"{tmp}/{task}"
            bertlab("init", "--config", "distilbert-tiny", "--task", task, "--seed", "3", "--out", d)
            model, info = auto.from_pretrained(d, output_loading_info=True)
            bad = {k: v for k, v in info.items() if v}
            assert not bad, f"{task}: {bad}"
            assert type(model).__name__ == cls, (task, type(model).__name__)
            print(f"{task}: {cls} loads, no missing or unexpected keys")
        d = f"{tmp}/classify"
        tok = AutoTokenizer.from_pretrained(d)
        enc = tok(TEXTS, padding=True, return_tensors="pt")
        enc.pop("token_type_ids", None)
        hf = AutoModelForSequenceClassification.from_pretrained(d).eval()
        with torch.no_grad():
            probs = torch.softmax(hf(**enc).logits, -1)
        ours = [json.loads(l) for l in bertlab("predict", "sentiment", "--json", "--model", d, *TEXTS).splitlines()]
        for i, o in enumerate(ours):
            diff = abs(o["score"] - probs[i].max().item())
            worst = max(worst, diff)
            print(f"classify: '{TEXTS[i]}': bertlab {o['score']:.7f}, transformers {probs[i].max().item():.7f}")
        base = AutoModel.from_pretrained(d).eval()
        with torch.no_grad():
            h = base(**enc).last_hidden_state
        m = enc["attention_mask"].unsqueeze(-1).float()
        ref = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1)
        got = torch.tensor(json.loads(bertlab("embed", "--json", "--model", d, *TEXTS))["embeddings"])
        diff = (got - ref).abs().max().item()
        worst = max(worst, diff)
        print(f"embed: largest difference {diff:.2e}")
    assert worst < 1e-5, worst
    print(f"ok: largest difference {worst:.2e}")


if __name__ == "__main__":
    main()
