#!/usr/bin/env python3
"""tools/make_pipelines_golden.py — golden outputs of Hugging Face's pipelines on tiny models that
bertlab saved, for tests/tasks/test_pipelines_hf.cpp (which runs bertlab's pipelines on the same
folders and compares). This is tools/check_pipelines_hf.py made into a CI test: that script needs
real fine-tuned runs and torch; the test needs neither.

  bash tools/setup_pipelines_venv.sh
  ninja -C build bert/bertlab
  tools/.venv-pipelines/bin/python tools/make_pipelines_golden.py

Writes tests/data/pipelines/{classify,ner,qa,mlm,nli}/ (model folders made by `bertlab init`) and
tests/data/pipelines/pipelines_golden.json (the inputs and what transformers returned).

The models are random, 2 layers of width 16 over a vocabulary of ~250 tokens (each folder
~60 KB). They are initialised with initializer_range 0.5 instead of BERT's 0.02, so that the
logits differ by O(1): with 0.02 every score is near 1/num_labels and the labels would be decided
by differences near float32 rounding, so a label comparison would be fragile and a score
comparison would not see a real bug. The script refuses a model whose top-two scores anywhere are
closer than MIN_MARGIN, so that a label can never flip on rounding.
"""
import json
import os
import subprocess
import sys

import torch
import transformers
from transformers import pipeline

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "pipelines")
BERTLAB = os.environ.get("BERTLAB", os.path.join(ROOT, "build", "bert", "bertlab"))
MIN_MARGIN = 1e-3  # smallest gap allowed between the best and second-best score (labels, spans, tokens)

# Sentences written for these tests (no third-party text), with accents, an emoji (-> [UNK]),
# punctuation, a possessive and an @handle.
CLASSIFY = [
    "a warm, funny and clever film.",
    "the story drags from the first scene to the last",
    "it's a gentle and often moving trip.",
    "Zoë met José in Zürich 🙂",
]
NER = [
    "Anna Berg opened a bakery in Oslo.",
    "Maria Lopez met officials of the World Bank in New York and Geneva.",
    "I'm flying to Paris with @jane to see the Louvre 🙂 and Zürich",
]
QA = [
    ("Who won the match?", "The Red Foxes beat the Blue Owls at Mill Lane Park in Leeds on Sunday."),
    ("Where was the match played?", "The match was played on March 3, 2021, at Mill Lane Park."),
]
FILL = [
    "the cat sat on the [MASK].",
    "[MASK] is the capital of [MASK].",
]
ZERO_SHOT_TEXT = "The city council voted to build a new football stadium near the river."
ZERO_SHOT_LABELS = ["sports", "politics", "cooking"]
TEMPLATE = "This example is {}."


def vocab_tokens():
    """Specials, every printable ASCII character and its ## form (so any text tokenizes), then the
    lowercased, accent-stripped words of the inputs."""
    import unicodedata
    v = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    seen = set(v)

    def add(t):
        if t and t not in seen:
            seen.add(t)
            v.append(t)

    for c in range(33, 127):
        s = chr(c).lower()
        add(s)
        if chr(c).isalnum():
            add("##" + s)
    texts = CLASSIFY + NER + [q for p in QA for q in p] + FILL + [ZERO_SHOT_TEXT, TEMPLATE] + ZERO_SHOT_LABELS
    for t in texts:
        t = "".join(ch for ch in unicodedata.normalize("NFD", t.lower()) if unicodedata.category(ch) != "Mn")
        w = ""
        for ch in t + " ":
            if ch.isascii() and ch.isalnum():
                w += ch
            else:
                add(w)
                w = ""
    return v


def make_model(name, task, vocab_file, n_vocab, labels=None, seed=1):
    cfg = {
        "model_type": "bert", "vocab_size": n_vocab, "hidden_size": 16, "num_hidden_layers": 2,
        "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 64,
        "type_vocab_size": 2, "hidden_act": "gelu", "initializer_range": 0.5, "layer_norm_eps": 1e-12,
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "pad_token_id": 0,
    }
    if labels:
        cfg["id2label"] = {str(i): l for i, l in enumerate(labels)}
        cfg["label2id"] = {l: i for i, l in enumerate(labels)}
    d = os.path.join(OUT, name)
    cfg_file = os.path.join(OUT, name + ".config.json")
    with open(cfg_file, "w") as f:
        json.dump(cfg, f)
    subprocess.run([BERTLAB, "init", "--config", cfg_file, "--task", task, "--vocab", vocab_file,
                    "--seed", str(seed), "--out", d], check=True)
    os.remove(cfg_file)
    # both sides read the length limit from here (bertlab: min(positions, model_max_length))
    tc = os.path.join(d, "tokenizer_config.json")
    with open(tc) as f:
        t = json.load(f)
    t["model_max_length"] = 64
    with open(tc, "w") as f:
        json.dump(t, f, indent=2)
    return d


class TooClose(Exception):
    pass


def check_margin(what, scores):
    """Every pair of neighbouring scores (best first) at least MIN_MARGIN apart, so no order can
    flip on rounding."""
    s = sorted(scores, reverse=True)
    for a, b in zip(s, s[1:]):
        if not a - b >= MIN_MARGIN:
            raise TooClose(f"{what}: two scores are {a - b:.2e} apart")


def with_seed(first_seed, build):
    """build(seed) for seeds first_seed, first_seed + 100, ... until no two scores are too close."""
    for seed in range(first_seed, first_seed + 2000, 100):
        try:
            return build(seed)
        except TooClose as e:
            print(f"seed {seed}: {e}; trying the next one")
    sys.exit("no seed gave well-separated scores")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    vocab_file = os.path.join(OUT, "vocab.tmp.txt")
    toks = vocab_tokens()
    with open(vocab_file, "w") as f:
        f.write("\n".join(toks) + "\n")
    golden = {
        "made_by": "tools/make_pipelines_golden.py",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "note": "models made by `bertlab init` (random, initializer_range 0.5); outputs of transformers' pipelines on CPU, float32",
    }

    def classify(seed):
        d = make_model("classify", "classify", vocab_file, len(toks), ["negative", "neutral", "positive"], seed=seed)
        clf = pipeline("text-classification", model=d, device="cpu")
        out = clf(CLASSIFY, top_k=None)
        for t, o in zip(CLASSIFY, out):
            check_margin("classify " + t, [x["score"] for x in o])
        if len({o[0]["label"] for o in out}) < 2:
            raise TooClose("classify: every text gets the same label")
        return [{"text": t, "labels": o} for t, o in zip(CLASSIFY, out)]
    golden["text_classification"] = with_seed(3, classify)

    def ner(seed):
        d = make_model("ner", "ner", vocab_file, len(toks), ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"], seed=seed)
        p = pipeline("token-classification", model=d, aggregation_strategy="simple", device="cpu")
        for t in NER:  # the label of every token, from the model directly
            with torch.no_grad():
                probs = p.model(**p.tokenizer(t, return_tensors="pt")).logits.softmax(-1)[0]
            for row in probs:
                s = sorted(row.tolist(), reverse=True)
                if not s[0] - s[1] >= MIN_MARGIN:
                    raise TooClose(f"ner {t}: a token's two best labels are {s[0] - s[1]:.2e} apart")
        out = [{"text": t, "entities": [{"entity_group": e["entity_group"], "score": float(e["score"]), "word": e["word"],
                                         "start": e["start"], "end": e["end"]} for e in p(t)]} for t in NER]
        if sum(len(o["entities"]) for o in out) < 3:
            raise TooClose("ner: fewer than 3 entities to compare")
        return out
    golden["token_classification"] = with_seed(4, ner)

    def qa(seed):
        d = make_model("qa", "qa", vocab_file, len(toks), seed=seed)
        p = pipeline("question-answering", model=d, device="cpu")
        out = []
        for q, c in QA:
            a = p(question=q, context=c, top_k=3)
            check_margin("qa " + q, [x["score"] for x in a])
            out.append({"question": q, "context": c, "top_k": 3, "answers": a})
        return out
    golden["question_answering"] = with_seed(5, qa)

    def fill_mask(seed):
        d = make_model("mlm", "mlm", vocab_file, len(toks), seed=seed)
        p = pipeline("fill-mask", model=d, device="cpu")
        out = []
        for t in FILL:
            r = p(t, top_k=5)
            per_mask = r if isinstance(r[0], list) else [r]
            for m in per_mask:
                check_margin("fill-mask " + t, [x["score"] for x in m])
            out.append({"text": t, "top_k": 5, "masks": per_mask})
        return out
    golden["fill_mask"] = with_seed(6, fill_mask)

    def zero_shot(seed):
        d = make_model("nli", "classify", vocab_file, len(toks), ["contradiction", "neutral", "entailment"], seed=seed)
        p = pipeline("zero-shot-classification", model=d, device="cpu")
        out = []
        for multi in (False, True):
            r = p(ZERO_SHOT_TEXT, candidate_labels=ZERO_SHOT_LABELS, hypothesis_template=TEMPLATE, multi_label=multi)
            check_margin("zero-shot", r["scores"])
            out.append({"text": ZERO_SHOT_TEXT, "candidate_labels": ZERO_SHOT_LABELS, "hypothesis_template": TEMPLATE,
                        "multi_label": multi, "labels": r["labels"], "scores": r["scores"]})
        return out
    golden["zero_shot"] = with_seed(7, zero_shot)
    os.remove(vocab_file)
    with open(os.path.join(OUT, "pipelines_golden.json"), "w") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", os.path.join(OUT, "pipelines_golden.json"))


if __name__ == "__main__":
    main()
