#!/usr/bin/env python3
"""tools/check_pipelines_hf.py — `bertlab predict` against the Hugging Face pipelines on the same
fine-tuned folders (the real-result runs), and `bertlab eval classify` against the accuracy
transformers computes on the same file. Not part of CI (needs the run folders and torch).

Usage: tools/.venv-torch/bin/python tools/check_pipelines_hf.py [--sentiment RUN/best] [--ner RUN/best] [--qa RUN/best]
           [--zero-shot-random]
Each check prints the largest score difference and whether the labels / spans / answers agree.
The same comparison runs in CI on tiny models and committed golden outputs:
tools/make_pipelines_golden.py and tests/tasks/test_pipelines_hf.cpp.
--zero-shot-random checks zero-shot on a random bert-mini saved by `bertlab init` with the labels
contradiction / neutral / entailment (no NLI model is available offline).
transformers 5 removed the question-answering pipeline: for --qa put transformers 4.x first on
PYTHONPATH (pip install --target /tmp/tf4 transformers==4.46.3 tokenizers==0.20.3 huggingface-hub==0.26.5).
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SENTENCES = [
    "a gorgeous , witty , seductive movie .",
    "the plot is nothing but boilerplate clichés from start to finish",
    "it 's a charming and often affecting journey .",
    "unflinchingly bleak and desperate",
    "Elon Musk founded Tesla in California.",
    "The European Union rejected the German call to boycott British lamb on Monday.",
    "Peter Blackburn met officials of the United Nations in New York and Geneva.",
    "I'm flying to Paris with @jane to see the Louvre and watch Game of Thrones at Netflix HQ",
]
QA = [
    ("Which NFL team represented the AFC at Super Bowl 50?",
     "Super Bowl 50 was an American football game to determine the champion of the National Football League (NFL) "
     "for the 2015 season. The American Football Conference (AFC) champion Denver Broncos defeated the National "
     "Football Conference (NFC) champion Carolina Panthers 24–10 to earn their third Super Bowl title. The game was "
     "played on February 7, 2016, at Levi's Stadium in the San Francisco Bay Area at Santa Clara, California."),
    ("Where was the game played?",
     "The game was played on February 7, 2016, at Levi's Stadium in the San Francisco Bay Area at Santa Clara, California."),
    ("Who founded Tesla?", "Tesla was founded in 2003 by Martin Eberhard and Marc Tarpenning; Elon Musk joined later."),
]


def bertlab(args, stdin=None):
    exe = os.environ.get("BERTLAB", os.path.join(ROOT, "build", "bert", "bertlab"))
    out = subprocess.run([exe] + args, input=stdin, capture_output=True, text=True, check=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sentiment")
    ap.add_argument("--ner")
    ap.add_argument("--qa")
    ap.add_argument("--zero-shot-random", action="store_true")
    a = ap.parse_args()
    from transformers import pipeline
    ok = True
    if a.sentiment:
        hf = pipeline("text-classification", model=a.sentiment, device="cpu")(SENTENCES[:4])
        ours = bertlab(["predict", "sentiment", "--json", "--model", a.sentiment] + SENTENCES[:4])
        d = max(abs(h["score"] - o["score"]) for h, o in zip(hf, ours))
        same = all(h["label"] == o["label"] for h, o in zip(hf, ours))
        print(f"sentiment: labels agree {same}, max |score diff| {d:.2e}")
        ok &= same and d < 1e-4
    if a.ner:
        hf = pipeline("token-classification", model=a.ner, aggregation_strategy="simple", device="cpu")(SENTENCES[4:])
        ours = bertlab(["predict", "ner", "--json", "--model", a.ner] + SENTENCES[4:])
        for text, h, o in zip(SENTENCES[4:], hf, ours):
            hs = [(e["entity_group"], e["word"], e["start"], e["end"]) for e in h]
            os_ = [(e["entity_group"], e["word"], e["start"], e["end"]) for e in o]
            d = max([abs(float(x["score"]) - y["score"]) for x, y in zip(h, o)] + [0.0])
            print(f"ner: {'same' if hs == os_ else 'DIFFERENT'} groups, max |score diff| {d:.2e}: {os_}")
            if hs != os_:
                print("  HF:", hs)
            ok &= hs == os_ and d < 1e-4
    if a.qa:
        qa = pipeline("question-answering", model=a.qa, device="cpu")
        for q, c in QA:
            h = qa(question=q, context=c)
            o = bertlab(["predict", "qa", "--json", "--model", a.qa, "--question", q, "--context", c])[0]
            same = (h["start"], h["end"], h["answer"]) == (o["start"], o["end"], o["answer"])
            print(f"qa: {'same' if same else 'DIFFERENT'} answer {o['answer']!r} (HF {h['answer']!r}), "
                  f"score {o['score']:.4f} vs {h['score']:.4f}")
            ok &= same and abs(h["score"] - o["score"]) < 1e-4
    if a.zero_shot_random:
        import tempfile
        d = os.path.join(tempfile.mkdtemp(), "nli")
        subprocess.run([os.environ.get("BERTLAB", os.path.join(ROOT, "build", "bert", "bertlab")), "init", "--config",
                        "bert-mini", "--task", "classify", "--num-labels", "3", "--seed", "7", "--out", d], check=True,
                       capture_output=True)
        cfg = json.load(open(os.path.join(d, "config.json")))
        cfg["id2label"] = {"0": "contradiction", "1": "neutral", "2": "entailment"}
        cfg["label2id"] = {"contradiction": 0, "neutral": 1, "entailment": 2}
        json.dump(cfg, open(os.path.join(d, "config.json"), "w"))
        zs = pipeline("zero-shot-classification", model=d, device="cpu")
        labels = ["sports", "politics", "cooking", "science"]
        for multi in (False, True):
            h = zs(SENTENCES[5], candidate_labels=labels, multi_label=multi)
            o = bertlab(["predict", "zero-shot", "--json", "--model", d, "--labels", ",".join(labels)] +
                        (["--multi-label"] if multi else []) + [SENTENCES[5]])[0]
            same = h["labels"] == o["labels"]
            dd = max(abs(x - y) for x, y in zip(h["scores"], o["scores"]))
            print(f"zero-shot (multi_label={multi}): label order {'same' if same else 'DIFFERENT'}, max |score diff| {dd:.2e}")
            ok &= same and dd < 1e-4
    print("all agree" if ok else "DIFFERENCES FOUND")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
