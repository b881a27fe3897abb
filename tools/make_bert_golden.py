#!/usr/bin/env python3
"""tools/make_bert_golden.py — golden files for the BERT parity test (tests/bert/test_parity.cpp).

For each head class of transformers (and the bare BertModel), a small random-initialised
BERT (2 layers, hidden 32, 4 heads, FFN 64, vocab 128, 40 positions, 2 token types) is saved
with save_pretrained (safetensors) into tests/data/bert_parity/<Class>/, and an
expected.safetensors beside it holds, for a padded batch of text pairs in eval mode:
inputs, labels, every hidden state, the logits, the loss, the gradient of every parameter
("grad.<name>") after one backward, and every parameter after three AdamW steps with the
linear warmup/decay schedule ("adamw.<name>"; weight decay 0.01 except biases and LayerNorm
weights, as transformers' scripts group them; run in float64, see below). The C++ test loads the folder with
from_pretrained and compares.

Run:  tools/setup_torch_venv.sh && tools/.venv-torch/bin/python tools/make_bert_golden.py
"""
import pathlib
import shutil

import torch
import transformers
from safetensors.torch import save_file
from transformers import (BertConfig, BertForMaskedLM, BertForNextSentencePrediction, BertForPreTraining,
                          BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification,
                          BertModel, get_linear_schedule_with_warmup)

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "bert_parity"
B, T = 3, 10
LENGTHS = [10, 7, 5]


def base_config(**kw):
    return BertConfig(vocab_size=128, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                      intermediate_size=64, max_position_embeddings=40, type_vocab_size=2, **kw)


def make_inputs(g):
    ids = torch.randint(5, 128, (B, T), generator=g)
    mask = torch.zeros(B, T, dtype=torch.long)
    types = torch.zeros(B, T, dtype=torch.long)
    for b, n in enumerate(LENGTHS):
        mask[b, :n] = 1
        ids[b, n:] = 0          # [PAD]
        ids[b, 0] = 2           # a [CLS]-like id
        types[b, n // 2:n] = 1  # the second segment of a pair
    return ids, mask, types


def run(name, model, labels):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    ids, mask, types = make_inputs(g)
    model.eval()
    folder = OUT / name
    if folder.exists():
        shutil.rmtree(folder)
    model.save_pretrained(folder, safe_serialization=True)
    kwargs = dict(input_ids=ids, attention_mask=mask, token_type_ids=types, output_hidden_states=True)
    kwargs.update(labels)
    out = model(**kwargs)
    exp = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    for k, v in labels.items():
        exp["label." + k] = v
    for i, h in enumerate(out.hidden_states):
        exp[f"hidden_states.{i}"] = h.detach()
    for k in ("logits", "prediction_logits", "seq_relationship_logits", "start_logits", "end_logits",
              "last_hidden_state", "pooler_output"):
        if hasattr(out, k) and getattr(out, k) is not None:
            exp["out." + k] = getattr(out, k).detach()
    if getattr(out, "loss", None) is not None:
        exp["loss"] = out.loss.detach().reshape(())
        out.loss.backward()
        for n, p in model.named_parameters():
            exp["grad." + n] = p.grad.detach().clone()
        # AdamW in float64: a parameter whose exact gradient is 0 (the QA bias: softmax minus
        # one-hot sums to 0) gets a float32 rounding-noise gradient, and Adam turns noise into
        # a full-size step of either sign; in float64 the noise is far below eps.
        model = type(model).from_pretrained(folder).double().eval()
        kwargs = {k: (v.double() if torch.is_tensor(v) and v.is_floating_point() else v) for k, v in kwargs.items()}
        no_decay = ("bias", "LayerNorm.weight")
        named = list(model.named_parameters())
        groups = [{"params": [p for n, p in named if not n.endswith(no_decay)], "weight_decay": 0.01},
                  {"params": [p for n, p in named if n.endswith(no_decay)], "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups, lr=1e-3, eps=1e-8)
        sched = get_linear_schedule_with_warmup(opt, num_warmup_steps=1, num_training_steps=3)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            l = model(**kwargs).loss
            l.backward()
            opt.step()
            sched.step()
            losses.append(l.item())
        exp["adamw_losses"] = torch.tensor(losses, dtype=torch.float64)
        for n, p in model.named_parameters():
            exp["adamw." + n] = p.detach().clone()
    exp = {k: v.clone().contiguous() for k, v in exp.items()}
    save_file(exp, str(folder / "expected.safetensors"),
              metadata={"made_by": "tools/make_bert_golden.py", "transformers": transformers.__version__,
                        "torch": torch.__version__})
    print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, {len(exp)} expected tensors")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(2)
    mlm_labels = torch.full((B, T), -100)
    for b, n in enumerate(LENGTHS):
        for t in range(1, n, 3):
            mlm_labels[b, t] = int(torch.randint(5, 128, (1,), generator=g))
    nsp = torch.tensor([0, 1, 0])

    torch.manual_seed(10)
    run("BertModel", BertModel(base_config()), {})
    torch.manual_seed(11)
    run("BertForPreTraining", BertForPreTraining(base_config()), {"labels": mlm_labels, "next_sentence_label": nsp})
    torch.manual_seed(12)
    run("BertForMaskedLM", BertForMaskedLM(base_config()), {"labels": mlm_labels})
    torch.manual_seed(13)
    run("BertForNextSentencePrediction", BertForNextSentencePrediction(base_config()), {"labels": nsp})
    torch.manual_seed(14)
    run("BertForSequenceClassification", BertForSequenceClassification(base_config(num_labels=3)),
        {"labels": torch.tensor([2, 0, 1])})
    torch.manual_seed(15)
    run("BertForSequenceClassification_regression",
        BertForSequenceClassification(base_config(num_labels=1)), {"labels": torch.tensor([0.5, -1.0, 2.0])})
    tok = torch.randint(0, 5, (B, T), generator=g)
    for b, n in enumerate(LENGTHS):
        tok[b, n:] = -100
        tok[b, 0] = -100
    torch.manual_seed(16)
    run("BertForTokenClassification", BertForTokenClassification(base_config(num_labels=5)), {"labels": tok})
    torch.manual_seed(17)
    run("BertForQuestionAnswering", BertForQuestionAnswering(base_config()),
        {"start_positions": torch.tensor([1, 3, 15]), "end_positions": torch.tensor([4, 5, 2])})


if __name__ == "__main__":
    main()
