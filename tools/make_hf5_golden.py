#!/usr/bin/env python3
"""tools/make_hf5_golden.py — tokenizer folders as transformers 5 saves them (tokenizer.json and
tokenizer_config.json, no vocab.txt), and the ids transformers 5 gives for hard texts.

Each folder tests/tokenizer/golden/hf5/NAME/ holds what `BertTokenizerFast(vocab=..., options)
.save_pretrained(NAME)` wrote, plus expected.jsonl: line 1 a header saying what made it, then one
record per input (gzip'd: expected.jsonl.gz), {"text", "pair"?, "ids", "type_ids", "offsets", "tokens"}, from the folder loaded
back with AutoTokenizer.from_pretrained (what a user of transformers 5 runs). The C++ test
(tests/tokenizer/test_tokenizer_json.cpp) loads each folder with BertTokenizer::from_pretrained and
must give the same ids, token types and offsets.

The vocabularies are small (committed files stay small): bert-base's specials, the tokens that
the full vocabulary uses on the texts (so that greedy longest-match gives what it gives with the
full vocabulary), then a few hundred more; "uncased_sparse" keeps only bert-base-uncased's first
1200 tokens (characters and [unused]), so that words split into ##characters or become [UNK].

Note: in transformers 5, BertTokenizerFast(vocab_file=...) ignores vocab_file (its vocabulary
is the 5 special tokens): pass vocab={token: id}, as done here.

Usage:  bash tools/setup_hf5_venv.sh && tools/.venv-hf5/bin/python tools/make_hf5_golden.py
"""
import gzip
import json
import os
import re
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "tokenizer", "golden", "hf5")
VOCABS = {"uncased": "data/vocab/bert-base-uncased-vocab.txt",
          "cased": "data/vocab/bert-base-cased-vocab.txt"}

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from tokenizers import AddedToken  # noqa: E402
from transformers import AutoTokenizer, BertTokenizerFast  # noqa: E402
transformers.logging.set_verbosity_error()

ESCAPE = re.compile(r"\\u\{([0-9A-Fa-f]+)\}|\\x\{([0-9A-Fa-f]{2})\}|\\\\")

# name: (vocabulary, constructor options, extra special tokens, backend truncation/padding)
FOLDERS = {
    "uncased": ("uncased", {}, [], None),
    "cased": ("cased", {"do_lower_case": False}, [], None),
    # lowercase but keep accents
    "uncased_keep_accents": ("uncased", {"strip_accents": False}, [], None),
    # the brief's non-default set: cased, accents stripped, CJK not split
    "cased_strip_no_cjk": ("cased", {"do_lower_case": False, "strip_accents": True,
                                     "tokenize_chinese_chars": False}, [], None),
    # added special tokens past the vocabulary, truncation and padding saved in the file
    "uncased_added_trunc": ("uncased", {}, ["[E1]", "[/E1]"], "trunc_pad"),
    "uncased_sparse": ("uncased", {}, [], None),
}

PAIRS = [
    ("Who founded Tesla?", "Elon Musk founded Tesla in California."),
    ("The cat sat on the mat.", "It was a lazy afternoon."),
    ("Café crème?", "中文字符测试，你好世界！"),
    ("[E1] Paris [/E1] is the capital.", "[MASK] is in France."),
]


def read_hard_cases(path):
    """tests/tokenizer/hard_cases.txt, decoded as tools/make_tokenizer_golden.py gives it to HF
    (escapes expanded; invalid UTF-8 and lone surrogates become U+FFFD)."""
    cases = []
    for line in open(path, encoding="utf-8").read().split("\n")[:-1]:
        if line.startswith("#|"):
            continue
        out = bytearray()
        pos = 0
        for m in ESCAPE.finditer(line):
            out += line[pos:m.start()].encode("utf-8")
            if m.group(1):
                out += chr(int(m.group(1), 16)).encode("utf-8", "surrogatepass")
            elif m.group(2):
                out.append(int(m.group(2), 16))
            else:
                out += b"\\"
            pos = m.end()
        out += line[pos:].encode("utf-8")
        cases.append(bytes(out).decode("utf-8", errors="replace"))
    return cases


def texts():
    out = read_hard_cases(os.path.join(ROOT, "tests/tokenizer/hard_cases.txt"))
    with open(os.path.join(ROOT, "data/sst2/dev.tsv"), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t")[0] for line in f][1:]
    out += rows[:12]
    with open(os.path.join(ROOT, "data/wikitext2/wiki.test.raw"), encoding="utf-8") as f:
        lines = [line.strip() for line in f if len(line.strip()) > 40]
    out += [line[:400] for line in lines[:12]]
    out += ["[E1] Paris [/E1] is the capital of [MASK].", "x[SEP]y [CLS][CLS] [PAD]", "A" * 120 + " ok"]
    return out


def read_vocab(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def small_vocab(full, opts, inputs, sparse):
    """bert-base tokens in their order: specials, what the texts use, and the first characters."""
    if sparse:
        return full[:1200]
    index = {t: i for i, t in enumerate(full)}
    tok = BertTokenizerFast(vocab=index, **opts)
    keep = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
    for t in inputs:
        keep.update(tok.tokenize(t))
    for a, b in PAIRS:
        keep.update(tok.tokenize(a))
        keep.update(tok.tokenize(b))
    # and 300 more: the first non-[unused] ones (punctuation, characters)
    extra = [t for t in full if not t.startswith("[unused")][:300]
    keep.update(extra)
    return [t for t in full if t in keep]


def record(tok, text, pair=None):
    enc = tok(text, pair, return_offsets_mapping=True) if pair is not None else \
        tok(text, return_offsets_mapping=True)
    r = {"text": text}
    if pair is not None:
        r["pair"] = pair
    r["ids"] = enc["input_ids"]
    r["type_ids"] = enc["token_type_ids"]
    r["offsets"] = [list(o) for o in enc["offset_mapping"]]
    r["tokens"] = tok.convert_ids_to_tokens(enc["input_ids"])
    return r


def make(name, spec, inputs):
    casing, opts, extra, backend = spec
    full = read_vocab(VOCABS[casing])
    vocab = small_vocab(full, opts, inputs, sparse=name.endswith("sparse"))
    tok = BertTokenizerFast(vocab={t: i for i, t in enumerate(vocab)}, **opts)
    if extra:
        tok.add_tokens([AddedToken(t, special=True, normalized=False) for t in extra], special_tokens=True)
    if backend == "trunc_pad":
        tok.backend_tokenizer.enable_truncation(max_length=24, stride=4, strategy="only_first")
        tok.backend_tokenizer.enable_padding(length=32, pad_id=tok.pad_token_id, pad_token="[PAD]",
                                            pad_to_multiple_of=8)
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    tok.save_pretrained(d)
    files = sorted(os.listdir(d))
    assert "vocab.txt" not in files, files

    loaded = AutoTokenizer.from_pretrained(d)  # what a transformers 5 user gets
    records = [record(loaded, t) for t in inputs] + [record(loaded, a, b) for a, b in PAIRS]
    # the tokenizer that saved the folder gives the same (a check on the folder, not on us)
    for r in records[:5]:
        again = record(tok, r["text"], r.get("pair"))
        assert again["ids"] == r["ids"], (name, r["text"])
    header = {"made_by": "tools/make_hf5_golden.py", "transformers": transformers.__version__,
              "tokenizers": tokenizers.__version__, "python": sys.version.split()[0],
              "folder": name, "class": type(loaded).__name__, "vocab_size": len(loaded),
              "options": opts, "extra_special_tokens": extra, "backend": backend, "files": files}
    lines = [json.dumps(header, ensure_ascii=False)] + [json.dumps(r, ensure_ascii=False) for r in records]
    # gzip'd (tests/tokenizer/golden_reader.h reads it), with no time stamp: regenerating is bit for bit
    with open(os.path.join(d, "expected.jsonl.gz"), "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
            f.write(("\n".join(lines) + "\n").encode("utf-8"))
    size = sum(os.path.getsize(os.path.join(d, x)) for x in os.listdir(d))
    print(f"{name}: {len(vocab)} tokens, {len(records)} records, {size // 1024} KiB, files {files}")


def main():
    inputs = texts()
    os.makedirs(OUT, exist_ok=True)
    for name, spec in FOLDERS.items():
        make(name, spec, inputs)


if __name__ == "__main__":
    main()
