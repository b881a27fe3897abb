#!/usr/bin/env python3
"""tools/make_bf16_golden.py — golden files for bfloat16 autocast (tests/bert/test_bf16_model.cpp).

For the small random BERTs that tools/make_bert_golden.py wrote into tests/data/bert_parity/
(BertModel, BertForPreTraining), runs transformers on the same inputs (their
expected.safetensors) under torch.autocast("cpu", dtype=torch.bfloat16), eval mode, and saves
beside them autocast_bf16.safetensors: every hidden state, the last hidden state and pooled
output (BertModel), the loss (BertForPreTraining), all as float32.

Run:  tools/setup_torch_venv.sh && tools/.venv-torch/bin/python tools/make_bf16_golden.py
"""
import pathlib

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import BertForPreTraining, BertModel

ROOT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "bert_parity"


def run(name, cls, labels):
    folder = ROOT / name
    exp = load_file(str(folder / "expected.safetensors"))
    model = cls.from_pretrained(folder).eval()
    kwargs = dict(input_ids=exp["input_ids"], attention_mask=exp["attention_mask"],
                  token_type_ids=exp["token_type_ids"], output_hidden_states=True)
    for k in labels:
        kwargs[k] = exp["label." + k]
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(**kwargs)
    res = {}
    for i, h in enumerate(out.hidden_states):
        res[f"hidden_states.{i}"] = h.float()
    for k in ("last_hidden_state", "pooler_output"):
        if getattr(out, k, None) is not None:
            res["out." + k] = getattr(out, k).float()
    if getattr(out, "loss", None) is not None:
        res["loss"] = out.loss.float().reshape(())
    res = {k: v.detach().clone().contiguous() for k, v in res.items()}
    save_file(res, str(folder / "autocast_bf16.safetensors"),
              metadata={"made_by": "tools/make_bf16_golden.py", "transformers": transformers.__version__,
                        "torch": torch.__version__, "autocast": "cpu bfloat16"})
    for i, h in enumerate(out.hidden_states):
        d = (h.float() - exp[f"hidden_states.{i}"]).abs().max().item()
        print(f"{name}: hidden_states.{i} |autocast - fp32| max {d:.4f}")


def main():
    run("BertModel", BertModel, [])
    run("BertForPreTraining", BertForPreTraining, ["labels", "next_sentence_label"])


if __name__ == "__main__":
    main()
