#!/usr/bin/env python3
"""tools/make_distilbert_golden.py — golden files for the DistilBERT parity test
(tests/bert/test_distilbert.cpp), made as tools/make_bert_golden.py makes BERT's.

For the bare DistilBertModel and each head class of transformers, a small random-initialised
DistilBERT (2 layers, dim 32, 4 heads, FFN 64, vocab 128, 40 positions) is saved with
save_pretrained into tests/data/distilbert_parity/<Class>/, and expected.safetensors beside it
holds, for a padded batch in eval mode: inputs, labels, every hidden state, the logits, the
loss, the gradient of every parameter after one backward ("grad.<name>"), and every parameter
after three AdamW steps with linear warmup/decay ("adamw.<name>", float64; weight decay 0.01
except names ending in "bias" or "LayerNorm.weight", the rule of transformers' example scripts
and of bertlab's decay_groups). DistilBertModel_sinusoidal has sinusoidal_pos_embds on.

Run:  WITH_TORCH=1 tools/setup_hf5_venv.sh && tools/.venv-hf5/bin/python tools/make_distilbert_golden.py
"""
import pathlib
import shutil

import torch
import transformers
from safetensors.torch import save_file
from transformers import (DistilBertConfig, DistilBertForMaskedLM, DistilBertForQuestionAnswering,
                          DistilBertForSequenceClassification, DistilBertForTokenClassification, DistilBertModel,
                          get_linear_schedule_with_warmup)

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "distilbert_parity"
B, T = 3, 10
LENGTHS = [10, 7, 5]


def base_config(**kw):
    return DistilBertConfig(vocab_size=128, dim=32, n_layers=2, n_heads=4, hidden_dim=64,
                            max_position_embeddings=40, **kw)


def make_inputs(g):
    ids = torch.randint(5, 128, (B, T), generator=g)
    mask = torch.zeros(B, T, dtype=torch.long)
    for b, n in enumerate(LENGTHS):
        mask[b, :n] = 1
        ids[b, n:] = 0   # [PAD]
        ids[b, 0] = 2    # a [CLS]-like id
    return ids, mask


def run(name, model, labels):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    ids, mask = make_inputs(g)
    model.eval()
    folder = OUT / name
    if folder.exists():
        shutil.rmtree(folder)
    model.save_pretrained(folder, safe_serialization=True)
    kwargs = dict(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    kwargs.update(labels)
    out = model(**kwargs)
    exp = {"input_ids": ids, "attention_mask": mask}
    for k, v in labels.items():
        exp["label." + k] = v
    for i, h in enumerate(out.hidden_states):
        exp[f"hidden_states.{i}"] = h.detach()
    for k in ("logits", "start_logits", "end_logits", "last_hidden_state"):
        if hasattr(out, k) and getattr(out, k) is not None:
            exp["out." + k] = getattr(out, k).detach()
    if getattr(out, "loss", None) is not None:
        exp["loss"] = out.loss.detach().reshape(())
        out.loss.backward()
        for n, p in model.named_parameters():
            if p.grad is not None:
                exp["grad." + n] = p.grad.detach().clone()
        model = type(model).from_pretrained(folder).double().eval()
        kwargs = {k: (v.double() if torch.is_tensor(v) and v.is_floating_point() else v) for k, v in kwargs.items()}
        no_decay = ("bias", "LayerNorm.weight")
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
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
              metadata={"made_by": "tools/make_distilbert_golden.py", "transformers": transformers.__version__,
                        "torch": torch.__version__})
    print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, {len(exp)} expected tensors")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(2)
    mlm_labels = torch.full((B, T), -100)
    for b, n in enumerate(LENGTHS):
        for t in range(1, n, 3):
            mlm_labels[b, t] = int(torch.randint(5, 128, (1,), generator=g))

    torch.manual_seed(20)
    run("DistilBertModel", DistilBertModel(base_config()), {})
    torch.manual_seed(21)
    run("DistilBertModel_sinusoidal", DistilBertModel(base_config(sinusoidal_pos_embds=True)), {})
    torch.manual_seed(22)
    run("DistilBertForMaskedLM", DistilBertForMaskedLM(base_config()), {"labels": mlm_labels})
    torch.manual_seed(23)
    run("DistilBertForSequenceClassification", DistilBertForSequenceClassification(base_config(num_labels=3)),
        {"labels": torch.tensor([2, 0, 1])})
    torch.manual_seed(24)
    run("DistilBertForSequenceClassification_regression",
        DistilBertForSequenceClassification(base_config(num_labels=1)), {"labels": torch.tensor([0.5, -1.0, 2.0])})
    tok = torch.randint(0, 5, (B, T), generator=g)
    for b, n in enumerate(LENGTHS):
        tok[b, n:] = -100
        tok[b, 0] = -100
    torch.manual_seed(25)
    run("DistilBertForTokenClassification", DistilBertForTokenClassification(base_config(num_labels=5)),
        {"labels": tok})
    torch.manual_seed(26)
    run("DistilBertForQuestionAnswering", DistilBertForQuestionAnswering(base_config()),
        {"start_positions": torch.tensor([1, 3, 15]), "end_positions": torch.tensor([4, 5, 2])})


if __name__ == "__main__":
    main()
