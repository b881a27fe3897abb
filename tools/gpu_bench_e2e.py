#!/usr/bin/env python3
"""tools/gpu_bench_e2e.py — one bert-base pretraining step on one GPU: bertlab against PyTorch.

The step, on both sides: BertForPreTraining (random init, bert-base: 12 layers, hidden 768,
vocab 30522) forward with MLM labels (15% of positions, the rest -100) and NSP labels, backward,
AdamW (lr 1e-4, weight decay 0.01); batch 32 x 128 tokens; float32 with TF32 tensor cores
allowed for the matrix products on both sides (torch.backends.cuda.matmul.allow_tf32 = True,
bertlab's --tf32 = cuda::set_allow_tf32(true)); training mode (dropout 0.1). Each step ends with
a device synchronisation on both sides, after three untimed warm-up steps.

  bertlab   build-gpu/bench/bench_cuda_bert --tf32 (Google Benchmark, median of repetitions;
            index checks deferred, so no host-device synchronisation inside the step), and
            again with --fused_attention (the fused attention kernel; the default off until
            this comparison says it is faster), and with --masked_only: the step `bertlab
            pretrain` takes, the MLM head (transform, 30522-way decoder, cross-entropy) on the
            ~15% labelled positions only, as NVIDIA's reference BERT does; the loss and the
            gradients are the same, the work is not, so it is printed apart from the
            like-for-like row
  PyTorch   transformers' BertForPreTraining in eager mode (its default attention
            implementation, printed), torch.optim.AdamW (its default, foreach, implementation)

Printed: milliseconds per step, sequences per second, the ratio bertlab / PyTorch in sequences
per second (goal >= 1.0), and the model FLOPs utilisation
    MFU = 6 * params * tokens per step / step time / peak
with params = the model's parameters counted once (110M; the tied MLM decoder is the word
embedding), 6 = forward (2) + backward (4) multiply-adds per parameter per token (Kaplan et al.
2020; attention-score FLOPs are left out), and peak = NVIDIA's dense TF32 tensor-core figure for
the card (half the datasheet's "with sparsity" number): H100 SXM / H200 SXM 494.7 TFLOP/s,
H100 NVL / H200 NVL 417.5, H100 PCIe 378. The figure used is printed with the result; MFU
against the non-tensor FP32 peak (H100/H200 SXM 66.9 TFLOP/s) is printed too.

Run on the GPU machine (tools/gpu_check.sh does):
    python3 tools/gpu_bench_e2e.py --build build-gpu --out gpu-logs/e2e.json
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent

# dense TF32 tensor-core and FP32 (CUDA core) peaks, TFLOP/s, from NVIDIA's datasheets
PEAKS = [  # (substrings of the device name, all of which must occur), tf32 dense, fp32
    (("H200", "NVL"), 417.5, 60.0),
    (("H200",), 494.7, 66.9),
    (("H100", "PCIe"), 378.0, 51.2),
    (("H100", "NVL"), 417.5, 60.0),
    (("H100",), 494.7, 66.9),
    (("A100",), 156.0, 19.5),
]


def peak_for(name):
    for keys, tf32, fp32 in PEAKS:
        if all(k.lower() in name.lower() for k in keys):
            return tf32, fp32, " ".join(keys)
    return None, None, None


# BertConfig.preset's sizes (bert/config.cpp): layers, hidden, heads; intermediate = 4 hidden
PRESETS = {"bert-tiny": (2, 128, 2), "bert-mini": (4, 256, 4), "bert-small": (4, 512, 8),
           "bert-medium": (8, 512, 8), "bert-base": (12, 768, 12), "bert-large": (24, 1024, 16)}


def run_bertlab(build, model, batch, seq, min_time, reps, flags, log, sync_checks=False):
    exe = ROOT / build / "bench" / "bench_cuda_bert"
    cmd = [str(exe), "--tf32", f"--model={model}", f"--batch={batch}", f"--seq={seq}", "--benchmark_format=json",
           f"--benchmark_min_time={min_time}", f"--benchmark_repetitions={reps}",
           "--benchmark_report_aggregates_only=true"]
    cmd += flags
    if sync_checks:
        cmd.append("--sync_index_checks")
    print("$", " ".join(cmd), flush=True)
    env = dict(os.environ)
    extra = os.environ.get("BERTLAB_LD_LIBRARY_PATH")  # libraries tools/gpu_check.sh unpacked (not for torch)
    if extra:
        env["LD_LIBRARY_PATH"] = extra + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if log:
        with open(log, "a") as f:
            f.write("$ " + " ".join(cmd) + "\n" + p.stdout + p.stderr + "\n")
    if p.returncode != 0:
        print(p.stdout[-3000:], p.stderr[-3000:], sep="\n")
        raise RuntimeError(f"bench_cuda_bert exited {p.returncode}")
    out = json.loads(p.stdout[p.stdout.index("{"):])
    med = [b for b in out["benchmarks"] if b.get("aggregate_name") == "median"]
    if not med:  # one repetition: no aggregates
        med = [b for b in out["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    b = med[0]
    ms = b["real_time"] * {"ms": 1, "us": 1e-3, "ns": 1e-6, "s": 1e3}[b["time_unit"]]
    print(f"  done in {time.time() - t0:.0f} s", flush=True)
    return {"ms_per_step": ms, "params": b.get("params"), "peak_MB": b.get("peak_MB"),
            "first_loss": b.get("first_loss"), "label": b.get("label")}


# bertlab's variants of the step: the same model, batch and optimizer
VARIANTS = [
    ("bertlab", []),                                   # composed attention, MLM head on every position
    ("bertlab_fused_attention", ["--fused_attention"]),  # the fused attention kernel
    ("bertlab_masked_only", ["--masked_only"]),        # MLM head on the labelled positions (bertlab pretrain)
]


def run_torch(model_name, batch, seq, min_time, reps, device="cuda"):
    import torch
    from transformers import BertConfig, BertForPreTraining
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    dev = torch.device(device)
    torch.manual_seed(0)
    layers, hidden, heads = PRESETS[model_name]
    cfg = BertConfig(num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=heads,
                     intermediate_size=4 * hidden)  # bert-base: bert-base-uncased's shape
    model = BertForPreTraining(cfg).to(dev).train()
    attn = getattr(model.config, "_attn_implementation", "unknown")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    ids = torch.randint(0, cfg.vocab_size, (batch, seq), device=dev)
    mask = torch.ones(batch, seq, dtype=torch.long, device=dev)
    types = (torch.arange(seq, device=dev) >= seq // 2).long().expand(batch, seq).contiguous()
    labels = torch.where(torch.rand(batch, seq, device=dev) < 0.15, ids, torch.full_like(ids, -100))
    nsp = torch.randint(0, 2, (batch,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        out = model(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels,
                    next_sentence_label=nsp)
        out.loss.backward()
        opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return out.loss

    first_loss = step().item()
    step()
    step()
    times = []
    for _ in range(reps):
        n, t0 = 0, time.perf_counter()
        while True:
            step()
            n += 1
            if time.perf_counter() - t0 >= min_time:
                break
        times.append((time.perf_counter() - t0) / n * 1e3)
    params = sum(p.numel() for p in model.parameters())  # tied weights are yielded once
    return {"ms_per_step": statistics.median(times), "params": params, "attn_implementation": attn,
            "peak_MB": torch.cuda.max_memory_allocated() / 1e6 if dev.type == "cuda" else None,
            "first_loss": first_loss, "torch": torch.__version__,
            "device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu"}


def device_name():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=30).stdout.strip().splitlines()
        return out[0] if out else ""
    except Exception:
        return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build-gpu")
    ap.add_argument("--model", default="bert-base", choices=sorted(PRESETS))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--min-time", type=float, default=4.0, help="seconds per repetition")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-fused", action="store_true", help="skip the bertlab run with --fused_attention")
    ap.add_argument("--no-masked-only", action="store_true", help="skip the bertlab run with --masked_only")
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--out", default=None, help="write the results here as JSON")
    ap.add_argument("--log", default=None, help="append the bench binary's output here")
    ap.add_argument("--torch-device", default="cuda", help="cpu: a smoke test of this script without a GPU")
    a = ap.parse_args()

    res = {"model": a.model, "batch": a.batch, "seq": a.seq, "tf32": True, "device": device_name()}
    errors = []
    for key, flags in VARIANTS:
        if key == "bertlab_fused_attention" and a.no_fused:
            continue
        if key == "bertlab_masked_only" and a.no_masked_only:
            continue
        try:
            res[key] = run_bertlab(a.build, a.model, a.batch, a.seq, a.min_time, a.reps, flags, a.log)
        except Exception as e:  # keep going: the other side's figures are still worth having
            errors.append(f"{key}: {e}")
            print(f"{key} FAILED: {e}; again with --sync_index_checks", flush=True)
            try:  # the deferred index checks are the newest part: without them, for the figures
                res[key] = run_bertlab(a.build, a.model, a.batch, a.seq, a.min_time, a.reps, flags, a.log,
                                       sync_checks=True)
                res[key]["sync_index_checks"] = True
            except Exception as e2:
                errors.append(f"{key} with --sync_index_checks: {e2}")
                print(f"{key} FAILED again: {e2}", flush=True)
    if not a.skip_torch:
        try:
            res["torch"] = run_torch(a.model, a.batch, a.seq, a.min_time, a.reps, a.torch_device)
            res["device"] = res["device"] or res["torch"]["device"]
        except Exception as e:
            errors.append(f"torch: {e}")
            print(f"torch FAILED: {e}", flush=True)

    tf32_peak, fp32_peak, matched = peak_for(res["device"])
    res["peak_tf32_tflops"], res["peak_fp32_tflops"] = tf32_peak, fp32_peak
    tokens = a.batch * a.seq
    print(f"\n{a.model} pretraining step, batch {a.batch} x {a.seq}, fp32 + TF32, on {res['device'] or '?'}")
    if tf32_peak:
        print(f"peak used for MFU: {tf32_peak} TFLOP/s dense TF32 ({matched}; NVIDIA datasheet, without sparsity)")
    else:
        print("peak: unknown card, MFU not computed")
    print(f"{'':32s} {'ms/step':>9s} {'seq/s':>9s} {'MFU(tf32)':>10s} {'MFU(fp32)':>10s}")
    for key in [k for k, _ in VARIANTS] + ["torch"]:
        r = res.get(key)
        if not r:
            continue
        r["seq_per_s"] = a.batch / (r["ms_per_step"] * 1e-3)
        params = r.get("params") or (res.get("torch") or {}).get("params")
        if params and tf32_peak:
            flops = 6.0 * params * tokens / (r["ms_per_step"] * 1e-3)
            r["achieved_tflops_6nd"] = flops * 1e-12
            r["mfu_tf32"] = flops * 1e-12 / tf32_peak
            r["mfu_fp32"] = flops * 1e-12 / fp32_peak
        name = key if key != "torch" else f"torch ({r.get('attn_implementation')} attention)"
        mfu = f"{r['mfu_tf32'] * 100:9.1f}% {r['mfu_fp32'] * 100:9.1f}%" if "mfu_tf32" in r else ""
        print(f"{name:32s} {r['ms_per_step']:9.2f} {r['seq_per_s']:9.1f} {mfu}")
    if "torch" in res:
        for key, _ in VARIANTS:
            if key in res:
                res[f"ratio_{key}_vs_torch"] = res[key]["seq_per_s"] / res["torch"]["seq_per_s"]
                print(f"ratio {key} / torch (seq/s): {res[f'ratio_{key}_vs_torch']:.3f}  (goal >= 1.0)")
    if "bertlab" in res and "bertlab_fused_attention" in res:
        faster = res["bertlab_fused_attention"]["ms_per_step"] < res["bertlab"]["ms_per_step"]
        res["fused_attention_faster"] = faster
        print(f"fused attention is {'FASTER' if faster else 'not faster'} than the composed ops in the whole step")
    res["errors"] = errors
    if a.out:
        pathlib.Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(res, f, indent=2)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
