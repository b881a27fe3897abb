#!/usr/bin/env python3
"""bench/tokenizer_vs_hf.py — our tokenizer against Hugging Face `tokenizers`, one thread each,
same text, same run: checks that every id is identical, then prints throughput and the ratio.

HF side: BertTokenizerFast's Rust backend (what `transformers` users run), `encode_batch` over all
lines with TOKENIZERS_PARALLELISM=false and RAYON_NUM_THREADS=1 (one thread, no per-call Python
overhead), plus the `tokenizers` BertWordPieceTokenizer for reference. Our side: the
bench_tokenizer binary in --encode-file mode (one `encode` per line, full Encoding with offsets).
Best of --repeat runs each.

Usage (from the repository root, after `bash tools/setup_hf_venv.sh` and building build-tok):
    tools/.venv-hf/bin/python bench/tokenizer_vs_hf.py [--bin build-tok/bench/bench_tokenizer] [--repeat 5]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import tokenizers  # noqa: E402
from tokenizers import BertWordPieceTokenizer  # noqa: E402
from transformers import BertTokenizerFast  # noqa: E402
import transformers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_sets():
    sst2 = [r.split("\t")[0] for r in open(os.path.join(ROOT, "data/sst2/train.tsv"), encoding="utf-8").read().split("\n")[1:] if r]
    wiki = [l for l in open(os.path.join(ROOT, "data/wikitext2/wiki.test.raw"), "rb").read().decode("utf-8").split("\r\n") if l]
    return {"SST-2 train": sst2, "WikiText-2 test": wiki}


def best_time(fn, repeat):
    best, out = 1e30, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build-tok", "bench", "bench_tokenizer"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    vocab = os.path.join(ROOT, "data/vocab/bert-base-uncased-vocab.txt")
    fast = BertTokenizerFast(vocab, do_lower_case=True).backend_tokenizer
    wordpiece = BertWordPieceTokenizer(vocab, lowercase=True)
    print(f"tokenizers {tokenizers.__version__}, transformers {transformers.__version__}; one thread each; "
          f"best of {args.repeat}; bert-base-uncased")
    print(f"{'text':18} {'MB':>6} {'tokens':>9} | {'HF fast MB/s':>12} {'HF WordPiece MB/s':>17} {'ours MB/s':>9} "
          f"{'ours Mtok/s':>11} | {'ours / HF fast':>14} {'identical':>9}")
    ok = True
    for name, lines in load_sets().items():
        nbytes = sum(len(l.encode("utf-8")) for l in lines)
        t_fast, encs = best_time(lambda: fast.encode_batch(lines), args.repeat)
        t_wp, _ = best_time(lambda: wordpiece.encode_batch(lines), args.repeat)
        with tempfile.TemporaryDirectory() as d:
            inp, ids_out = os.path.join(d, "in.txt"), os.path.join(d, "ids.txt")
            with open(inp, "w", encoding="utf-8", newline="\n") as f:
                f.write("\n".join(lines))
            r = subprocess.run([args.bin, f"--encode-file={inp}", f"--ids-out={ids_out}", f"--repeat={args.repeat}"],
                               cwd=ROOT, capture_output=True, text=True, check=True)
            ours = json.loads(r.stdout.strip().splitlines()[-1])
            our_ids = [[int(x) for x in line.split()] for line in open(ids_out).read().split("\n")[:-1]]
        hf_ids = [e.ids for e in encs]
        same = our_ids == hf_ids
        ok &= same
        if not same:
            bad = next(i for i, (a, b) in enumerate(zip(our_ids, hf_ids)) if a != b) if len(our_ids) == len(hf_ids) else -1
            print(f"  MISMATCH on line {bad}: {lines[bad][:100]!r}" if bad >= 0 else f"  MISMATCH: {len(our_ids)} vs {len(hf_ids)} lines")
        ntok = sum(len(x) for x in hf_ids)
        mb = nbytes / 1e6
        print(f"{name:18} {mb:6.2f} {ntok:9d} | {mb / t_fast:12.2f} {mb / t_wp:17.2f} {mb / ours['seconds']:9.2f} "
              f"{ntok / ours['seconds'] / 1e6:11.2f} | {t_fast / ours['seconds']:13.2f}x {'yes' if same else 'NO':>9}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
