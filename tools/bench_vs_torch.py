#!/usr/bin/env python3
"""tools/bench_vs_torch.py — bertlab against PyTorch + transformers on the CPU, in one run.

Same shapes, same thread count, random init, float32:
  * bert-base BertModel forward (inference, no autograd) at batch 1 x 128 and 8 x 128 tokens
  * the same model's 72 encoder GEMMs alone (nn.Linear / bertlab linear) at those shapes:
    OpenBLAS against PyTorch's MKL, the part of the forward ratio that is the GEMM library's
  * one bert-mini and one bert-base BertForMaskedLM training step (forward, backward, AdamW) at
    32 x 128 (--skip-base-train leaves the slow bert-base one out)
  * `bertlab predict sentiment` on the 872 SST-2 dev sentences, the whole process, against
    transformers with the same batching (longest first, batches of 32), same bert-base classifier
    (random init, saved to a temporary folder), and how many labels agree (--skip-sst2)
bertlab's side is build/bench/bench_bert (Google Benchmark, median of repetitions); PyTorch's
is timed here the same way (warm-up, then the median of repetitions of timed loops).
Prints the medians and the ratio bertlab / PyTorch (below 1.0: bertlab is faster).

With --cpu-time the figures are CPU seconds of the timing thread instead of wall-clock
seconds: on a machine shared with other jobs this is the robust measure for --threads 1
(a descheduled process accrues wall time but not CPU time). With several threads only wall
time is meaningful (the other threads' work is not counted), so use it on an idle machine.

With --dtype bfloat16: bertlab under bfloat16 autocast (BERTLAB_BENCH_DTYPE) against PyTorch under
torch.autocast("cpu", dtype=torch.bfloat16) and PyTorch in float32, the ratio taken to the
faster PyTorch figure (on a CPU without bfloat16 instructions its autocast is the slower one).

Run:  tools/setup_torch_venv.sh && ninja -C build bench/bench_bert &&
      tools/.venv-torch/bin/python tools/bench_vs_torch.py [--threads 2] [--reps 5] [--dtype bfloat16]
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


BUILD = "build"


def run_bertlab(threads, reps, cpu, dtype="float32", with_base_train=True):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), BERTLAB_NO_REEXEC="1", BERTLAB_BENCH_DTYPE=dtype)
    filt = [] if with_base_train else ["--benchmark_filter=-BM_bert_base_train_step"]
    out = subprocess.run([str(ROOT / BUILD / "bench/bench_bert"), "--benchmark_format=json", *filt,
                          f"--benchmark_repetitions={reps}", "--benchmark_report_aggregates_only=true",
                          "--benchmark_min_time=2"],
                         env=env, check=True, capture_output=True, text=True).stdout
    res = {}
    for b in json.loads(out)["benchmarks"]:
        # with one repetition Google Benchmark writes the run itself and no aggregates
        if b.get("aggregate_name") == "median" or (reps == 1 and b.get("run_type") == "iteration"):
            name = "/".join(part for part in b["run_name"].split("/") if not part.startswith("min_time:"))
            ms = b["cpu_time" if cpu else "real_time"] * {"ms": 1, "us": 1e-3, "ns": 1e-6, "s": 1e3}[b["time_unit"]]
            res[name] = ms
    return res


CLOCK = time.perf_counter


def time_torch(fn, reps, min_time=2.0):
    fn()  # warm-up
    fn()
    meds = []
    for _ in range(reps):
        n, t0, w0 = 0, CLOCK(), time.perf_counter()
        while True:
            fn()
            n += 1
            if time.perf_counter() - w0 >= min_time:
                break
        meds.append((CLOCK() - t0) / n * 1e3)
    return statistics.median(meds)


def run_torch(threads, reps, dtype="float32", with_base_train=True):
    import contextlib
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertModel
    torch.set_num_threads(threads)
    # bfloat16: torch.autocast on the CPU, as a user would (weights stay float32 and are cast
    # on every call)
    amp = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if dtype == "bfloat16" else contextlib.nullcontext
    torch.manual_seed(0)
    res = {}
    base = BertModel(BertConfig()).eval()
    for b in (1, 8):
        ids = torch.randint(0, 30522, (b, 128))
        mask = torch.ones(b, 128, dtype=torch.long)
        types = torch.zeros(b, 128, dtype=torch.long)

        def fwd():
            with torch.no_grad(), amp():
                base(input_ids=ids, attention_mask=mask, token_type_ids=types)
        res[f"BM_bert_base_forward/{b}/real_time"] = time_torch(fwd, reps)
        # the encoder's 72 GEMMs alone (query, key, value, attention output, FFN in, FFN out),
        # as BM_bert_base_linears times them: how much of the forward ratio is the GEMM library's
        linears = [m for n, m in base.named_modules() if n.startswith("encoder.") and isinstance(m, torch.nn.Linear)]
        assert len(linears) == 72, len(linears)
        x768, x3072 = torch.randn(b * 128, 768), torch.randn(b * 128, 3072)

        def gemms():
            with torch.no_grad(), amp():
                for m in linears:
                    m(x768 if m.in_features == 768 else x3072)
        res[f"BM_bert_base_linears/{b}/real_time"] = time_torch(gemms, reps)
    del base
    mini = BertForMaskedLM(BertConfig(hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                                      intermediate_size=1024)).train()
    ids = torch.randint(0, 30522, (32, 128))
    labels = torch.randint(0, 30522, (32, 128))
    mask = torch.ones(32, 128, dtype=torch.long)
    types = torch.zeros(32, 128, dtype=torch.long)
    no_decay = ("bias", "LayerNorm.weight")
    named = list(mini.named_parameters())
    opt = torch.optim.AdamW([{"params": [p for n, p in named if not n.endswith(no_decay)], "weight_decay": 0.01},
                             {"params": [p for n, p in named if n.endswith(no_decay)], "weight_decay": 0.0}],
                            lr=1e-4)

    def step():
        opt.zero_grad()
        with amp():
            loss = mini(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels).loss
        loss.backward()
        opt.step()
    res["BM_bert_mini_train_step/real_time"] = time_torch(step, reps, 3.0)
    attn = mini.config._attn_implementation
    del mini, opt
    if with_base_train:
        res["BM_bert_base_train_step/real_time"] = time_torch(train_step_fn(BertConfig(), amp), reps, 1.0)
    return res, torch.__version__, attn


def train_step_fn(config, amp):
    """One BertForMaskedLM step (forward, backward, AdamW with decay groups) at 32 x 128."""
    import torch
    from transformers import BertForMaskedLM
    torch.manual_seed(0)
    model = BertForMaskedLM(config).train()
    ids = torch.randint(0, config.vocab_size, (32, 128))
    labels = torch.randint(0, config.vocab_size, (32, 128))
    mask = torch.ones(32, 128, dtype=torch.long)
    types = torch.zeros(32, 128, dtype=torch.long)
    no_decay = ("bias", "LayerNorm.weight")
    named = list(model.named_parameters())
    opt = torch.optim.AdamW([{"params": [p for n, p in named if not n.endswith(no_decay)], "weight_decay": 0.01},
                             {"params": [p for n, p in named if n.endswith(no_decay)], "weight_decay": 0.0}],
                            lr=1e-4)

    def step():
        opt.zero_grad()
        with amp():
            loss = model(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels).loss
        loss.backward()
        opt.step()
    return step


def make_sst2_model(folder):
    """A bert-base sequence classifier (random init, seed 0, 2 labels) with bert-base-uncased's
    vocabulary (the MiniLM folder's tokenizer files), saved as safetensors for both sides."""
    import shutil
    import torch
    from transformers import BertConfig, BertForSequenceClassification
    torch.manual_seed(0)
    cfg = BertConfig(num_labels=2, id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1})
    BertForSequenceClassification(cfg).save_pretrained(folder, safe_serialization=True)
    src = ROOT / "models" / "all-MiniLM-L6-v2"
    for f in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(src / f, folder / f)


def sst2_sentences():
    with open(ROOT / "data" / "sst2" / "dev.tsv", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        i = header.index("sentence")
        return [line.rstrip("\n").split("\t")[i] for line in f]


def sst2_bertlab(folder, texts_file, threads, dtype, reps):
    """`bertlab predict sentiment` on the 872 SST-2 dev sentences: the whole process (model load,
    tokenization, length-sorted batches of 32), wall-clock seconds, median of reps; and its labels."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), BERTLAB_NO_REEXEC="1")
    out = folder / "bertlab.jsonl"
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run([str(ROOT / BUILD / "bert/bertlab"), "predict", "sentiment", "--model", str(folder),
                        "--input", str(texts_file), "--output", str(out), "--batch-size", "32",
                        "--threads", str(threads), "--dtype", dtype], env=env, check=True)
        times.append(time.perf_counter() - t0)
    with open(out, encoding="utf-8") as f:
        labels = [json.loads(line)["label"] for line in f]
    return statistics.median(times), labels


def sst2_torch(folder, texts, threads, dtype, reps):
    """The same with transformers: model load, tokenization, the sentences sorted longest first
    (as bertlab's run_head does) in batches of 32 padded to their longest, argmax labels."""
    import contextlib
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification
    torch.set_num_threads(threads)
    amp = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if dtype == "bfloat16" else contextlib.nullcontext
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        tok = AutoTokenizer.from_pretrained(folder)
        model = BertForSequenceClassification.from_pretrained(folder).eval()
        lengths = [len(ids) for ids in tok(texts)["input_ids"]]
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        labels = [None] * len(texts)
        with torch.no_grad(), amp():
            for s in range(0, len(order), 32):
                idx = order[s:s + 32]
                enc = tok([texts[i] for i in idx], padding=True, return_tensors="pt")
                pred = model(**enc).logits.argmax(-1).tolist()
                for i, p in zip(idx, pred):
                    labels[i] = model.config.id2label[p]
        times.append(time.perf_counter() - t0)
    return statistics.median(times), labels


def run_sst2(threads, reps, dtype):
    import tempfile
    texts = sst2_sentences()
    with tempfile.TemporaryDirectory(prefix="bench-sst2-") as d:
        folder = pathlib.Path(d)
        make_sst2_model(folder)
        texts_file = folder / "dev.txt"
        texts_file.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
        ours, our_labels = sst2_bertlab(folder, texts_file, threads, dtype, reps)
        res = {"ours": ours}
        for dt in (["bfloat16", "float32"] if dtype == "bfloat16" else ["float32"]):
            t, labels = sst2_torch(folder, texts, threads, dt, reps)
            res[dt] = t
            res[dt + "_agree"] = sum(a == b for a, b in zip(our_labels, labels))
        res["n"] = len(texts)
        return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--cpu-time", action="store_true", help="CPU time of the timing thread instead of wall time")
    ap.add_argument("--wait-policy", default="PASSIVE", choices=["PASSIVE", "ACTIVE"],
                    help="OMP_WAIT_POLICY for both sides (set before torch is imported)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"],
                    help="bfloat16: bertlab under autocast (--dtype bfloat16) against PyTorch under "
                         "torch.autocast and against PyTorch in float32; the ratio is to the faster of the two")
    ap.add_argument("--build-dir", default="build", help="the meson build folder with bench/bench_bert")
    ap.add_argument("--skip-base-train", action="store_true", help="leave out the bert-base training step (slow)")
    ap.add_argument("--skip-sst2", action="store_true", help="leave out the SST-2 dev `predict sentiment` run")
    a = ap.parse_args()
    global BUILD
    BUILD = a.build_dir
    os.environ["OMP_WAIT_POLICY"] = a.wait_policy
    global CLOCK  # noqa: PLW0603
    if a.cpu_time:
        CLOCK = time.thread_time
    ours = run_bertlab(a.threads, a.reps, a.cpu_time, a.dtype, not a.skip_base_train)
    theirs, version, attn = run_torch(a.threads, a.reps, a.dtype, not a.skip_base_train)
    fp32 = run_torch(a.threads, a.reps, "float32", not a.skip_base_train)[0] if a.dtype == "bfloat16" else None
    sst2 = None if a.skip_sst2 else run_sst2(a.threads, a.reps, a.dtype)
    print(f"threads {a.threads}, OMP_WAIT_POLICY={a.wait_policy}, medians of {a.reps} repetitions, "
          f"{'CPU' if a.cpu_time else 'wall-clock'} time; "
          f"PyTorch {version} (attention: {attn}); dtype {a.dtype}")
    if fp32 is not None:
        print(f"{'benchmark':38s} {'bertlab bf16':>12s} {'PyTorch bf16':>12s} {'PyTorch fp32':>12s} {'ratio':>7s}"
              "  (to PyTorch's faster)")
    else:
        print(f"{'benchmark':38s} {'bertlab ms':>11s} {'PyTorch ms':>11s} {'ratio':>7s}")
    for k, label in [("BM_bert_base_forward/1/real_time", "bert-base forward 1x128"),
                     ("BM_bert_base_forward/8/real_time", "bert-base forward 8x128"),
                     ("BM_bert_base_linears/1/real_time", "  its 72 GEMMs alone, 1x128"),
                     ("BM_bert_base_linears/8/real_time", "  its 72 GEMMs alone, 8x128"),
                     ("BM_bert_mini_train_step/real_time", "bert-mini train step 32x128"),
                     ("BM_bert_base_train_step/real_time", "bert-base train step 32x128")]:
        if k not in ours:
            continue
        if fp32 is not None:
            best = min(theirs[k], fp32[k])
            print(f"{label:38s} {ours[k]:12.1f} {theirs[k]:12.1f} {fp32[k]:12.1f} {ours[k] / best:7.2f}")
        else:
            print(f"{label:38s} {ours[k]:11.1f} {theirs[k]:11.1f} {ours[k] / theirs[k]:7.2f}")
    if sst2 is not None:
        label = f"SST-2 dev predict, {sst2['n']} sentences (s)"
        if fp32 is not None:
            best = min(sst2["bfloat16"], sst2["float32"])
            print(f"{label:38s} {sst2['ours']:12.2f} {sst2['bfloat16']:12.2f} {sst2['float32']:12.2f} "
                  f"{sst2['ours'] / best:7.2f}")
            print(f"  same labels as PyTorch: bf16 {sst2['bfloat16_agree']}/{sst2['n']}, "
                  f"fp32 {sst2['float32_agree']}/{sst2['n']} (random-init bert-base: near-ties flip)")
        else:
            print(f"{label:38s} {sst2['ours']:11.2f} {sst2['float32']:11.2f} {sst2['ours'] / sst2['float32']:7.2f}")
            print(f"  same labels as PyTorch: {sst2['float32_agree']}/{sst2['n']}")


if __name__ == "__main__":
    main()
