#!/usr/bin/env python3
"""tools/check_hf5_load.py — do folders that bertlab saves load in transformers 5?

transformers 5 reads a BERT tokenizer from tokenizer.json (it writes no vocab.txt), so bertlab's
save_pretrained writes tokenizer.json beside vocab.txt. This script checks, run once by hand:

 1. `bertlab init --task classify` folder (bert-tiny, bert-base-uncased vocabulary): AutoTokenizer
    gives the ids `bertlab tokenize --model DIR --json` gives, on hard texts and SST-2 lines.
 2. A folder bertlab saved after fine-tuning from a tokenizer.json-only folder with non-default
    options (the golden tests/tokenizer/golden/hf5/cased_strip_no_cjk: cased, strip_accents,
    tokenize_chinese_chars off): the options survive, and AutoTokenizer agrees with bertlab.
 3. With torch installed (WITH_TORCH=1 tools/setup_hf5_venv.sh): AutoModelForSequenceClassification
    loads both folders with no missing or unexpected keys, and its softmax over the logits
    matches `bertlab predict sentiment --json` (label and score) within 1e-5.

Run:  bash tools/setup_hf5_venv.sh && tools/.venv-hf5/bin/python tools/check_hf5_load.py
      (needs build/bert/bertlab; exits 1 on any difference). The same script under transformers 4
      (bash tools/setup_hf_venv.sh && tools/.venv-hf/bin/python tools/check_hf5_load.py) checks that
      4.x reads the folders too (tokenizer only: that venv has no torch).
Last run (2026-12-03): transformers 5.23.0 + torch 2.15.0: 107/107 texts same ids in both folders,
loading info clean, labels agree, largest score difference 1.5e-08; transformers 4.57.6: 107/107.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import transformers  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402
transformers.logging.set_verbosity_error()
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_hf5_golden import read_hard_cases  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
BERTLAB = ROOT / "build" / "bert" / "bertlab"
try:
    import torch
    from transformers import AutoModelForSequenceClassification
except ImportError:
    torch = None


def bertlab(*args, stdin=None):
    r = subprocess.run([str(BERTLAB), *args], input=stdin, capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        sys.exit(f"bertlab {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout


def texts():
    out = read_hard_cases(ROOT / "tests/tokenizer/hard_cases.txt")
    with open(ROOT / "data/sst2/dev.tsv", encoding="utf-8") as f:
        out += [line.split("\t")[0] for line in f][1:41]
    # one text a line on bertlab's stdin: leave out texts with line breaks
    return [t for t in out if "\n" not in t and "\r" not in t and "\x0b" not in t and "\x0c" not in t
            and "\x1c" not in t and "\x1d" not in t and "\x1e" not in t and "\x85" not in t
            and "\u2028" not in t and "\u2029" not in t and t.strip()]


def check_tokenizer(folder, inputs):
    tok = AutoTokenizer.from_pretrained(folder)
    ours = [json.loads(line) for line in bertlab("tokenize", "--model", str(folder), "--json", "-",
                                                  stdin="\n".join(inputs) + "\n").splitlines() if line.strip()]
    assert len(ours) == len(inputs), (len(ours), len(inputs))
    bad = [t for t, o in zip(inputs, ours) if tok(t)["input_ids"] != o["input_ids"]]
    print(f"  tokenizer: {type(tok).__name__}, {len(tok)} tokens, "
          f"{len(inputs) - len(bad)}/{len(inputs)} texts give bertlab's ids")
    for t in bad[:3]:
        print(f"    differs: {t!r}\n      hf {tok(t)['input_ids']}\n      us {ours[inputs.index(t)]['input_ids']}")
    return tok, not bad


def check_model(folder, tok, inputs):
    model, info = AutoModelForSequenceClassification.from_pretrained(folder, output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    model.eval()
    ours = [json.loads(line) for line in bertlab("predict", "sentiment", "--json", "--model", str(folder), "-",
                                                  stdin="\n".join(inputs) + "\n").splitlines() if line.strip()]
    worst = 0.0
    labels_ok = True
    with torch.no_grad():
        for t, o in zip(inputs, ours):
            enc = tok(t, return_tensors="pt", truncation=True, max_length=model.config.max_position_embeddings)
            p = torch.softmax(model(**enc).logits[0].double(), -1)
            best = int(p.argmax())
            labels_ok &= model.config.id2label[best] == o["label"]
            worst = max(worst, abs(float(p[best]) - o["score"]))
    good = not problems and labels_ok and worst <= 1e-5 and len(ours) == len(inputs)
    print(f"  model: {type(model).__name__}, loading info {problems or 'clean'}; labels agree: {labels_ok}; "
          f"largest score difference {worst:.2e} over {len(ours)} texts")
    return good


def main():
    if not BERTLAB.exists():
        sys.exit(f"{BERTLAB} not found: build it first (meson compile -C build bert/bertlab)")
    inputs = texts()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        a = tmp / "init_classify"
        bertlab("init", "--config", "bert-tiny", "--task", "classify", "--num-labels", "2", "--out", str(a))
        print(f"{a.name}: {sorted(os.listdir(a))}")
        tok, good = check_tokenizer(a, inputs)
        ok &= good
        if torch is not None:
            ok &= check_model(a, tok, inputs)

        # the golden transformers 5 tokenizer (no vocab.txt) on a bertlab model, fine-tuned: what
        # bertlab then saves must keep the options
        src = tmp / "hf5_src"
        shutil.copytree(a, src)
        os.remove(src / "vocab.txt")
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(ROOT / "tests/tokenizer/golden/hf5/cased_strip_no_cjk" / f, src / f)
        run = tmp / "run"
        d = "tests/data/tasks/"
        bertlab("finetune", "classify", "--model", str(src), "--train", d + "sst2_train.tsv", "--dev",
                d + "sst2_dev.tsv", "--epochs", "1", "--no-progress", "--out", str(run))
        b = run / "best"
        cfg = json.load(open(b / "tokenizer_config.json"))
        tj = json.load(open(b / "tokenizer.json"))
        kept = (cfg["do_lower_case"] is False and cfg["strip_accents"] is True and cfg["tokenize_chinese_chars"] is False
                and tj["normalizer"]["lowercase"] is False and tj["normalizer"]["strip_accents"] is True
                and tj["normalizer"]["handle_chinese_chars"] is False)
        print(f"finetuned from the golden cased_strip_no_cjk folder: {sorted(os.listdir(b))}; options kept: {kept}")
        ok &= kept
        tok, good = check_tokenizer(b, inputs)
        ok &= good
        if torch is not None:
            ok &= check_model(b, tok, inputs)
    print(f"transformers {transformers.__version__}, torch {torch.__version__ if torch else 'not installed'}: "
          f"{'all agree' if ok else 'DIFFERENCES above'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
