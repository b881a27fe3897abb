#!/usr/bin/env python3
"""tools/check_hf_load.py — do folders written by bertlab load in transformers?

For each head, `bertlab init` writes a random bert-tiny folder; transformers loads it with
the matching AutoModelFor... class (and the tokenizer with AutoTokenizer), and the script
checks: no missing or unexpected keys, every tensor equal to the file, the MLM decoder tied,
and the tokenizer giving the reference ids for "The cat sat on the mat.".

Run:  tools/setup_torch_venv.sh && tools/.venv-torch/bin/python tools/check_hf_load.py
"""
import pathlib
import subprocess
import sys
import tempfile

import torch
import transformers
from safetensors.torch import load_file
from transformers import (AutoModelForMaskedLM, AutoModelForPreTraining, AutoModelForQuestionAnswering,
                          AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoTokenizer,
                          BertForNextSentencePrediction)

ROOT = pathlib.Path(__file__).resolve().parent.parent
BERTLAB = ROOT / "build" / "bert" / "bertlab"
CLASSES = {"pretrain": AutoModelForPreTraining, "mlm": AutoModelForMaskedLM, "nsp": BertForNextSentencePrediction,
           "classify": AutoModelForSequenceClassification, "ner": AutoModelForTokenClassification,
           "qa": AutoModelForQuestionAnswering}

ok = True
with tempfile.TemporaryDirectory() as tmp:
    for task, cls in CLASSES.items():
        out = pathlib.Path(tmp) / task
        labels = ["--num-labels", "3"] if task in ("classify", "ner") else []
        subprocess.run([str(BERTLAB), "init", "--config", "bert-tiny", "--task", task, "--out", str(out)] + labels,
                       check=True, capture_output=True)
        model, info = cls.from_pretrained(out, output_loading_info=True)
        problems = {k: v for k, v in info.items() if v}
        sd = load_file(str(out / "model.safetensors"))
        mine = model.state_dict()
        diff = [k for k, v in sd.items() if not torch.equal(v, mine[k])]
        tied = True
        if task in ("pretrain", "mlm"):
            tied = model.cls.predictions.decoder.weight.data_ptr() == model.bert.embeddings.word_embeddings.weight.data_ptr()
        tok = AutoTokenizer.from_pretrained(out)
        ids = tok("The cat sat on the mat.")["input_ids"]
        good = not problems and not diff and tied and ids == [101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102]
        ok &= good
        print(f"{task:9s} {type(model).__name__:32s} {'OK' if good else 'FAIL'}  loading info: {problems or 'clean'}; "
              f"tensors differing: {len(diff)}; decoder tied: {tied}; tokenizer ids ok: {ids[:3]}...")
print(f"transformers {transformers.__version__}: {'all loaded cleanly' if ok else 'PROBLEMS above'}")
sys.exit(0 if ok else 1)
