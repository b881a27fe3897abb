#!/usr/bin/env python3
"""tools/gpu_profile.py — where the time of one bert-base pretraining step goes on the GPU,
bertlab next to PyTorch + transformers, kernel by kernel (run on the GPU machine).

  bertlab   Nsight Compute (ncu --profile-from-start off --metrics gpu__time_duration.sum) over
            the steps bench_cuda_bert --profile_steps=N brackets with cudaProfilerStart/Stop;
            and the same binary without ncu for the wall time per step
  PyTorch   torch.profiler (CUDA activity) over N steps of BertForPreTraining + AdamW, the step
            of tools/gpu_bench_e2e.py; and the wall time per step without the profiler

Printed per side: wall ms/step, the sum of kernel times per step (wall minus that is time the
GPU waited for the host), the number of kernels per step, and the kernels grouped into
categories (GEMM, softmax, layer norm, ...) and by name, largest first.

    python3 tools/gpu_profile.py --build build-gpu [--steps 2] [--out profile.json]
"""
import argparse
import collections
import csv
import io
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

CATEGORIES = [  # (category, regex on the kernel name), first match wins
    ("gemm", r"gemm|cutlass|sm90_xmma|xmma|cublas|Kernel2|ampere_s|sm80_|s1688|s16816|tf32"),
    ("attention(fused)", r"flash|fmha|attention|efficient_attention|sdpa"),
    ("softmax", r"softmax"),
    ("cross_entropy", r"cross_entropy|nll_loss|log_softmax"),
    ("layer_norm", r"layer_norm|layernorm"),
    ("gelu", r"gelu"),
    ("dropout", r"dropout|fused_dropout|philox|bernoulli"),
    ("embedding", r"embedding|index_select|indexSelect|gather|scatter"),
    ("adam", r"adam|multi_tensor_apply|foreach"),
    ("reduce", r"reduce|sum_|norm"),
    ("copy/transpose", r"copy|transpose|contiguous|permute|strided"),
    ("fill/memset", r"fill|memset|zero"),
    ("elementwise", r"elementwise|vectorized|unrolled|add|mul|binary|unary|where"),
]


def category(name):
    for cat, rx in CATEGORIES:
        if re.search(rx, name, re.IGNORECASE):
            return cat
    return "other"


def short(name, n=90):
    name = re.sub(r"\(.*", "", name) if not name.startswith("void ") else re.sub(r"^void\s+", "", name)
    name = re.sub(r"<.*", "<...>", name)
    return name if len(name) <= n else name[:n - 3] + "..."


def env_with_libs():
    env = dict(os.environ)
    extra = os.environ.get("BERTLAB_LD_LIBRARY_PATH")
    if extra:
        env["LD_LIBRARY_PATH"] = extra + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    return env


def bertlab_profile(build, steps, fused):
    exe = str(ROOT / build / "bench" / "bench_cuda_bert")
    flags = ["--tf32", "--model=bert-base", "--batch=32", "--seq=128"] + (["--fused_attention"] if fused else [])
    # wall time, no profiler
    p = subprocess.run([exe] + flags + ["--profile_steps=20"], capture_output=True, text=True, env=env_with_libs())
    m = re.search(r"profile: \d+ steps, ([0-9.]+) ms/step", p.stdout)
    if not m:
        raise RuntimeError("bench_cuda_bert --profile_steps: " + p.stdout[-2000:] + p.stderr[-2000:])
    wall = float(m.group(1))
    ncu = shutil.which("ncu") or "/usr/local/cuda/bin/ncu"
    cmd = [ncu, "--profile-from-start", "off", "--clock-control", "none", "--metrics", "gpu__time_duration.sum",
           "--csv", "--print-units", "base", exe] + flags + [f"--profile_steps={steps}"]
    print("$", " ".join(cmd), flush=True)
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env_with_libs())
    print(f"  ncu done in {time.time() - t0:.0f} s (rc {p.returncode})", flush=True)
    text = p.stdout[p.stdout.find('"ID"'):] if '"ID"' in p.stdout else ""
    if not text:
        raise RuntimeError("ncu printed no CSV: " + p.stdout[-3000:] + p.stderr[-3000:])
    kernels = []
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("Metric Name") != "gpu__time_duration.sum":
            continue
        v = float(row["Metric Value"].replace(",", ""))
        unit = row.get("Metric Unit", "nsecond")
        us = v * {"nsecond": 1e-3, "ns": 1e-3, "usecond": 1, "us": 1, "msecond": 1e3, "ms": 1e3, "second": 1e6}.get(unit, 1e-3)
        kernels.append((row["Kernel Name"], us))
    return wall, kernels


def torch_profile(steps):
    import torch
    from transformers import BertConfig, BertForPreTraining
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    dev = torch.device("cuda")
    torch.manual_seed(0)
    cfg = BertConfig()
    model = BertForPreTraining(cfg).to(dev).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    B, T = 32, 128
    ids = torch.randint(0, cfg.vocab_size, (B, T), device=dev)
    mask = torch.ones(B, T, dtype=torch.long, device=dev)
    types = (torch.arange(T, device=dev) >= T // 2).long().expand(B, T).contiguous()
    labels = torch.where(torch.rand(B, T, device=dev) < 0.15, ids, torch.full_like(ids, -100))
    nsp = torch.randint(0, 2, (B,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        out = model(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels, next_sentence_label=nsp)
        out.loss.backward()
        opt.step()

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(20):
        step()
    torch.cuda.synchronize()
    wall = (time.perf_counter() - t0) / 20 * 1e3
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
    kernels = []
    for e in prof.events():
        if str(getattr(e, "device_type", "")).endswith("CUDA"):
            kernels.append((e.name, e.time_range.elapsed_us()))
    return wall, kernels, getattr(model.config, "_attn_implementation", "?")


def report(label, wall, kernels, steps):
    total = sum(us for _, us in kernels) / steps
    print(f"\n== {label}: wall {wall:.2f} ms/step; kernels {total / 1e3:.2f} ms/step "
          f"({len(kernels) / steps:.0f} per step); GPU idle {max(0.0, wall - total / 1e3):.2f} ms/step")
    cats = collections.Counter()
    names = collections.Counter()
    counts = collections.Counter()
    for n, us in kernels:
        cats[category(n)] += us / steps
        names[short(n)] += us / steps
        counts[short(n)] += 1
    print("  by category (ms/step):")
    for c, us in cats.most_common():
        print(f"    {c:<18} {us / 1e3:8.3f}  {100 * us / total:5.1f}%")
    print("  by kernel (ms/step, launches/step):")
    for n, us in names.most_common(25):
        print(f"    {us / 1e3:8.3f}  {counts[n] / steps:5.0f}  {n}")
    return {"wall_ms": wall, "kernel_ms": total / 1e3, "kernels_per_step": len(kernels) / steps,
            "categories_ms": {c: us / 1e3 for c, us in cats.items()},
            "top_kernels_ms": {n: us / 1e3 for n, us in names.most_common(40)}}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build-gpu")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--fused", action="store_true", help="bertlab with --fused_attention")
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    res = {}
    wall, k = bertlab_profile(a.build, a.steps, a.fused)
    res["bertlab"] = report("bertlab" + (" (fused attention)" if a.fused else ""), wall, k, a.steps)
    if not a.skip_torch:
        wall, k, attn = torch_profile(a.steps)
        res["torch"] = report(f"torch + transformers ({attn} attention)", wall, k, a.steps)
    if a.out:
        pathlib.Path(a.out).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
