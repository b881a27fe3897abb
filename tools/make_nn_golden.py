#!/usr/bin/env python3
"""tools/make_nn_golden.py — golden file for tests/nn/test_nn.cpp: AdamW, SGD, schedules,
clip_grad_norm, from PyTorch and transformers (float64).

Run:  tools/setup_torch_venv.sh && tools/.venv-torch/bin/python tools/make_nn_golden.py
Writes tests/data/nn_golden.json (small, committed).
"""
import json
import pathlib

import torch
from transformers import get_constant_schedule_with_warmup, get_linear_schedule_with_warmup

torch.manual_seed(0)
dt = torch.float64


def flat(t):
    return {"shape": list(t.shape), "data": t.detach().reshape(-1).tolist()}


# five steps with a fixed gradient sequence, weight decay 0.01 on w, none on b,
# learning rate from a linear warmup (2 steps) / decay (5 steps) schedule
w0 = torch.randn(3, 4, dtype=dt)
b0 = torch.randn(4, dtype=dt)
grads = [(torch.randn(3, 4, dtype=dt), torch.randn(4, dtype=dt)) for _ in range(5)]


def run(opt_name):
    w = torch.nn.Parameter(w0.clone())
    b = torch.nn.Parameter(b0.clone())
    if opt_name == "adamw":
        opt = torch.optim.AdamW([{"params": [w], "weight_decay": 0.01}, {"params": [b], "weight_decay": 0.0}],
                                lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
    else:
        opt = torch.optim.SGD([{"params": [w], "weight_decay": 0.01}, {"params": [b], "weight_decay": 0.0}],
                              lr=1e-2, momentum=0.9)
    sched = get_linear_schedule_with_warmup(opt, num_warmup_steps=2, num_training_steps=5)
    lrs = []
    for gw, gb in grads:
        w.grad = gw.clone()
        b.grad = gb.clone()
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return {"w": flat(w), "b": flat(b), "lrs": lrs}


def lambdas(make, n, **kw):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    s = make(opt, **kw)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    return out


# clip_grad_norm
cw = torch.nn.Parameter(torch.zeros(3, 4, dtype=dt))
cb = torch.nn.Parameter(torch.zeros(4, dtype=dt))
cw.grad = grads[0][0].clone() * 3
cb.grad = grads[0][1].clone() * 3
norm = torch.nn.utils.clip_grad_norm_([cw, cb], 1.0)

out = {
    "made_by": "tools/make_nn_golden.py",
    "torch_version": torch.__version__,
    "w0": flat(w0),
    "b0": flat(b0),
    "grads": [{"w": flat(gw), "b": flat(gb)} for gw, gb in grads],
    "adamw": run("adamw"),
    "sgd": run("sgd"),
    "linear_schedule_warmup3_total10": lambdas(get_linear_schedule_with_warmup, 12, num_warmup_steps=3,
                                               num_training_steps=10),
    "constant_schedule_warmup4": lambdas(get_constant_schedule_with_warmup, 7, num_warmup_steps=4),
    "clip": {"max_norm": 1.0, "norm": norm.item(), "w": flat(cw.grad), "b": flat(cb.grad)},
}
path = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "nn_golden.json"
path.write_text(json.dumps(out) + "\n")
print(f"wrote {path}")
