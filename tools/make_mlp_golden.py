#!/usr/bin/env python3
"""tools/make_mlp_golden.py — golden file for the MLP test (tests/ops/test_mlp_golden.cpp).

A two-layer MLP (4 -> 8 -> 3, GELU) on a fixed batch, in float64 with PyTorch: the logits,
the cross-entropy loss (one target ignored with -100), every parameter gradient, then three
SGD steps (lr 0.1, momentum 0.9) with the loss at each step and the final parameters.
The C++ test rebuilds the same computation with bertlab and compares.

Run:  tools/setup_torch_venv.sh && tools/.venv-torch/bin/python tools/make_mlp_golden.py
Writes tests/data/mlp_golden.json (a few KB, committed).
"""
import json
import pathlib

import torch

torch.manual_seed(0)
dt = torch.float64
x = torch.randn(6, 4, dtype=dt)
targets = torch.tensor([0, 2, 1, -100, 2, 0])
l1 = torch.nn.Linear(4, 8).to(dt)
l2 = torch.nn.Linear(8, 3).to(dt)
params = {"l1.weight": l1.weight, "l1.bias": l1.bias, "l2.weight": l2.weight, "l2.bias": l2.bias}
init = {k: v.detach().clone() for k, v in params.items()}


def forward(inp):
    return l2(torch.nn.functional.gelu(l1(inp)))


logits = forward(x)
loss = torch.nn.functional.cross_entropy(logits, targets, ignore_index=-100)
loss.backward()
grads = {k: v.grad.detach().clone() for k, v in params.items()}

opt = torch.optim.SGD(list(params.values()), lr=0.1, momentum=0.9)
for p in params.values():
    p.grad = None
losses = []
for step in range(3):
    opt.zero_grad()
    l = torch.nn.functional.cross_entropy(forward(x), targets, ignore_index=-100)
    l.backward()
    opt.step()
    losses.append(l.item())


def flat(t):
    return {"shape": list(t.shape), "data": t.detach().reshape(-1).tolist()}


out = {
    "made_by": "tools/make_mlp_golden.py",
    "torch_version": torch.__version__,
    "x": flat(x),
    "targets": targets.tolist(),
    "init": {k: flat(v) for k, v in init.items()},
    "logits": flat(logits),
    "loss": loss.item(),
    "grads": {k: flat(v) for k, v in grads.items()},
    "sgd": {"lr": 0.1, "momentum": 0.9, "losses": losses,
            "final": {k: flat(v) for k, v in params.items()}},
}
path = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "mlp_golden.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {path} (torch {torch.__version__})")
