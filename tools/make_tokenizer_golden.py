#!/usr/bin/env python3
"""tools/make_tokenizer_golden.py — golden files for the tokenizer parity tests.

Runs the Hugging Face tokenizers that every BERT user has (`BertTokenizer`, pure Python,
"slow"; `BertTokenizerFast`, Rust `tokenizers`, "fast") over the test sets, uncased and
cased, and writes what they return into tests/tokenizer/golden/. The C++ test
(tests/tokenizer/test_parity.cpp) must reproduce every field, token for token.
Where slow and fast disagree, the C++ tokenizer matches fast: each disagreement is kept in
the golden record ("slow": the slow ids) and listed in golden/slow_fast_disagreements.txt.

Golden format: gzip'd JSON lines; line 1 is a header saying what made the file. Then one
record per call, {"a": [inputs], "b": [pairs]?, "words": bool?, "opts": {...}?, "rows": [...],
"map": overflow_to_sample_mapping?, "dec": {...}?, "slow": ...?}. A row holds the fields of
one BatchEncoding row: ids, tt (token_type_ids), am (attention_mask), stm
(special_tokens_mask), off (offset_mapping, characters), wid (word_ids, -1 for None),
tok (tokens, only in the small sets).
Data whose licence forbids redistribution (CoNLL-2003, AG News) only gets FNV-1a-64 hashes of
the outputs, in blocks: the test reads the text from ../shared/data and hashes its own output.

Usage:  bash tools/setup_hf_venv.sh && tools/.venv-hf/bin/python tools/make_tokenizer_golden.py
        [--sets seed,hard,...] [--shared ../shared/data]
Follows: transformers BertTokenizer / BertTokenizerFast (4.x) and tokenizers (Rust).
"""
import argparse
import collections
import gzip
import hashlib
import inspect
import io
import json
import os
import platform
import re
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "tokenizer", "golden")
VOCABS = {"uncased": "data/vocab/bert-base-uncased-vocab.txt",
          "cased": "data/vocab/bert-base-cased-vocab.txt"}

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from transformers import BertTokenizer, BertTokenizerFast  # noqa: E402
transformers.logging.set_verbosity_error()

SEEDS = [
    "The cat sat on the mat.",
    "It was a lazy afternoon.",
    "Elon Musk founded Tesla in California.",
    "Hello, world! How are you doing today?",
    "The capital of France is [MASK].",
    "I can't believe it's not butter - it's margarine!",
    "unaffable",
    "HuggingFace's tokenizers are fast; ours should be faster.",
]
SEED_PAIRS = [("The cat sat on the mat.", "It was a lazy afternoon."),
              ("Who founded Tesla?", "Elon Musk founded Tesla in California.")]
SEED_WORDS = [["Elon", "Musk", "founded", "Tesla", "in", "California", "."],
              ["Dr.", "Jürgen", "O'Neil", "visited", "東京", "on", "2021-03-04", "!"]]


# ---------------------------------------------------------------- running the tokenizers

def load(casing):
    vocab = os.path.join(ROOT, VOCABS[casing])
    lower = casing == "uncased"
    slow = BertTokenizer(vocab, do_lower_case=lower, clean_up_tokenization_spaces=True)
    fast = BertTokenizerFast(vocab, do_lower_case=lower, clean_up_tokenization_spaces=True)
    return slow, fast


def call_opts(opts):
    o = dict(truncation=opts.get("truncation", False), padding=opts.get("padding", False),
             add_special_tokens=opts.get("add_special_tokens", True))
    for k in ("max_length", "stride", "pad_to_multiple_of"):
        if k in opts:
            o[k] = opts[k]
    return o


def run_fast(fast, a, b, words, opts, with_tokens):
    be = fast(a, b, is_split_into_words=words, return_offsets_mapping=True,
              return_special_tokens_mask=True, return_token_type_ids=True,
              return_attention_mask=True,
              return_overflowing_tokens=opts.get("overflow", False), **call_opts(opts))
    rows = []
    for i in range(len(be["input_ids"])):
        row = {"ids": be["input_ids"][i], "tt": be["token_type_ids"][i],
               "am": be["attention_mask"][i], "stm": be["special_tokens_mask"][i],
               "off": [list(p) for p in be["offset_mapping"][i]],
               "wid": [-1 if w is None else w for w in be.encodings[i].word_ids]}
        if with_tokens:
            row["tok"] = be.encodings[i].tokens
        rows.append(row)
    out = {"rows": rows}
    if opts.get("overflow"):
        out["map"] = be["overflow_to_sample_mapping"]
    return out


def run_slow(slow, a, b, words, opts):
    """Slow ids (first row per input only: slow has no overflow windows)."""
    o = call_opts(opts)
    if o["truncation"] in ("only_second", "longest_first", "only_first") and b is None and o["truncation"] == "only_second":
        return None
    # slow refuses to return token_type_ids without special tokens; they are then all 0 (or 1
    # for the pair), which is what fast returns, so the comparison leaves them out.
    want_tt = o["add_special_tokens"]
    try:
        be = slow(a, b, is_split_into_words=words, return_special_tokens_mask=True,
                  return_token_type_ids=want_tt, return_attention_mask=True, **o)
    except Exception as e:  # noqa: BLE001
        return {"error": str(e)}
    return {"ids": be["input_ids"], "tt": be["token_type_ids"] if want_tt else None,
            "am": be["attention_mask"], "stm": be["special_tokens_mask"]}


def first_rows(out, n_inputs):
    """Fast rows reduced to the first window per input (what slow returns)."""
    rows = out["rows"]
    if "map" not in out:
        return rows
    firsts, seen = [], set()
    for r, s in zip(rows, out["map"]):
        if s not in seen:
            seen.add(s)
            firsts.append(r)
    return firsts


def wordpiece_cleanup(s):
    """The cleanup of tokenizers' WordPiece decoder (decoders/wordpiece.rs)."""
    for a, b in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                 (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
        s = s.replace(a, b)
    return s


def fast_decoder(tokens):
    """tokenizers' WordPiece decoder: piece i > 0 loses '##' or gains a space, then is cleaned up."""
    out = []
    for i, t in enumerate(tokens):
        if i != 0:
            t = t[2:] if t.startswith("##") else " " + t
        out.append(wordpiece_cleanup(t))
    return "".join(out)


def explained_by_decoder(fast, ids, tokens, kind, got):
    """True when fast's decode output is what its WordPiece decoder gives (then slow's different
    result comes from slow's own join-and-cleanup, a known difference)."""
    skip = kind in ("tf", "tt")
    toks = [t for t, i in zip(tokens, ids) if not (skip and i in fast.all_special_ids)]
    text = fast_decoder(toks)
    if kind in ("ft", "tt"):
        text = fast.clean_up_tokenization(text)
    return text == got


def decode_all(tok, ids, tokens):
    return {"ff": tok.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False),
            "ft": tok.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=True),
            "tf": tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False),
            "tt": tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=True),
            "cts": tok.convert_tokens_to_string(tokens)}


class Writer:
    """Writes one golden file and collects slow/fast disagreements."""

    def __init__(self, name, casing, source, extra=None):
        self.name, self.casing = name, casing
        self.path = os.path.join(GOLDEN, f"{name}.{casing}.jsonl.gz")
        self.f = open_gz(self.path)
        header = {"golden": name, "casing": casing, "vocab": VOCABS[casing], "source": source,
                  "made_by": "tools/make_tokenizer_golden.py", "transformers": transformers.__version__,
                  "tokenizers": tokenizers.__version__, "python": platform.python_version(),
                  "unidata": unicodedata.unidata_version}
        header.update(extra or {})
        self.write(header)
        self.n_records = 0
        self.n_rows = 0
        self.disagreements = []
        self.systematic = collections.Counter()

    def write(self, obj):
        self.f.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")

    def close(self):
        self.f.close()


def case(w, slow, fast, a, b=None, words=False, opts=None, tokens=False, decode=False, show=True,
         extra=None):
    """Runs one batch call through fast and slow, writes its record."""
    opts = opts or {}
    rec = {"a": a}
    rec.update(extra or {})
    if b is not None:
        rec["b"] = b
    if words:
        rec["words"] = True
    if opts:
        rec["opts"] = opts
    try:
        out = run_fast(fast, a, b, words, opts, tokens)
    except BaseException as e:  # noqa: BLE001 (pyo3 panics are BaseException)
        if not isinstance(e, Exception) and type(e).__name__ != "PanicException":
            raise
        rec["error"] = str(e).split("\n")[0][:200]
        w.write(rec)
        w.n_records += 1
        return
    rec.update(out)
    s = run_slow(slow, a, b, words, opts)
    if s is not None:
        f_first = first_rows(out, len(a))
        fast_view = {k: [r[k] for r in f_first] for k in ("ids", "tt", "am", "stm")}
        if s.get("tt", 0) is None:
            s["tt"] = fast_view["tt"]
        if "error" in s or any(s[k] != fast_view[k] for k in ("ids", "tt", "am", "stm")):
            rec["slow"] = s
            fast_tok = [fast.convert_ids_to_tokens(r) for r in fast_view["ids"]]
            slow_tok = [slow.convert_ids_to_tokens(r) for r in s["ids"]] if "ids" in s else s
            w.disagreements.append((w.n_records, a if show else None, b if show else None,
                                    "encode", fast_tok, slow_tok))
    if decode:
        dec_f, dec_s = [], []
        for r in out["rows"]:
            toks = fast.convert_ids_to_tokens(r["ids"])
            dec_f.append(decode_all(fast, r["ids"], toks))
            dec_s.append(decode_all(slow, r["ids"], toks))
        rec["dec"] = dec_f
        for i, (x, y) in enumerate(zip(dec_f, dec_s)):
            toks = fast.convert_ids_to_tokens(out["rows"][i]["ids"])
            for k in x:
                if x[k] != y[k] and explained_by_decoder(fast, out["rows"][i]["ids"], toks, k, x[k]):
                    w.systematic["decode: fast's WordPiece decoder (decoders/wordpiece.rs) cleans up each piece "
                                 "(' .' ' ,' ' !' ' ?' ' n't' ' 's' ...) even when clean_up_tokenization_spaces=False; "
                                 "slow joins with spaces and cleans up the whole string only when asked"] += 1
                elif x[k] != y[k]:
                    w.disagreements.append((w.n_records, a if show else None, b if show else None,
                                            f"decode[{i}].{k}", x[k], y[k]))
    w.write(rec)
    w.n_records += 1
    w.n_rows += len(out["rows"])


# ---------------------------------------------------------------- hashed (non-redistributable) sets

def open_gz(path):
    """gzip text writer with mtime 0, so that regenerating identical data gives identical bytes."""
    return io.TextIOWrapper(gzip.GzipFile(filename=path, mode="wb", compresslevel=9, mtime=0),
                            encoding="utf-8", newline="\n")


def fnv1a64(data, h=0xcbf29ce484222325):
    for byte in data:
        h ^= byte
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def row_repr(row):
    """Canonical text of one row: `id,tt,am,stm,start,end,word;` per token, then a newline.
    tests/tokenizer/test_parity.cpp builds the same string."""
    parts = [f"{i},{t},{m},{s},{o[0]},{o[1]},{w};" for i, t, m, s, o, w in
             zip(row["ids"], row["tt"], row["am"], row["stm"], row["off"], row["wid"])]
    return "".join(parts) + "\n"


def hashed_set(name, casing, sources, calls, slow, fast, block=16, note=""):
    """calls: list of (a, b, words, opts) single calls. Writes one FNV-1a-64 per block of calls."""
    sha = hashlib.sha256(b"".join(open(p, "rb").read() for p in sources)).hexdigest()
    rel = [os.path.relpath(os.path.abspath(p), ROOT) for p in sources]
    w = Writer(name + "_hashed", casing, "+".join(rel), {"hashed": True, "block": block, "source_sha256": sha,
                                                          "count": len(calls), "note": note})
    h, first = 0xcbf29ce484222325, 0
    for k, (a, b, words, opts) in enumerate(calls):
        out = run_fast(fast, [a], None if b is None else [b], words, opts, False)
        for r in out["rows"]:
            h = fnv1a64(row_repr(r).encode("utf-8"), h)
        s = run_slow(slow, [a], None if b is None else [b], words, opts)
        if s is not None and s["ids"][0] != out["rows"][0]["ids"]:
            w.disagreements.append((k, None, None, "encode", fast.convert_ids_to_tokens(out["rows"][0]["ids"]),
                                    slow.convert_ids_to_tokens(s["ids"][0])))
        w.n_rows += len(out["rows"])
        if (k + 1) % block == 0 or k + 1 == len(calls):
            w.write({"first": first, "n": k + 1 - first, "h": f"{h:016x}"})
            w.n_records += 1
            h, first = 0xcbf29ce484222325, k + 1
    w.close()
    return w


# ---------------------------------------------------------------- readers for the data sets

def read_sst2(path):
    rows = open(path, encoding="utf-8").read().split("\n")[1:]
    return [r.split("\t")[0] for r in rows if r.strip()]


def read_conll(path, sep=None, strip_prefix=None):
    """Sentences as lists of words; whitespace-only lines separate sentences."""
    sents, cur = [], []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip():
            if cur:
                sents.append(cur)
            cur = []
            continue
        word = line.split(sep)[0] if sep else line.split()[0]
        if strip_prefix and word.startswith(strip_prefix):
            word = word[len(strip_prefix):]
        cur.append(word)
    if cur:
        sents.append(cur)
    return sents


def read_wikitext(path):
    data = open(path, "rb").read().decode("utf-8")
    return [line for line in data.split("\r\n") if line != ""]


def read_squad(path):
    d = json.load(open(path, encoding="utf-8"))
    contexts, qas = [], []
    for art in d["data"]:
        for p in art["paragraphs"]:
            contexts.append(p["context"])
            for qa in p["qas"]:
                qas.append((qa["question"], len(contexts) - 1))
    return contexts, qas


ESCAPE = re.compile(r"\\u\{([0-9A-Fa-f]+)\}|\\x\{([0-9A-Fa-f]{2})\}|\\\\")


def read_hard_cases(path):
    """hard_cases.txt: one case a line; `\\u{HEX}` a code point, `\\x{HH}` a raw byte,
    `\\\\` a backslash; lines starting with "#|" are comments. Returns raw bytes per case."""
    cases = []
    for line in open(path, encoding="utf-8").read().split("\n")[:-1]:
        if line.startswith("#|"):
            continue
        out = bytearray()
        pos = 0
        for m in ESCAPE.finditer(line):
            out += line[pos:m.start()].encode("utf-8")
            if m.group(1):
                cp = int(m.group(1), 16)
                out += chr(cp).encode("utf-8", "surrogatepass")
            elif m.group(2):
                out.append(int(m.group(2), 16))
            else:
                out += b"\\"
            pos = m.end()
        out += line[pos:].encode("utf-8")
        cases.append(bytes(out))
    return cases


# ---------------------------------------------------------------- the sets

def set_seed(casing, slow, fast):
    w = Writer("seed", casing, "REFERENCE.md seed sentences (tools/make_tokenizer_golden.py)")
    for s in SEEDS:
        case(w, slow, fast, [s], tokens=True, decode=True)
    for a, b in SEED_PAIRS:
        case(w, slow, fast, [a], [b], tokens=True, decode=True)
    for ws in SEED_WORDS:
        case(w, slow, fast, [ws], words=True, tokens=True, decode=True)
    w.close()
    return w


def set_features(casing, slow, fast):
    """Batches, padding, truncation strategies, stride, overflow, add_special_tokens."""
    w = Writer("features", casing, "hand-made feature cases (tools/make_tokenizer_golden.py)")
    texts = ["Hello, world!", "The quick brown fox jumps over the lazy dog.", "",
             "unaffable antidisestablishmentarianism", "a b c d e f g h i j k l m n o p"]
    pairs = ["Is it?", "It was a lazy afternoon, the sun was out and the cat slept.", "x",
             "", "one two three four five six seven eight nine ten"]
    for pad in ("longest", "max_length"):
        case(w, slow, fast, texts, opts={"padding": pad, "max_length": 24}, tokens=True)
        case(w, slow, fast, texts, pairs, opts={"padding": pad, "max_length": 40}, tokens=True)
    case(w, slow, fast, texts, opts={"padding": "longest", "pad_to_multiple_of": 8}, tokens=True)
    for trunc in ("longest_first", "only_first", "only_second"):
        for ml in (5, 8, 12, 20):
            for stride in (0, 1, 2):
                opts = {"truncation": trunc, "max_length": ml, "stride": stride, "overflow": True,
                        "padding": "longest"}
                if trunc != "only_second":
                    case(w, slow, fast, texts[:2] + texts[3:], opts=opts, tokens=True)
                # only_first/only_second need a long enough target; HF raises otherwise
                ok = [(a, b) for a, b in zip(texts, pairs)
                      if trunc == "longest_first" or _fits(fast, a, b, trunc, ml)]
                if ok:
                    case(w, slow, fast, [x for x, _ in ok], [y for _, y in ok], opts=opts, tokens=True)
    for trunc in ("longest_first", "only_second"):
        case(w, slow, fast, [["Elon", "Musk", "founded", "Tesla", "in", "California", "."]],
             [["He", "was", "born", "in", "Pretoria", ",", "South", "Africa", "."]], words=True,
             opts={"truncation": trunc, "max_length": 12, "stride": 3, "overflow": True, "padding": "max_length"},
             tokens=True)
    case(w, slow, fast, texts, opts={"add_special_tokens": False}, tokens=True)
    case(w, slow, fast, texts[:2], pairs[:2], opts={"add_special_tokens": False, "truncation": "longest_first",
                                                     "max_length": 6, "overflow": True}, tokens=True)
    case(w, slow, fast, texts, opts={"truncation": "longest_first", "max_length": 4}, tokens=True)
    case(w, slow, fast, texts, opts={"truncation": "longest_first", "max_length": 2, "overflow": True}, tokens=True)
    w.close()
    return w


def _fits(fast, a, b, trunc, ml):
    la = len(fast(a, add_special_tokens=False)["input_ids"])
    lb = len(fast(b, add_special_tokens=False)["input_ids"])
    to_remove = la + lb + 3 - ml
    if to_remove <= 0:
        return True
    target = la if trunc == "only_first" else lb
    return target > to_remove


def set_hard(casing, slow, fast):
    cases = read_hard_cases(os.path.join(ROOT, "tests", "tokenizer", "hard_cases.txt"))
    w = Writer("hard", casing, "tests/tokenizer/hard_cases.txt",
               {"note": "'raw' (hex) is the input where it is not valid UTF-8; 'a' is it decoded "
                        "with errors='replace', which is what HF saw"})
    for raw in cases:
        text = raw.decode("utf-8", errors="replace")
        extra = {} if text.encode("utf-8") == raw else {"raw": raw.hex()}
        case(w, slow, fast, [text], tokens=True, decode=True, extra=extra)
    w.close()
    return w


def set_long(casing, slow, fast):
    """Boundary lengths: 100/101-char words, a 10,000-char word, a 1 MB line (hashed: large)."""
    w = Writer("long", casing, "generated (tools/make_tokenizer_golden.py set_long)")
    for n in (99, 100, 101):
        case(w, slow, fast, ["a" * n + " ok"], tokens=True)
        case(w, slow, fast, ["é" * n + " ok"], tokens=True)
    case(w, slow, fast, ["x" * 10000 + " tail"], tokens=True)
    case(w, slow, fast, ["abc" * 3333 + "!"], tokens=True)
    w.close()
    # the 1 MB line: "The quick brown fox jumps over the lazy dog. " repeated, cut at 1 MiB
    unit = "The quick brown fox jumps over the lazy dog, 1234 times; café naïve 東京! "
    big = (unit * (1 + (1 << 20) // len(unit.encode("utf-8"))))
    big = big.encode("utf-8")[: 1 << 20].decode("utf-8", errors="ignore")
    out = run_fast(fast, [big], None, False, {}, False)
    h = fnv1a64(row_repr(out["rows"][0]).encode("utf-8"))
    with open_gz(os.path.join(GOLDEN, f"long_1mb.{casing}.json.gz")) as f:
        json.dump({"unit": unit, "bytes": 1 << 20, "n_tokens": len(out["rows"][0]["ids"]),
                   "first_ids": out["rows"][0]["ids"][:64], "last_ids": out["rows"][0]["ids"][-64:],
                   "h": f"{h:016x}", "made_by": "tools/make_tokenizer_golden.py",
                   "tokenizers": tokenizers.__version__}, f)
    return w


def set_sst2(casing, slow, fast, shared):
    w = Writer("sst2_dev", casing, "data/sst2/dev.tsv")
    for s in read_sst2(os.path.join(shared, "sst2", "dev.tsv")):
        case(w, slow, fast, [s], tokens=True, decode=True)
    w.close()
    return w


def set_wnut(casing, slow, fast, shared):
    w = Writer("wnut17", casing, "../shared/data/ner/wnut17/{emerging.dev.conll,emerging.test.annotated} (WNUT-17, CC BY 4.0)")
    for name in ("emerging.dev.conll", "emerging.test.annotated"):
        for ws in read_conll(os.path.join(shared, "ner", "wnut17", name), sep="\t"):
            case(w, slow, fast, [ws], words=True)
    w.close()
    return w


def set_wikitext(casing, slow, fast, shared):
    """Every line hashed (the test reads data/wikitext2/wiki.test.raw); every 8th in full."""
    lines = read_wikitext(os.path.join(shared, "wikitext2", "wiki.test.raw"))
    w = Writer("wikitext2", casing, "data/wikitext2/wiki.test.raw (every 8th non-empty line)")
    for line in lines[::8]:
        case(w, slow, fast, [line])
    w.close()
    h = hashed_set("wikitext2", casing, [os.path.join(shared, "wikitext2", "wiki.test.raw")],
                   [(x, None, False, {}) for x in lines], slow, fast,
                   note="the non-empty lines of the file split on CRLF")
    return w, h


SQUAD_PAIR_OPTS = {"truncation": "only_second", "max_length": 384, "stride": 128, "overflow": True,
                   "padding": "max_length"}


def set_squad(casing, slow, fast, shared):
    """Hashed: every context, every question, and (first question, context) of every paragraph as a
    QA pair (only_second, 384, stride 128, overflow windows, padded). In full: a sample of each."""
    src = os.path.join(shared, "squad", "dev-v1.1.json")
    contexts, qas = read_squad(src)
    w = Writer("squad_dev", casing, "../shared/data/squad/dev-v1.1.json (SQuAD v1.1 dev, CC BY-SA 4.0)",
               {"note": "every 16th context, every 16th question, and pairs (first question of a "
                        "paragraph, context) for every 40th paragraph and every paragraph over 330 words"})
    for c in contexts[::16]:
        case(w, slow, fast, [c])
    for q, _ in qas[::16]:
        case(w, slow, fast, [q])
    first_q = {}
    for q, ci in qas:
        first_q.setdefault(ci, q)
    for ci in sorted(first_q):
        if ci % 40 == 0 or len(contexts[ci].split()) > 330:
            case(w, slow, fast, [first_q[ci]], [contexts[ci]], opts=SQUAD_PAIR_OPTS)
    w.close()
    calls = [(c, None, False, {}) for c in contexts] + [(q, None, False, {}) for q, _ in qas] + \
            [(first_q[ci], contexts[ci], False, SQUAD_PAIR_OPTS) for ci in sorted(first_q)]
    h = hashed_set("squad_dev", casing, [src], calls, slow, fast,
                   note="calls: every context, then every question, then (first question, context) of "
                        "every paragraph with only_second/384/stride 128/overflow/padding max_length")
    return w, h


def set_conll(casing, slow, fast, shared):
    """CoNLL-2003 dev + test (Reuters licence: hashes only). The test reads eng.testa then eng.testb."""
    paths = [os.path.join(shared, "ner", "conll2003", n) for n in ("eng.testa", "eng.testb")]
    sents = [ws for p in paths for ws in read_conll(p)]
    return hashed_set("conll2003", casing, paths, [(ws, None, True, {}) for ws in sents], slow, fast,
                      note="sentences of eng.testa then eng.testb, words pre-split (first column)")


def set_agnews(casing, slow, fast, shared):
    src = os.path.join(shared, "agnews", "test.tsv")
    texts = [line.split("\t")[0] for line in open(src, encoding="utf-8").read().split("\n") if line]
    return hashed_set("agnews_test", casing, [src], [(x, None, False, {}) for x in texts], slow, fast,
                      note="first tab-separated column of every non-empty line")


# ---------------------------------------------------------------- the Unicode table

def set_unicode(casing, slow, fast):
    """Per code point, what HF fast does with it: dropped by cleaning, mapped to space, CJK,
    split as punctuation, NFD+strip result, lowercase result. Cased/uncased share it."""
    from tokenizers import normalizers, pre_tokenizers
    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    cjk = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    lower = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True)
    pre = pre_tokenizers.BertPreTokenizer()
    classes = {"drop": [], "space": [], "cjk": [], "punct": [], "split_space": []}
    strip_map, lower_map = {}, {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        cl = clean.normalize_str(c)
        if cl == "":
            classes["drop"].append(cp)
        elif cl == " " and c != " ":
            classes["space"].append(cp)
        if cjk.normalize_str(c) == f" {c} ":
            classes["cjk"].append(cp)
        parts = pre.pre_tokenize_str("a" + c + "b")
        if len(parts) == 3:
            classes["punct"].append(cp)
        elif len(parts) == 2:
            classes["split_space"].append(cp)
        st = strip.normalize_str(c)
        if st != c:
            strip_map[cp] = st
        lo = lower.normalize_str(c)
        if lo != c:
            lower_map[cp] = lo
    out = {"made_by": "tools/make_tokenizer_golden.py", "tokenizers": tokenizers.__version__,
           "note": "ranges are inclusive [lo, hi]; strip/lower map code point -> string"}
    for k, v in classes.items():
        out[k] = to_ranges(v)
    out["strip"] = {f"{k:X}": v for k, v in strip_map.items()}
    out["lower"] = {f"{k:X}": v for k, v in lower_map.items()}
    with open_gz(os.path.join(GOLDEN, "unicode_hf.json.gz")) as f:
        json.dump(out, f, ensure_ascii=True, separators=(",", ":"))
    print(f"unicode_hf: " + ", ".join(f"{k} {len(v)} cps" for k, v in classes.items())
          + f", strip {len(strip_map)}, lower {len(lower_map)}")


def to_ranges(cps):
    out = []
    for cp in cps:
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


SETS = {"seed": set_seed, "features": set_features, "hard": set_hard, "long": set_long,
        "sst2": set_sst2, "wnut17": set_wnut, "wikitext": set_wikitext, "squad": set_squad,
        "conll2003": set_conll, "agnews": set_agnews}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default=",".join(list(SETS) + ["unicode"]))
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "data"))
    args = ap.parse_args()
    os.makedirs(GOLDEN, exist_ok=True)
    wanted = args.sets.split(",")
    report = []
    if "unicode" in wanted:
        slow, fast = load("uncased")
        set_unicode("uncased", slow, fast)
    for casing in ("uncased", "cased"):
        slow, fast = load(casing)
        for name in wanted:
            if name == "unicode":
                continue
            fn = SETS[name]
            ws = fn(casing, slow, fast, args.shared) if len(inspect.signature(fn).parameters) == 4 \
                else fn(casing, slow, fast)
            for w in ws if isinstance(ws, tuple) else (ws,):
                print(f"{w.name}.{casing}: {w.n_records} records, {w.n_rows} rows, "
                      f"{len(w.disagreements)} slow/fast disagreements listed, "
                      f"{sum(w.systematic.values())} systematic (decoder cleanup)", flush=True)
                report.append(w)
    write_disagreements(report)


def write_disagreements(writers):
    path = os.path.join(GOLDEN, "slow_fast_disagreements.txt")
    old = {}
    if os.path.exists(path):  # keep sections of sets not regenerated this run
        cur = None
        for line in open(path, encoding="utf-8"):
            if line.startswith("## "):
                cur = line[3:].strip()
                old[cur] = []
            elif cur and line.strip():
                old[cur].append(line)
    for w in writers:
        key = f"{w.name}.{w.casing}"
        lines = [f"{len(w.disagreements) + sum(w.systematic.values())} disagreements\n"]
        for what, n in w.systematic.items():
            lines.append(f"- {n} x {what}\n")
        if len(w.disagreements) > 25:
            lines.append(f"- (the first 25 of {len(w.disagreements)} listed)\n")
        for rec, a, b, what, fast_v, slow_v in w.disagreements[:25]:
            shown = "" if a is None else f" input={json.dumps(a, ensure_ascii=False)[:200]}"
            if b is not None:
                shown += f" pair={json.dumps(b, ensure_ascii=False)[:120]}"
            lines.append(f"- record {rec} {what}:{shown}\n    fast: {json.dumps(fast_v, ensure_ascii=False)[:400]}\n"
                         f"    slow: {json.dumps(slow_v, ensure_ascii=False)[:400]}\n")
        old[key] = lines
    with open(path, "w", encoding="utf-8") as f:
        f.write("# Where HF BertTokenizer (slow) and BertTokenizerFast (fast) disagree.\n"
                "# Made by tools/make_tokenizer_golden.py; bertlab matches fast. Records index the\n"
                "# golden file of the section; hashed sets (conll2003, agnews) give the input index only.\n\n")
        for key in sorted(old):
            f.write(f"## {key}\n")
            f.writelines(old[key])
            f.write("\n")


if __name__ == "__main__":
    main()
