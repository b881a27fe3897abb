#!/usr/bin/env python3
"""tools/make_tasks_golden.py — golden files for tests/tasks/ (fine-tuning data, metrics and
pipelines), made with the reference implementations:

  tests/data/tasks/seqeval_golden.json   seqeval 1.2 (default = conlleval mode, and strict IOB2):
                                         precision / recall / F1 / accuracy, per-type scores
  tests/data/tasks/squad_golden.json     the official SQuAD v1.1 evaluate-v1.1.py functions
                                         (normalize_answer, exact_match_score, f1_score), copied
                                         below verbatim, on hand-picked strings
  tests/data/tasks/qa_golden.json        transformers' run_qa.py prepare_train_features /
                                         prepare_validation_features on squad_tiny.json with
                                         BertTokenizerFast (bert-base-uncased vocab), max_seq_length
                                         64, doc_stride 16; then utils_qa.py
                                         postprocess_qa_predictions (n_best 20, max_answer_length
                                         30) on seeded random logits
  tests/data/tasks/group_golden.json     TokenClassificationPipeline.group_entities
                                         (aggregation_strategy="simple") on hand-made token lists

Usage: tools/.venv-torch/bin/pip install seqeval && tools/.venv-torch/bin/python tools/make_tasks_golden.py
"""
import collections
import json
import os
import re
import shutil
import string
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "tasks")
HEADER = "made by tools/make_tasks_golden.py"


def dump(name, obj):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", name)


# --- seqeval ------------------------------------------------------------------------------
def seqeval_cases():
    from seqeval.metrics import accuracy_score, classification_report, f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2

    cases = [
        # name, gold, pred, strict-able (IOB2 prefixes only)
        ("perfect", [["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "B-LOC"]]),
        ("seqeval README", [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]],
         [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]),
        ("boundary and type errors", [["B-PER", "I-PER", "O", "B-ORG", "I-ORG", "O", "B-LOC"]],
         [["B-PER", "O", "O", "B-LOC", "I-LOC", "O", "B-LOC"]]),
        ("stray I- starts a chunk in conlleval, not in strict", [["O", "B-PER", "I-PER", "O", "B-LOC"]],
         [["O", "I-PER", "I-PER", "O", "I-LOC"]]),
        ("type switch inside", [["B-PER", "I-PER", "I-PER", "O"]], [["B-PER", "I-PER", "I-LOC", "O"]]),
        ("B after B", [["B-PER", "B-PER", "O"]], [["B-PER", "I-PER", "O"]]),
        ("no predictions", [["B-PER", "O"], ["O", "B-LOC"]], [["O", "O"], ["O", "O"]]),
        ("no gold entities", [["O", "O", "O"]], [["O", "B-PER", "O"]]),
        ("entities across sentence ends", [["O", "B-ORG"], ["I-ORG", "O"]], [["O", "B-ORG"], ["I-ORG", "O"]]),
        ("WNUT types with dashes", [["B-creative-work", "I-creative-work", "O", "B-person"]],
         [["B-creative-work", "I-creative-work", "O", "B-corporation"]]),
        ("many", [["B-PER", "I-PER", "O", "B-ORG", "O", "B-LOC", "I-LOC", "I-LOC", "O", "B-MISC"],
                  ["O", "B-ORG", "I-ORG", "O", "B-PER", "O"], ["B-LOC", "O", "B-LOC", "I-LOC"]],
         [["B-PER", "I-PER", "O", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "O", "O", "B-MISC"],
          ["O", "B-ORG", "I-ORG", "O", "B-PER", "B-PER"], ["I-LOC", "O", "B-LOC", "I-LOC"]]),
        ("IOBES in conlleval mode", [["S-PER", "O", "B-LOC", "E-LOC"]], [["S-PER", "O", "B-LOC", "I-LOC"]]),
    ]
    out = []
    for name, gold, pred in cases:
        c = {"name": name, "gold": gold, "pred": pred}
        c["default"] = {
            "precision": precision_score(gold, pred), "recall": recall_score(gold, pred),
            "f1": f1_score(gold, pred), "accuracy": accuracy_score(gold, pred),
            "per_type": {k: {"precision": v["precision"], "recall": v["recall"], "f1": v["f1-score"], "support": int(v["support"])}
                         for k, v in classification_report(gold, pred, output_dict=True, zero_division=0).items()
                         if not k.endswith(" avg")},
        }
        if all(t[0] in "BIO" for s in gold + pred for t in s):
            c["strict"] = {
                "precision": precision_score(gold, pred, mode="strict", scheme=IOB2),
                "recall": recall_score(gold, pred, mode="strict", scheme=IOB2),
                "f1": f1_score(gold, pred, mode="strict", scheme=IOB2),
            }
        out.append(c)
    dump("seqeval_golden.json", {"made_by": HEADER + " (seqeval " + __import__("seqeval").__version__ + ")", "cases": out}
         if hasattr(__import__("seqeval"), "__version__") else {"made_by": HEADER + " (seqeval)", "cases": out})


# --- SQuAD v1.1 official evaluation (evaluate-v1.1.py, verbatim) ---------------------------
def normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace."""
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def exact_match_score(prediction, ground_truth):
    return (normalize_answer(prediction) == normalize_answer(ground_truth))


def squad_cases():
    pairs = [
        ("Denver Broncos", "Denver Broncos"),
        ("the Denver Broncos", "Denver Broncos"),
        ("Denver Broncos!", "denver broncos"),
        ("Broncos", "Denver Broncos"),
        ("Santa Clara, California", "Levi's Stadium in the San Francisco Bay Area at Santa Clara, California."),
        ("an apple a day", "apple day"),
        ("theory of the atom", "atom theory"),
        ("A-ha", "aha"),
        ("über_cool café", "Über cool Café"),
        ("naïve  \t approach\n", "Naïve approach"),
        ("the the the", ""),
        ("", "anything"),
        ("1995", "1995."),
        ("Los\u00a0Angeles", "Los Angeles"),
        ("«Le Monde»", "Le Monde"),
        ("eight eight", "eight"),
        ("São Paulo’s", "Sao Paulo's"),
        ("THE END", "end"),
        ("a", "A"),
        ("anthem", "an them"),
    ]
    out = [{"prediction": p, "truth": t, "norm_prediction": normalize_answer(p), "norm_truth": normalize_answer(t),
            "em": bool(exact_match_score(p, t)), "f1": float(f1_score(p, t))} for p, t in pairs]
    dump("squad_golden.json", {"made_by": HEADER + " (SQuAD evaluate-v1.1.py functions)", "cases": out})


# --- run_qa.py features and utils_qa.py post-processing ---------------------------------------
def qa_cases():
    from transformers import AutoTokenizer

    tmp = tempfile.mkdtemp()
    shutil.copy(os.path.join(ROOT, "data", "vocab", "bert-base-uncased-vocab.txt"), os.path.join(tmp, "vocab.txt"))
    with open(os.path.join(tmp, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "tokenizer_class": "BertTokenizer"}, f)
    tok = AutoTokenizer.from_pretrained(tmp)
    assert tok.is_fast
    max_seq_length, doc_stride = 64, 16
    squad = json.load(open(os.path.join(OUT, "squad_tiny.json"), encoding="utf-8"))
    examples = []
    for art in squad["data"]:
        for p in art["paragraphs"]:
            for qa in p["qas"]:
                examples.append({"id": qa["id"], "question": qa["question"], "context": p["context"],
                                 "answers": {"text": [a["text"] for a in qa["answers"]],
                                             "answer_start": [a["answer_start"] for a in qa["answers"]]}})
    questions = [e["question"].lstrip() for e in examples]
    contexts = [e["context"] for e in examples]
    # prepare_train_features
    tz = tok(questions, contexts, truncation="only_second", max_length=max_seq_length, stride=doc_stride,
             return_overflowing_tokens=True, return_offsets_mapping=True)
    sample_mapping = tz.pop("overflow_to_sample_mapping")
    offset_mapping = tz.pop("offset_mapping")
    train = []
    for i, offsets in enumerate(offset_mapping):
        input_ids = tz["input_ids"][i]
        cls_index = input_ids.index(tok.cls_token_id)
        sequence_ids = tz.sequence_ids(i)
        answers = examples[sample_mapping[i]]["answers"]
        start_char = answers["answer_start"][0]
        end_char = start_char + len(answers["text"][0])
        token_start_index = 0
        while sequence_ids[token_start_index] != 1:
            token_start_index += 1
        token_end_index = len(input_ids) - 1
        while sequence_ids[token_end_index] != 1:
            token_end_index -= 1
        if not (offsets[token_start_index][0] <= start_char and offsets[token_end_index][1] >= end_char):
            sp, ep = cls_index, cls_index
        else:
            while token_start_index < len(offsets) and offsets[token_start_index][0] <= start_char:
                token_start_index += 1
            sp = token_start_index - 1
            while offsets[token_end_index][1] >= end_char:
                token_end_index -= 1
            ep = token_end_index + 1
        train.append({"example": sample_mapping[i], "input_ids": input_ids, "token_type_ids": tz["token_type_ids"][i],
                      "start_position": sp, "end_position": ep})
    # postprocess_qa_predictions on random logits (utils_qa.py, version_2_with_negative=False)
    rng = np.random.default_rng(5)
    n_best_size, max_answer_length = 20, 30
    feats = []
    for i in range(len(tz["input_ids"])):
        seq = tz.sequence_ids(i)
        om = [o if seq[k] == 1 else None for k, o in enumerate(offset_mapping[i])]
        n = len(tz["input_ids"][i])
        feats.append({"example": sample_mapping[i], "offset_mapping": om,
                      "start_logits": [round(float(x), 4) for x in rng.normal(size=n) * 3],
                      "end_logits": [round(float(x), 4) for x in rng.normal(size=n) * 3]})
    preds = {}
    for ei, ex in enumerate(examples):
        prelim = []
        for f in feats:
            if f["example"] != ei:
                continue
            sl, el, om = np.array(f["start_logits"]), np.array(f["end_logits"]), f["offset_mapping"]
            start_indexes = np.argsort(sl)[-1: -n_best_size - 1: -1].tolist()
            end_indexes = np.argsort(el)[-1: -n_best_size - 1: -1].tolist()
            for s in start_indexes:
                for e in end_indexes:
                    if s >= len(om) or e >= len(om) or om[s] is None or len(om[s]) < 2 or om[e] is None or len(om[e]) < 2:
                        continue
                    if e < s or e - s + 1 > max_answer_length:
                        continue
                    prelim.append({"offsets": (om[s][0], om[e][1]), "score": sl[s] + el[e]})
        predictions = sorted(prelim, key=lambda x: x["score"], reverse=True)[:n_best_size]
        for p in predictions:
            p["text"] = ex["context"][p["offsets"][0]: p["offsets"][1]]
        if len(predictions) == 0 or (len(predictions) == 1 and predictions[0]["text"] == ""):
            predictions.insert(0, {"text": "empty", "score": 0.0})
        scores = np.array([p["score"] for p in predictions])
        probs = np.exp(scores - np.max(scores))
        probs = probs / probs.sum()
        preds[ex["id"]] = {"text": predictions[0]["text"], "probability": float(probs[0])}
    dump("qa_golden.json", {
        "made_by": HEADER + " (transformers run_qa.py / utils_qa.py logic, BertTokenizerFast bert-base-uncased)",
        "max_seq_length": max_seq_length, "doc_stride": doc_stride, "n_best": n_best_size,
        "max_answer_length": max_answer_length, "train_features": train,
        "eval_logits": [{"example": f["example"], "start_logits": f["start_logits"], "end_logits": f["end_logits"]} for f in feats],
        "predictions": preds})
    shutil.rmtree(tmp)
    return tok


# --- TokenClassificationPipeline.group_entities (aggregation_strategy="simple") -----------------
def group_cases(tok):
    from transformers.pipelines.token_classification import TokenClassificationPipeline

    p = TokenClassificationPipeline.__new__(TokenClassificationPipeline)
    p.tokenizer = tok

    def toks(spec):  # [(entity, score, word, start, end)]
        return [{"entity": e, "score": np.float32(s), "word": w, "start": a, "end": b, "index": i}
                for i, (e, s, w, a, b) in enumerate(spec)]
    cases = [
        ("Elon Musk founded Tesla", [("B-PER", 0.99, "el", 0, 2), ("B-PER", 0.98, "##on", 2, 4), ("I-PER", 0.97, "mu", 5, 7),
                                     ("I-PER", 0.9, "##sk", 7, 9), ("O", 0.99, "founded", 10, 17), ("B-ORG", 0.8, "tesla", 18, 23)]),
        ("two B in a row", [("B-LOC", 0.9, "paris", 0, 5), ("B-LOC", 0.8, "london", 6, 12), ("O", 0.9, ".", 12, 13)]),
        ("I after O starts a group", [("O", 0.5, "in", 0, 2), ("I-LOC", 0.6, "new", 3, 6), ("I-LOC", 0.7, "york", 7, 11)]),
        ("type change", [("B-PER", 0.9, "john", 0, 4), ("I-ORG", 0.6, "smith", 5, 10), ("I-ORG", 0.5, "inc", 11, 14)]),
        ("labels without prefixes", [("PER", 0.9, "ann", 0, 3), ("PER", 0.7, "lee", 4, 7), ("O", 0.9, "and", 8, 11),
                                     ("LOC", 0.5, "rome", 12, 16)]),
        ("all O", [("O", 0.9, "nothing", 0, 7), ("O", 0.9, "here", 8, 12)]),
        ("punctuation joins", [("B-ORG", 0.9, "at", 0, 2), ("I-ORG", 0.8, "&", 2, 3), ("I-ORG", 0.7, "t", 3, 4), ("I-ORG", 0.6, ".", 4, 5)]),
        ("WNUT type with dash", [("B-creative-work", 0.6, "star", 0, 4), ("I-creative-work", 0.5, "wars", 5, 9)]),
    ]
    out = []
    for name, spec in cases:
        groups = p.group_entities(toks(spec))
        groups = [g for g in groups if g["entity_group"] not in ("O",)]
        out.append({"name": name, "tokens": [{"entity": e, "score": s, "word": w, "start": a, "end": b} for e, s, w, a, b in spec],
                    "groups": [{"entity_group": g["entity_group"], "score": float(g["score"]), "word": g["word"],
                                "start": g["start"], "end": g["end"]} for g in groups]})
    dump("group_golden.json", {"made_by": HEADER + " (transformers TokenClassificationPipeline.group_entities)", "cases": out})


if __name__ == "__main__":
    seqeval_cases()
    squad_cases()
    tok = qa_cases()
    group_cases(tok)
