// tests/tokenizer/test_parity.cpp — our tokenizer against Hugging Face BertTokenizerFast, field by
// field, on every golden set in tests/tokenizer/golden (made by tools/make_tokenizer_golden.py):
// seed sentences, feature cases (batches, padding, truncation strategies, stride, overflow),
// hand-made hard cases, long inputs, SST-2 dev, WNUT-17 (pre-split words), WikiText-2, SQuAD
// (questions, contexts, QA pairs with overflow windows), and hashed sets whose text we may not
// commit (CoNLL-2003, AG News: read from ../shared/data, skipped with a message when absent).
// Every field must be identical: ids, token types, attention and special-token masks, offsets,
// word ids, tokens, overflow-to-sample mapping, decode outputs.
#include <doctest/doctest.h>

#include <cstdio>
#include <sstream>

#include "tests/tokenizer/golden_reader.h"
#include "tokenizer/bert_tokenizer.h"
#include "tokenizer/unicode.h"

namespace tk = bertlab::tokenizer;
using nlohmann::json;
using tk::testing::Golden;

namespace {

const std::filesystem::path kGolden = "tests/tokenizer/golden";
const char* const kCasings[] = {"uncased", "cased"};

const tk::BertTokenizer& tokenizer(const std::string& casing) {
  static const tk::BertTokenizer uncased("data/vocab/bert-base-uncased-vocab.txt", [] {
    tk::TokenizerOptions o;
    o.do_lower_case = true;
    return o;
  }());
  static const tk::BertTokenizer cased("data/vocab/bert-base-cased-vocab.txt", [] {
    tk::TokenizerOptions o;
    o.do_lower_case = false;
    return o;
  }());
  return casing == "cased" ? cased : uncased;
}

tk::EncodeOptions options_of(const json& rec) {
  tk::EncodeOptions o;
  if (!rec.contains("opts")) return o;
  const json& j = rec["opts"];
  if (j.contains("truncation")) {
    const auto t = j["truncation"];
    if (t.is_boolean()) {
      o.truncation = t.get<bool>() ? tk::Truncation::kLongestFirst : tk::Truncation::kNone;
    } else {
      const std::string s = t.get<std::string>();
      o.truncation = s == "only_first"    ? tk::Truncation::kOnlyFirst
                     : s == "only_second" ? tk::Truncation::kOnlySecond
                     : s == "do_not_truncate" ? tk::Truncation::kNone
                                              : tk::Truncation::kLongestFirst;
    }
  }
  if (j.contains("padding")) {
    const std::string p = j["padding"].get<std::string>();
    o.padding = p == "max_length" ? tk::Padding::kMaxLength : p == "longest" ? tk::Padding::kLongest : tk::Padding::kNone;
  }
  o.max_length = j.value("max_length", std::size_t{0});
  o.stride = j.value("stride", std::size_t{0});
  o.pad_to_multiple_of = j.value("pad_to_multiple_of", std::size_t{0});
  o.add_special_tokens = j.value("add_special_tokens", true);
  o.return_overflowing_tokens = j.value("overflow", false);
  return o;
}

// A record's batch as owned strings (EncodeInput holds views into these).
struct Batch {
  std::vector<std::string> a, b;
  std::vector<std::vector<std::string>> aw, bw;
  std::vector<tk::EncodeInput> inputs;
};

Batch batch_of(const json& rec) {
  Batch batch;
  const bool words = rec.value("words", false);
  const json& a = rec["a"];
  const bool has_b = rec.contains("b");
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (words) {
      batch.aw.push_back(a[i].get<std::vector<std::string>>());
      if (has_b) batch.bw.push_back(rec["b"][i].get<std::vector<std::string>>());
    } else {
      batch.a.push_back(a[i].get<std::string>());
      if (has_b) batch.b.push_back(rec["b"][i].get<std::string>());
    }
  }
  if (rec.contains("raw")) batch.a[0] = tk::testing::from_hex(rec["raw"].get<std::string>());
  for (std::size_t i = 0; i < a.size(); ++i) {
    tk::EncodeInput in;
    if (words) {
      in.is_split_into_words = true;
      in.words = batch.aw[i];
      if (has_b) in.pair_words = batch.bw[i];
    } else {
      in.text = batch.a[i];
      if (has_b) in.pair = batch.b[i];
    }
    batch.inputs.push_back(in);
  }
  return batch;
}

// HF's BatchEncoding rows: each encoding, then its overflowing windows.
std::vector<const tk::Encoding*> rows_of(const std::vector<tk::Encoding>& encs, bool overflow,
                                         std::vector<int>* mapping) {
  std::vector<const tk::Encoding*> rows;
  for (std::size_t i = 0; i < encs.size(); ++i) {
    rows.push_back(&encs[i]);
    if (mapping) mapping->push_back(static_cast<int>(i));
    if (!overflow) continue;
    for (const tk::Encoding& o : encs[i].overflowing) {
      rows.push_back(&o);
      if (mapping) mapping->push_back(static_cast<int>(i));
    }
  }
  return rows;
}

// Compares what we return with the golden; returns the first difference, or "".
template <class Got, class Want>
std::string diff_list(const char* field, const Got& got, const Want& want) {
  if (got == want) return "";
  std::ostringstream ss;
  ss << field << ": got " << got.size() << " items, want " << want.size();
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    if (!(got[i] == want[i])) {
      ss << "; first difference at " << i << ": got " << json(got[i]).dump() << " want " << json(want[i]).dump();
      break;
    }
  }
  return ss.str();
}

std::string compare_row(const tk::BertTokenizer& tok, const tk::Encoding& e, const json& want) {
  std::vector<std::string> errors;
  const auto check = [&](const std::string& d) {
    if (!d.empty()) errors.push_back(d);
  };
  check(diff_list("ids", e.ids, want["ids"].get<std::vector<int>>()));
  check(diff_list("token_type_ids", e.type_ids, want["tt"].get<std::vector<int>>()));
  std::vector<int> am(e.attention_mask.begin(), e.attention_mask.end());
  std::vector<int> stm(e.special_tokens_mask.begin(), e.special_tokens_mask.end());
  check(diff_list("attention_mask", am, want["am"].get<std::vector<int>>()));
  check(diff_list("special_tokens_mask", stm, want["stm"].get<std::vector<int>>()));
  std::vector<std::vector<std::uint32_t>> off;
  for (auto [s, t] : e.offsets) off.push_back({s, t});
  check(diff_list("offsets", off, want["off"].get<std::vector<std::vector<std::uint32_t>>>()));
  check(diff_list("word_ids", e.word_ids, want["wid"].get<std::vector<int>>()));
  if (want.contains("tok")) {
    check(diff_list("tokens", tok.convert_ids_to_tokens(e.ids), want["tok"].get<std::vector<std::string>>()));
  }
  std::string all;
  for (const auto& s : errors) all += (all.empty() ? "" : " | ") + s;
  return all;
}

std::string compare_decode(const tk::BertTokenizer& tok, const tk::Encoding& e, const json& want) {
  std::string errors;
  const auto check = [&](const char* what, const std::string& got, const json& w) {
    if (got != w.get<std::string>()) {
      errors += std::string(" ") + what + ": got " + json(got).dump() + " want " + w.dump() + ";";
    }
  };
  tk::DecodeOptions d;
  d.skip_special_tokens = false, d.clean_up_tokenization_spaces = false;
  check("decode(skip=F,clean=F)", tok.decode(e.ids, d), want["ff"]);
  d.skip_special_tokens = false, d.clean_up_tokenization_spaces = true;
  check("decode(skip=F,clean=T)", tok.decode(e.ids, d), want["ft"]);
  d.skip_special_tokens = true, d.clean_up_tokenization_spaces = false;
  check("decode(skip=T,clean=F)", tok.decode(e.ids, d), want["tf"]);
  d.skip_special_tokens = true, d.clean_up_tokenization_spaces = true;
  check("decode(skip=T,clean=T)", tok.decode(e.ids, d), want["tt"]);
  check("convert_tokens_to_string", tok.convert_tokens_to_string(tok.convert_ids_to_tokens(e.ids)), want["cts"]);
  return errors;
}

struct Tally {
  std::size_t records = 0, rows = 0, tokens = 0, failures = 0, slow_disagree = 0;
};

// Runs one full golden file through tok; returns counts and (when report) fails the test case
// on the first differences, printing them.
Tally run_full(const std::string& name, const std::string& casing, const tk::BertTokenizer& tok, bool report = true) {
  const auto path = kGolden / (name + "." + casing + ".jsonl.gz");
  const Golden g = tk::testing::read_golden(path);
  Tally t;
  for (std::size_t r = 0; r < g.records.size(); ++r) {
    const json& rec = g.records[r];
    ++t.records;
    if (rec.contains("slow")) ++t.slow_disagree;
    const Batch batch = batch_of(rec);
    const tk::EncodeOptions opt = options_of(rec);
    std::string failure;
    if (rec.contains("error")) {  // HF raised: so must we
      try {
        (void)tok.encode_batch(batch.inputs, opt);
        failure = "HF raised (" + rec["error"].get<std::string>() + ") but we did not";
      } catch (const std::exception&) {
      }
    } else {
      std::vector<tk::Encoding> encs;
      try {
        encs = tok.encode_batch(batch.inputs, opt);
      } catch (const std::exception& ex) {
        failure = std::string("threw: ") + ex.what();
      }
      if (failure.empty()) {
        std::vector<int> mapping;
        const auto rows = rows_of(encs, opt.return_overflowing_tokens, &mapping);
        const json& want = rec["rows"];
        if (rows.size() != want.size()) {
          failure = "rows: got " + std::to_string(rows.size()) + " want " + std::to_string(want.size());
        } else {
          if (rec.contains("map") && mapping != rec["map"].get<std::vector<int>>()) {
            failure = "overflow_to_sample_mapping differs";
          }
          for (std::size_t i = 0; i < rows.size() && failure.empty(); ++i) {
            failure = compare_row(tok, *rows[i], want[i]);
            if (failure.empty() && rec.contains("dec")) failure = compare_decode(tok, *rows[i], rec["dec"][i]);
            if (!failure.empty()) failure = "row " + std::to_string(i) + ": " + failure;
            t.tokens += rows[i]->size();
          }
          t.rows += rows.size();
        }
      }
    }
    if (!failure.empty()) {
      if (++t.failures <= 5 && report) {
        FAIL_CHECK(name << "." << casing << " record " << r << " input "
                            << rec["a"].dump().substr(0, 300) << (rec.contains("b") ? " pair " + rec["b"].dump().substr(0, 100) : "")
                            << "\n  " << failure);
      }
    }
  }
  if (report) {
    MESSAGE(name << "." << casing << ": " << t.records << " records, " << t.rows << " rows, " << t.tokens
                  << " tokens compared, " << t.failures << " failures; " << t.slow_disagree
                  << " records where HF slow differs from fast (we match fast)");
  }
  return t;
}

std::string row_repr(const tk::Encoding& e) {
  std::string s;
  for (std::size_t i = 0; i < e.size(); ++i) {
    s += std::to_string(e.ids[i]) + "," + std::to_string(e.type_ids[i]) + "," + std::to_string(e.attention_mask[i]) +
         "," + std::to_string(e.special_tokens_mask[i]) + "," + std::to_string(e.offsets[i].first) + "," +
         std::to_string(e.offsets[i].second) + "," + std::to_string(e.word_ids[i]) + ";";
  }
  return s + "\n";
}

// A hashed golden set: `calls` are (input, options) in the order the generator used.
struct Call {
  tk::EncodeInput input;
  tk::EncodeOptions opt;
};

// Returns the number of blocks that differ.
std::size_t run_hashed(const std::string& name, const std::string& casing, const std::vector<Call>& calls,
                       const tk::BertTokenizer& tok, bool report = true) {
  const Golden g = tk::testing::read_golden(kGolden / (name + "_hashed." + casing + ".jsonl.gz"));
  REQUIRE_MESSAGE(calls.size() == g.header["count"].get<std::size_t>(),
                  name << ": the source gives " << calls.size() << " inputs, the golden was made from "
                       << g.header["count"] << " (source changed? golden sha256 " << g.header["source_sha256"] << ")");
  std::size_t failures = 0, rows = 0;
  for (const json& block : g.records) {
    const std::size_t first = block["first"], n = block["n"];
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (std::size_t k = first; k < first + n; ++k) {
      const tk::Encoding e = tok.encode(calls[k].input, calls[k].opt);
      h = tk::testing::fnv1a64(row_repr(e), h);
      ++rows;
      if (calls[k].opt.return_overflowing_tokens) {
        for (const tk::Encoding& o : e.overflowing) h = tk::testing::fnv1a64(row_repr(o), h), ++rows;
      }
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    if (hex != block["h"].get<std::string>() && ++failures <= 5 && report) {
      FAIL_CHECK(name << "." << casing << ": inputs " << first << ".." << first + n - 1
                          << " differ from HF (hash " << hex << " want " << block["h"].get<std::string>()
                          << "); rerun tools/make_tokenizer_golden.py to see HF's output");
    }
  }
  if (report) {
    MESSAGE(name << "." << casing << " (hashed): " << calls.size() << " inputs, " << rows << " rows in "
                  << g.records.size() << " blocks, " << failures << " blocks differ");
  }
  return failures;
}

// Checks one hashed set in both casings, and that the check notices the wrong tokenizer.
void check_hashed(const std::string& name, const std::vector<Call>& calls) {
  for (const char* casing : kCasings) CHECK(run_hashed(name, casing, calls, tokenizer(casing)) == 0);
  CHECK(run_hashed(name, "cased", calls, tokenizer("uncased"), false) > 0);
}

std::vector<std::string> split_lines(const std::string& text, const std::string& sep) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find(sep, pos);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(pos, end - pos));
    pos = end + sep.size();
  }
  return out;
}

std::vector<std::vector<std::string>> read_conll(const std::filesystem::path& path) {
  std::vector<std::vector<std::string>> sents;
  std::vector<std::string> cur;
  for (const std::string& line : split_lines(tk::testing::read_file(path), "\n")) {
    std::istringstream ss(line);
    std::string word;
    if (!(ss >> word)) {
      if (!cur.empty()) sents.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    cur.push_back(word);
  }
  if (!cur.empty()) sents.push_back(std::move(cur));
  return sents;
}

}  // namespace

TEST_CASE("parity with HF BertTokenizerFast on the committed golden sets") {
  for (const char* casing : kCasings) {
    for (const char* set : {"seed", "features", "hard", "long", "sst2_dev", "wnut17", "wikitext2", "squad_dev"}) {
      SUBCASE((std::string(set) + "." + casing).c_str()) {
        const Tally t = run_full(set, casing, tokenizer(casing));
        CHECK(t.failures == 0);
        CHECK(t.records > 0);
      }
    }
  }
}

TEST_CASE("the parity check fails on a tokenizer that differs from HF") {
  // A test that cannot fail is no test: the same comparison must catch a real difference.
  tk::TokenizerOptions short_words;
  short_words.max_input_chars_per_word = 99;  // HF: 100
  const tk::BertTokenizer wrong_limit("data/vocab/bert-base-uncased-vocab.txt", short_words);
  CHECK(run_full("long", "uncased", wrong_limit, false).failures > 0);
  CHECK(run_full("seed", "uncased", tokenizer("cased"), false).failures > 0);
  tk::TokenizerOptions no_cjk;
  no_cjk.tokenize_chinese_chars = false;
  const tk::BertTokenizer wrong_cjk("data/vocab/bert-base-uncased-vocab.txt", no_cjk);
  CHECK(run_full("hard", "uncased", wrong_cjk, false).failures > 0);
  // and the row comparison reports each field
  const tk::Encoding e = tokenizer("uncased").encode("The cat sat on the mat.");
  json want = {{"ids", e.ids}, {"tt", e.type_ids}, {"am", std::vector<int>(e.size(), 1)},
               {"stm", {1, 0, 0, 0, 0, 0, 0, 0, 1}}, {"wid", e.word_ids}, {"off", json::array()}};
  for (auto [a, b] : e.offsets) want["off"].push_back({a, b});
  CHECK(compare_row(tokenizer("uncased"), e, want).empty());
  for (const char* field : {"ids", "tt", "am", "stm", "wid"}) {
    json bad = want;
    bad[field][3] = 7;
    CHECK_MESSAGE(!compare_row(tokenizer("uncased"), e, bad).empty(), field);
  }
  json bad = want;
  bad["off"][2][1] = 99;
  CHECK(!compare_row(tokenizer("uncased"), e, bad).empty());
}

TEST_CASE("parity on a 1 MB line (hashed)") {
  for (const char* casing : kCasings) {
    const json g = json::parse(tk::testing::read_file(kGolden / (std::string("long_1mb.") + casing + ".json.gz")));
    const std::string unit = g["unit"];
    const std::size_t bytes = g["bytes"];
    std::string text;
    while (text.size() < bytes) text += unit;
    text.resize(bytes);
    while (!text.empty() && !tk::is_valid_utf8(text)) text.pop_back();  // errors="ignore" on the cut
    const tk::Encoding e = tokenizer(casing).encode(text);
    CHECK(e.size() == g["n_tokens"].get<std::size_t>());
    const auto first = g["first_ids"].get<std::vector<int>>(), last = g["last_ids"].get<std::vector<int>>();
    REQUIRE(e.size() >= first.size());
    CHECK(std::vector<int>(e.ids.begin(), e.ids.begin() + 64) == first);
    CHECK(std::vector<int>(e.ids.end() - 64, e.ids.end()) == last);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(tk::testing::fnv1a64(row_repr(e))));
    CHECK(std::string(hex) == g["h"].get<std::string>());
  }
}

TEST_CASE("parity on every WikiText-2 test line (hashed)") {
  const std::string raw = tk::testing::read_file("data/wikitext2/wiki.test.raw");
  std::vector<std::string> lines;
  for (auto& l : split_lines(raw, "\r\n")) {
    if (!l.empty()) lines.push_back(std::move(l));
  }
  std::vector<Call> calls(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) calls[i].input.text = lines[i];
  check_hashed("wikitext2", calls);
}

TEST_CASE("parity on all of SQuAD v1.1 dev: contexts, questions, QA windows (hashed)") {
  const auto path = tk::testing::shared_data() / "squad" / "dev-v1.1.json";
  if (!std::filesystem::exists(path)) {
    MESSAGE("skipped: " << path << " not found (the committed sample in squad_dev.*.jsonl.gz still ran)");
    return;
  }
  const json d = json::parse(tk::testing::read_file(path));
  std::vector<std::string> contexts, questions, first_question;
  for (const json& art : d["data"]) {
    for (const json& p : art["paragraphs"]) {
      contexts.push_back(p["context"]);
      first_question.push_back(p["qas"].empty() ? std::string() : p["qas"][0]["question"].get<std::string>());
      for (const json& qa : p["qas"]) questions.push_back(qa["question"]);
    }
  }
  tk::EncodeOptions qa;  // the QA pre-processing of run_qa.py
  qa.truncation = tk::Truncation::kOnlySecond;
  qa.max_length = 384;
  qa.stride = 128;
  qa.return_overflowing_tokens = true;
  qa.padding = tk::Padding::kMaxLength;
  std::vector<Call> calls;
  for (const auto& c : contexts) calls.push_back({{.text = c}, {}});
  for (const auto& q : questions) calls.push_back({{.text = q}, {}});
  for (std::size_t i = 0; i < contexts.size(); ++i) {
    tk::EncodeInput in;
    in.text = first_question[i];
    in.pair = contexts[i];
    calls.push_back({in, qa});
  }
  check_hashed("squad_dev", calls);
}

TEST_CASE("parity on CoNLL-2003 dev+test words (hashed; text not redistributable)") {
  const auto dir = tk::testing::shared_data() / "ner" / "conll2003";
  if (!std::filesystem::exists(dir / "eng.testa") || !std::filesystem::exists(dir / "eng.testb")) {
    MESSAGE("skipped: " << dir << " not found");
    return;
  }
  auto sents = read_conll(dir / "eng.testa");
  auto more = read_conll(dir / "eng.testb");
  sents.insert(sents.end(), more.begin(), more.end());
  std::vector<Call> calls(sents.size());
  for (std::size_t i = 0; i < sents.size(); ++i) {
    calls[i].input.is_split_into_words = true;
    calls[i].input.words = sents[i];
  }
  check_hashed("conll2003", calls);
}

TEST_CASE("parity on AG News test (hashed; text not redistributable)") {
  const auto path = tk::testing::shared_data() / "agnews" / "test.tsv";
  if (!std::filesystem::exists(path)) {
    MESSAGE("skipped: " << path << " not found");
    return;
  }
  std::vector<std::string> texts;
  for (const auto& line : split_lines(tk::testing::read_file(path), "\n")) {
    if (!line.empty()) texts.push_back(line.substr(0, line.find('\t')));
  }
  std::vector<Call> calls(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) calls[i].input.text = texts[i];
  check_hashed("agnews_test", calls);
}
