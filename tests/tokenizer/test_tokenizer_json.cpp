// tests/tokenizer/test_tokenizer_json.cpp — tokenizer/tokenizer_json.h: folders that transformers 5
// saved (tokenizer.json + tokenizer_config.json, no vocab.txt) tokenize exactly as transformers 5
// does; what we write reads back the same; every unsupported or inconsistent file is an error that
// names the file and the JSON key path.
// Golden folders: tests/tokenizer/golden/hf5/*/ (tools/make_hf5_golden.py, transformers 5.23).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/tokenizer/golden_reader.h"
#include "tokenizer/bert_tokenizer.h"
#include "tokenizer/tokenizer_json.h"

namespace tk = bertlab::tokenizer;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kGolden = "tests/tokenizer/golden/hf5";

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const tk::TokenizerError& e) {
    return e.what();
  }
  return "";
}

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) : path(fs::temp_directory_path() / (name + "." + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& file, const std::string& text) const {
    std::ofstream(path / file, std::ios::binary) << text;
  }
};

// The records of a golden folder that `tok` gets wrong (ids, token types or offsets); prints the first.
int mismatches(const fs::path& folder, const tk::BertTokenizer& tok, bool print) {
  const auto golden = tk::testing::read_golden(folder / "expected.jsonl.gz");
  int bad = 0;
  for (const json& r : golden.records) {
    const std::string text = r["text"];
    const tk::Encoding e = r.contains("pair") ? tok.encode(text, r["pair"].get<std::string>()) : tok.encode(text);
    std::vector<std::vector<std::uint32_t>> offsets;
    for (const auto& [a, b] : e.offsets) offsets.push_back({a, b});
    const bool same = e.ids == r["ids"].get<std::vector<tk::TokenId>>() &&
                      e.type_ids == r["type_ids"].get<std::vector<std::int32_t>>() &&
                      offsets == r["offsets"].get<std::vector<std::vector<std::uint32_t>>>();
    if (!same && bad++ == 0 && print) {
      json got = e.ids;
      MESSAGE(folder.string() << ": first mismatch on " << json(text).dump() << "\n  want " << r["ids"].dump()
                              << "\n  got  " << got.dump());
    }
  }
  return bad;
}

std::string read_text(const fs::path& p) { return tk::testing::read_file(p); }

// The golden "uncased" tokenizer.json as a JSON value, to break in one place per test.
json uncased_json() { return json::parse(read_text(kGolden / "uncased" / "tokenizer.json")); }

std::string parse_error(const json& j) {
  return error_of([&] { tk::parse_tokenizer_json(j.dump(), "t.json"); });
}

}  // namespace

TEST_CASE("folders saved by transformers 5 (no vocab.txt) tokenize as transformers 5") {
  int folders = 0;
  for (const auto& entry : fs::directory_iterator(kGolden)) {
    if (!entry.is_directory()) continue;
    const fs::path d = entry.path();
    CAPTURE(d.string());
    CHECK_FALSE(fs::exists(d / "vocab.txt"));
    const tk::BertTokenizer tok = tk::BertTokenizer::from_pretrained(d);
    const auto golden = tk::testing::read_golden(d / "expected.jsonl.gz");
    CHECK(golden.records.size() > 90);
    CHECK(tok.vocab().size() == golden.header["vocab_size"].get<std::size_t>());
    CHECK(mismatches(d, tok, true) == 0);
    ++folders;
  }
  CHECK(folders == 6);
}

TEST_CASE("the golden comparison notices a tokenizer with other options") {
  // The same vocabulary with the wrong normalizer must fail many records: the check can fail.
  const tk::BertTokenizer right = tk::BertTokenizer::from_pretrained(kGolden / "cased_strip_no_cjk");
  tk::TokenizerOptions o = right.options();
  o.strip_accents = false;
  CHECK(mismatches(kGolden / "cased_strip_no_cjk", tk::BertTokenizer(right.vocab(), o), false) > 3);
  o = right.options();
  o.tokenize_chinese_chars = true;
  CHECK(mismatches(kGolden / "cased_strip_no_cjk", tk::BertTokenizer(right.vocab(), o), false) > 3);
  // without its added special tokens, "[E1] Paris [/E1]" splits into pieces
  const tk::BertTokenizer added = tk::BertTokenizer::from_pretrained(kGolden / "uncased_added_trunc");
  o = added.options();
  o.additional_special_tokens.clear();
  CHECK(mismatches(kGolden / "uncased_added_trunc", tk::BertTokenizer(added.vocab(), o), false) >= 2);
}

TEST_CASE("what tokenizer.json says is read: options, specials, added tokens, truncation, padding") {
  const auto cased = tk::load_tokenizer_json(kGolden / "cased_strip_no_cjk" / "tokenizer.json");
  CHECK_FALSE(cased.options.do_lower_case);
  CHECK(cased.options.strip_accents == true);
  CHECK_FALSE(cased.options.tokenize_chinese_chars);
  CHECK(cased.options.clean_text);
  CHECK(cased.options.cls_token == "[CLS]");
  CHECK(cased.vocab.find("[CLS]") == 2);  // bert-base's order, without its [unused] tokens
  CHECK_FALSE(cased.truncation);
  CHECK_FALSE(cased.padding);

  const auto added = tk::load_tokenizer_json(kGolden / "uncased_added_trunc" / "tokenizer.json");
  CHECK(added.vocab.size() == 1294);  // 1292 + [E1] [/E1], appended after the vocabulary
  CHECK(added.vocab.find("[/E1]") == 1293);
  CHECK(added.options.additional_special_tokens == std::vector<std::string>{"[E1]", "[/E1]"});
  REQUIRE(added.truncation);
  CHECK(added.truncation->max_length == 24);
  CHECK(added.truncation->stride == 4);
  CHECK(added.truncation->strategy == tk::Truncation::kOnlyFirst);
  REQUIRE(added.padding);
  CHECK(added.padding->strategy == tk::Padding::kMaxLength);
  CHECK(added.padding->length == 32);
  CHECK(added.padding->pad_to_multiple_of == 8);
  const tk::BertTokenizer tok = tk::BertTokenizer::from_pretrained(kGolden / "uncased_added_trunc");
  CHECK(tok.tokenize("a [E1] b") == std::vector<std::string>{"a", "[E1]", "b"});
  CHECK(tok.is_special(1292));
}

TEST_CASE("a folder with both files reads tokenizer.json, as AutoTokenizer does") {
  TempDir d("bertlab_tj_both");
  fs::copy(kGolden / "cased" / "tokenizer.json", d.path / "tokenizer.json");
  fs::copy(kGolden / "cased" / "tokenizer_config.json", d.path / "tokenizer_config.json");
  d.write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");  // a different, stale vocabulary
  const tk::BertTokenizer tok = tk::BertTokenizer::from_pretrained(d.path);
  CHECK(tok.vocab().size() == 1342);
  CHECK(mismatches(kGolden / "cased", tok, true) == 0);
}

TEST_CASE("tokenizer.json written here reads back the same, and matches vocab.txt on bert-base") {
  for (const char* casing : {"uncased", "cased"}) {
    CAPTURE(casing);
    tk::TokenizerOptions o;
    o.do_lower_case = std::string(casing) == "uncased";
    const tk::BertTokenizer from_txt("data/vocab/bert-base-" + std::string(casing) + "-vocab.txt", o);
    const std::string text = tk::to_tokenizer_json(from_txt.vocab(), o);
    const auto back = tk::parse_tokenizer_json(text);
    CHECK(back.vocab.tokens() == from_txt.vocab().tokens());
    CHECK(back.options.do_lower_case == o.do_lower_case);
    CHECK(back.options.strip_accents == o.strip_accents);
    CHECK(back.options.tokenize_chinese_chars);
    CHECK(back.options.additional_special_tokens.empty());
    CHECK(tk::to_tokenizer_json(back.vocab, back.options) == text);  // a fixed point
    CHECK(tk::parse_vocab(tk::to_vocab_txt(back.vocab), "v").tokens() == from_txt.vocab().tokens());
    const tk::BertTokenizer from_json(back.vocab, back.options);
    for (const char* s : {"The cat sat on the mat.", "Café crème brûlée à la française", "中文字符测试 [MASK]"}) {
      CHECK(from_json.encode(s).ids == from_txt.encode(s).ids);
    }
  }
  // written in transformers 5's layout: the golden file, byte for byte, from its own contents
  const std::string hf = read_text(kGolden / "cased_strip_no_cjk" / "tokenizer.json");
  const auto parsed = tk::parse_tokenizer_json(hf);
  CHECK(tk::to_tokenizer_json(parsed.vocab, parsed.options) == hf + (hf.ends_with("\n") ? "" : "\n"));
}

TEST_CASE("older and equivalent forms are read: BertProcessing, a Sequence of one, null decoder") {
  json j = uncased_json();
  j["post_processor"] = {{"type", "BertProcessing"}, {"sep", {"[SEP]", 3}}, {"cls", {"[CLS]", 2}}};
  j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {j["normalizer"]}}};
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {{{"type", "BertPreTokenizer"}}}}};
  j["decoder"] = nullptr;
  const auto t = tk::parse_tokenizer_json(j.dump());
  CHECK(t.options.cls_token == "[CLS]");
  CHECK(t.options.do_lower_case);
  j["normalizer"] = nullptr;  // no normalizer: the text as it is
  const auto raw = tk::parse_tokenizer_json(j.dump());
  CHECK_FALSE(raw.options.do_lower_case);
  CHECK_FALSE(raw.options.clean_text);
  CHECK_FALSE(raw.options.tokenize_chinese_chars);
  CHECK(raw.options.strip_accents == false);
}

TEST_CASE("an unsupported or inconsistent tokenizer.json is an error naming the key path") {
  struct Case {
    const char* what;
    void (*breaks)(json&);
    const char* message;
  };
  const Case cases[] = {
      {"a BPE model", [](json& j) { j["model"]["type"] = "BPE"; }, "t.json: model.type: 'BPE' is not supported"},
      {"no model", [](json& j) { j.erase("model"); }, "t.json: missing key 'model'"},
      {"a list vocab", [](json& j) { j["model"]["vocab"] = json::array(); }, "model.vocab: must be an object"},
      {"an empty vocab", [](json& j) { j["model"]["vocab"] = json::object(); }, "model.vocab: is empty"},
      {"an id used twice", [](json& j) { j["model"]["vocab"]["the"] = 2; }, "model.vocab[\"the\"]: id 2 is also the id of '[CLS]'"},
      {"an id past the end", [](json& j) { j["model"]["vocab"]["the"] = 99999; }, "model.vocab[\"the\"]: id 99999 is outside 0..1291"},
      {"a negative id", [](json& j) { j["model"]["vocab"]["the"] = -1; }, "model.vocab[\"the\"]: must be a non-negative integer, got number -1"},
      {"a float id", [](json& j) { j["model"]["vocab"]["the"] = 3.5; }, "model.vocab[\"the\"]: must be a non-negative integer"},
      {"a string id", [](json& j) { j["model"]["vocab"]["the"] = "7"; }, "must be a non-negative integer, got string \"7\""},
      {"unk not in vocab", [](json& j) { j["model"]["unk_token"] = "<unk>"; }, "model.unk_token: '<unk>' is not in model.vocab"},
      {"unk not a string", [](json& j) { j["model"]["unk_token"] = 1; }, "model.unk_token: must be a string"},
      {"max chars negative", [](json& j) { j["model"]["max_input_chars_per_word"] = -5; }, "model.max_input_chars_per_word: must be a non-negative integer"},
      {"an NFD normalizer", [](json& j) { j["normalizer"] = {{"type", "NFD"}}; }, "normalizer.type: 'NFD' is not supported"},
      {"lowercase as a string", [](json& j) { j["normalizer"]["lowercase"] = "yes"; }, "normalizer.lowercase: must be true or false, got string \"yes\""},
      {"strip_accents as a number", [](json& j) { j["normalizer"]["strip_accents"] = 1; }, "normalizer.strip_accents: must be true, false or null"},
      {"a Sequence of two", [](json& j) { j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {j["normalizer"], {{"type", "NFD"}}}}}; }, "normalizer.normalizers: holds 2 normalizers"},
      {"a Sequence of one NFC", [](json& j) { j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFC"}}}}}; }, "normalizer.normalizers[0].type: 'NFC' is not supported"},
      {"a Whitespace pre-tokenizer", [](json& j) { j["pre_tokenizer"] = {{"type", "Whitespace"}}; }, "pre_tokenizer.type: 'Whitespace' is not supported"},
      {"no type", [](json& j) { j["pre_tokenizer"] = json::object(); }, "pre_tokenizer: missing key 'type'"},
      {"no post-processor", [](json& j) { j["post_processor"] = nullptr; }, "post_processor: is null"},
      {"a RoBERTa post-processor", [](json& j) { j["post_processor"]["type"] = "RobertaProcessing"; }, "post_processor.type: 'RobertaProcessing' is not supported"},
      {"a template without [SEP]", [](json& j) { j["post_processor"]["single"].erase(2); }, "post_processor.single: is not BERT's template"},
      {"pair type ids all 0", [](json& j) { j["post_processor"]["pair"][3]["Sequence"]["type_id"] = 0; }, "post_processor.pair: is not BERT's template"},
      {"a bad template piece", [](json& j) { j["post_processor"]["single"][1] = {{"Other", 1}}; }, "post_processor.single[1]: unknown template piece 'Other'"},
      {"[CLS]'s id disagrees", [](json& j) { j["post_processor"]["special_tokens"]["[CLS]"]["ids"][0] = 7; },
       "post_processor.special_tokens[\"[CLS]\"].ids[0]: '[CLS]' with id 7 disagrees with the vocabulary, where its id is 2"},
      {"[SEP] missing from special_tokens", [](json& j) { j["post_processor"]["special_tokens"].erase("[SEP]"); }, "post_processor.special_tokens: missing '[SEP]'"},
      {"BertProcessing with a wrong id", [](json& j) { j["post_processor"] = {{"type", "BertProcessing"}, {"sep", {"[SEP]", 3}}, {"cls", {"[CLS]", 9}}}; }, "post_processor.cls: '[CLS]' with id 9 disagrees"},
      {"an added token at another id", [](json& j) { j["added_tokens"][1]["id"] = 5; }, "added_tokens[1].id: 5 disagrees with model.vocab, where '[UNK]' has id 1"},
      {"an added token past the end with a gap", [](json& j) { j["added_tokens"][1]["content"] = "[NEW]"; j["added_tokens"][1]["id"] = 5000; }, "added_tokens[1].id: 5000: '[NEW]' is not in model.vocab, so its id must be 1292"},
      {"an added token twice", [](json& j) { j["added_tokens"][2] = j["added_tokens"][1]; }, "added_tokens[2].content: '[UNK]' is listed twice"},
      {"a non-special added token", [](json& j) { j["added_tokens"][1]["special"] = false; }, "added_tokens[1].special: '[UNK]' is not special"},
      {"a normalized added token", [](json& j) { j["added_tokens"][0]["normalized"] = true; }, "added_tokens[0].normalized: true is not supported"},
      {"added_tokens not a list", [](json& j) { j["added_tokens"] = 3; }, "added_tokens: must be a list, got number 3"},
      {"a decoder prefix that differs", [](json& j) { j["decoder"]["prefix"] = "@@"; }, "decoder.prefix: '@@' differs from model.continuing_subword_prefix '##'"},
      {"a BPE decoder", [](json& j) { j["decoder"] = {{"type", "BPEDecoder"}}; }, "decoder.type: 'BPEDecoder' is not supported"},
      {"left truncation", [](json& j) { j["truncation"] = {{"direction", "Left"}, {"max_length", 8}, {"strategy", "LongestFirst"}, {"stride", 0}}; }, "truncation.direction: 'Left' is not supported"},
      {"a stride past max_length", [](json& j) { j["truncation"] = {{"max_length", 8}, {"stride", 8}}; }, "truncation.stride: 8 must be smaller than max_length 8"},
      {"an unknown strategy", [](json& j) { j["truncation"] = {{"max_length", 8}, {"strategy", "Middle"}}; }, "truncation.strategy: 'Middle' is not"},
      {"a pad id that disagrees", [](json& j) { j["padding"] = {{"strategy", "BatchLongest"}, {"pad_id", 4}, {"pad_token", "[PAD]"}}; }, "padding.pad_id: '[PAD]' with id 4 disagrees with the vocabulary, where its id is 0"},
      {"a bad padding strategy", [](json& j) { j["padding"] = {{"strategy", "Sometimes"}, {"pad_id", 0}, {"pad_token", "[PAD]"}}; }, "padding.strategy: must be \"BatchLongest\" or {\"Fixed\": length}"},
      {"a version number", [](json& j) { j["version"] = 1; }, "version: must be a string"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    json j = uncased_json();
    c.breaks(j);
    const std::string e = parse_error(j);
    CHECK_MESSAGE(e.find(c.message) != std::string::npos, e);
  }
}

TEST_CASE("malformed JSON, duplicate keys, deep nesting and a non-object are errors, not crashes") {
  const std::string good = read_text(kGolden / "uncased" / "tokenizer.json");
  CHECK(error_of([&] { tk::parse_tokenizer_json(good.substr(0, good.size() / 2), "t.json"); })
            .starts_with("t.json: not valid JSON"));
  CHECK(error_of([&] { tk::parse_tokenizer_json("[1, 2]", "t.json"); }) == "t.json: must be a JSON object, got a list of 2 values");
  CHECK(error_of([&] { tk::parse_tokenizer_json("", "t.json"); }).starts_with("t.json: not valid JSON"));
  CHECK(error_of([&] { tk::parse_tokenizer_json("{\"a\": \"\xff\"}", "t.json"); }).starts_with("t.json: not valid JSON"));
  // a token listed twice in the vocabulary: nlohmann would keep the last one silently
  std::string dup = good;
  const std::size_t at = dup.find("\"[MASK]\": 4");
  REQUIRE(at != std::string::npos);
  dup.insert(at, "\"[MASK]\": 9, ");
  CHECK(error_of([&] { tk::parse_tokenizer_json(dup, "t.json"); }) == "t.json: model.vocab[\"[MASK]\"]: duplicate key");
  CHECK(error_of([&] { tk::parse_tokenizer_json("{\"a\": 1, \"b\": [{}, {\"c\": 1, \"c\": 2}]}", "t.json"); }) ==
        "t.json: b[1][\"c\"]: duplicate key");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  CHECK(error_of([&] { tk::parse_tokenizer_json(deep, "t.json"); }).find("nested deeper than 32 levels") != std::string::npos);
}

TEST_CASE("from_pretrained names the file: tokenizer.json, tokenizer_config.json that disagrees, no files") {
  TempDir d("bertlab_tj_errors");
  CHECK(error_of([&] { tk::BertTokenizer::from_pretrained(d.path); }).find("no tokenizer.json or vocab.txt") != std::string::npos);
  json j = uncased_json();
  j["model"]["type"] = "Unigram";
  d.write("tokenizer.json", j.dump());
  CHECK(error_of([&] { tk::BertTokenizer::from_pretrained(d.path); }) ==
        (d.path / "tokenizer.json").string() + ": model.type: 'Unigram' is not supported (bertlab reads WordPiece tokenizers, as BERT's)");

  // tokenizer_config.json that contradicts tokenizer.json's normalizer or specials
  d.write("tokenizer.json", uncased_json().dump());
  d.write("tokenizer_config.json", R"({"do_lower_case": false})");
  CHECK(error_of([&] { tk::BertTokenizer::from_pretrained(d.path); }) ==
        (d.path / "tokenizer_config.json").string() + ": key 'do_lower_case' is false but " +
            (d.path / "tokenizer.json").string() +
            " has normalizer lowercase true (transformers follows the first, the tokenizers library the second: make them agree)");
  d.write("tokenizer_config.json", R"({"strip_accents": false})");
  CHECK(error_of([&] { tk::BertTokenizer::from_pretrained(d.path); }).find("key 'strip_accents' is false") != std::string::npos);
  d.write("tokenizer_config.json", R"({"strip_accents": null, "do_lower_case": true, "tokenize_chinese_chars": true})");
  CHECK(tk::BertTokenizer::from_pretrained(d.path).options().do_lower_case);  // agreeing keys are fine
  d.write("tokenizer_config.json", R"({"cls_token": "[SEP]"})");
  CHECK(error_of([&] { tk::BertTokenizer::from_pretrained(d.path); }).find("key 'cls_token' is '[SEP]'") != std::string::npos);
  d.write("tokenizer_config.json", R"({"mask_token": "<mask>"})");
  CHECK(error_of([&] { tk::BertTokenizer::from_pretrained(d.path); }) ==
        (d.path / "tokenizer.json").string() + ": the mask_token '<mask>' is not in the vocabulary (1292 tokens)");
  d.write("tokenizer_config.json", R"({"model_max_length": 64, "never_split": ["[X]"]})");
  const auto tok = tk::BertTokenizer::from_pretrained(d.path);
  CHECK(tok.options().model_max_length == 64);
  CHECK(tok.options().never_split.empty());  // the fast tokenizer ignores never_split
}
