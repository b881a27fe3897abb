#!/usr/bin/env python3
"""tools/sst2_minilm.py — real result 1 of issue #5: all-MiniLM-L6-v2 fine-tuned on SST-2 with
`bertlab finetune classify`, beside a TF-IDF + logistic-regression baseline on the same split
(GLUE SST-2 train -> dev), both accuracies printed together. Not part of CI (it takes hours
on two CPU cores).

Usage (from the repository root, after tools/fetch_minilm.sh and a build):
  tools/.venv-torch/bin/python tools/sst2_minilm.py [--run runs/sst2-minilm] [--epochs 1]
      [--max-train-examples 0] [--lr 5e-5] [--threads 2] [--dtype float32|bfloat16] [--skip-train]
Needs scikit-learn in the Python that runs it (tools/.venv-torch/bin/pip install scikit-learn).

The baseline follows the seed's exercise: TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
and LogisticRegression(C=1.0, max_iter=1000), fit on train, scored on dev; nothing is tuned on dev.
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_tsv(path):
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        ti, li = header.index("sentence"), header.index("label")
        for line in f:
            cols = line.rstrip("\n").split("\t")
            texts.append(cols[ti])
            labels.append(int(cols[li]))
    return texts, labels


def tfidf_baseline(train, dev):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    (xt, yt), (xd, yd) = train, dev
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    clf = LogisticRegression(C=1.0, max_iter=1000)
    clf.fit(vec.fit_transform(xt), yt)
    pred = clf.predict(vec.transform(xd))
    return accuracy_score(yd, pred), f1_score(yd, pred)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bertlab", default=os.environ.get("BERTLAB", os.path.join(ROOT, "build", "bert", "bertlab")))
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "all-MiniLM-L6-v2"))
    ap.add_argument("--data", default=os.path.join(ROOT, "data", "sst2"))
    ap.add_argument("--run", default=os.path.join(ROOT, "runs", "sst2-minilm"))
    ap.add_argument("--epochs", default="1")
    ap.add_argument("--lr", default="5e-5")
    ap.add_argument("--batch-size", default="32")
    ap.add_argument("--max-length", default="128")
    ap.add_argument("--max-train-examples", default="0")
    ap.add_argument("--eval-every", default="500")
    ap.add_argument("--threads", default="0")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"],
                    help="compute dtype for fine-tuning and evaluation (bertlab --dtype)")
    ap.add_argument("--skip-train", action="store_true", help="only evaluate an existing RUN/best")
    a = ap.parse_args()

    train_tsv, dev_tsv = os.path.join(a.data, "train.tsv"), os.path.join(a.data, "dev.tsv")
    t0 = time.time()
    base_acc, base_f1 = tfidf_baseline(read_tsv(train_tsv), read_tsv(dev_tsv))
    print(f"TF-IDF + logistic regression: dev accuracy {base_acc:.4f}, F1 {base_f1:.4f} ({time.time() - t0:.0f} s)", flush=True)

    if not a.skip_train:
        cmd = [a.bertlab, "finetune", "classify", "--model", a.model, "--train", train_tsv, "--dev", dev_tsv,
               "--label-names", "negative,positive", "--epochs", a.epochs, "--lr", a.lr, "--batch-size", a.batch_size,
               "--max-length", a.max_length, "--group-by-length", "--eval-every", a.eval_every,
               "--max-train-examples", a.max_train_examples, "--threads", a.threads, "--dtype", a.dtype, "--out", a.run, "--log-every", "100"]
        print("+ " + " ".join(cmd), flush=True)
        t0 = time.time()
        subprocess.run(cmd, check=True)
        print(f"fine-tuning took {(time.time() - t0) / 60:.1f} min", flush=True)
    out = subprocess.run([a.bertlab, "eval", "classify", "--model", os.path.join(a.run, "best"), "--data", dev_tsv,
                          "--threads", a.threads, "--dtype", a.dtype, "--json"], check=True, capture_output=True, text=True).stdout
    ev = json.loads(out)
    print()
    print("SST-2 dev (872 sentences)              accuracy   F1 (positive)")
    print(f"TF-IDF (1-2 grams) + logistic regr.    {base_acc:.4f}     {base_f1:.4f}")
    print(f"all-MiniLM-L6-v2 fine-tuned (bertlab, {a.dtype})  {ev['accuracy']:.4f}     {ev['f1']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
