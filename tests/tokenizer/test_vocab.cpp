// tests/tokenizer/test_vocab.cpp — tokenizer/vocab.h and the model-folder config loader
// (tokenizer/config.cpp): ids are line numbers, line endings as Python reads them, and every bad
// input is an exception that names the file and the line or key.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "tokenizer/bert_tokenizer.h"
#include "tokenizer/vocab.h"

namespace tk = bertlab::tokenizer;
namespace fs = std::filesystem;

namespace {

// The message of the TokenizerError that f throws ("" when it throws nothing).
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
  explicit TempDir(const std::string& name) : path(fs::temp_directory_path() / name) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& file, const std::string& text) const { std::ofstream(path / file, std::ios::binary) << text; }
};

}  // namespace

TEST_CASE("the id of a token is its line number") {
  const tk::Vocab v = tk::load_vocab("data/vocab/bert-base-uncased-vocab.txt");
  CHECK(v.size() == 30522);
  CHECK(v.at("[PAD]") == 0);
  CHECK(v.at("[UNK]") == 100);
  CHECK(v.at("[CLS]") == 101);
  CHECK(v.at("[SEP]") == 102);
  CHECK(v.at("[MASK]") == 103);
  CHECK(v.at("the") == 1996);
  CHECK(v.at("mat") == 13523);
  CHECK(v.token(1012) == ".");
  CHECK(v.find("definitely-not-a-token") == -1);
  const tk::Vocab cased = tk::load_vocab("data/vocab/bert-base-cased-vocab.txt");
  CHECK(cased.size() == 28996);
  CHECK(cased.at("the") == 1103);
}

TEST_CASE("lines end in \\n, \\r\\n or \\r; other whitespace stays in the token") {
  const tk::Vocab v = tk::parse_vocab("a\r\nb\rc\n d \n\te", "mem");
  REQUIRE(v.size() == 5);
  CHECK(v.token(0) == "a");
  CHECK(v.token(1) == "b");
  CHECK(v.token(2) == "c");
  CHECK(v.token(3) == " d ");
  CHECK(v.token(4) == "\te");  // last line without newline
}

TEST_CASE("bad vocabularies throw, naming file and line") {
  CHECK(error_of([] { tk::parse_vocab("a\nb\na\n", "v.txt"); }) == "v.txt:3: duplicate token 'a' (first on line 1)");
  CHECK(error_of([] { tk::parse_vocab("a\nb\xff\n", "v.txt"); }) == "v.txt:2: not valid UTF-8");
  CHECK(error_of([] { tk::parse_vocab("", "v.txt"); }) == "v.txt: empty vocabulary");
  CHECK(error_of([] { tk::load_vocab("/nonexistent/vocab.txt"); }).find("/nonexistent/vocab.txt: cannot open") == 0);
  const tk::Vocab v = tk::parse_vocab("a\n", "v.txt");
  CHECK_THROWS_AS(v.token(1), std::out_of_range);
  CHECK_THROWS_AS(v.token(-1), std::out_of_range);
  CHECK(error_of([&] { v.at("zz"); }).find("'zz'") != std::string::npos);
}

TEST_CASE("a tokenizer needs its special tokens in the vocabulary") {
  const std::string err = error_of([] { tk::BertTokenizer(tk::parse_vocab("[PAD]\n[UNK]\n[SEP]\n[CLS]\n", "v.txt")); });
  CHECK(err.find("mask_token '[MASK]' is not in the vocabulary") != std::string::npos);
  CHECK_NOTHROW(tk::BertTokenizer(tk::parse_vocab("[PAD]\n[UNK]\n[SEP]\n[CLS]\n[MASK]\n", "v.txt")));
}

TEST_CASE("a model folder: vocab.txt + tokenizer_config.json + special_tokens_map.json") {
  TempDir d("bertlab_test_vocab_model");
  d.write("vocab.txt", "[PAD]\n<unk>\n[CLS]\n[SEP]\n[MASK]\nhello\n##s\nHello\n<extra>\n");
  d.write("tokenizer_config.json", R"({"do_lower_case": false, "strip_accents": null, "model_max_length": 1e30,
      "unk_token": {"content": "<unk>", "lstrip": false}, "tokenize_chinese_chars": true,
      "added_tokens_decoder": {"8": {"content": "<extra>", "special": true}}, "unknown_key": [1, 2]})");
  const tk::BertTokenizer t = tk::BertTokenizer::from_pretrained(d.path);
  CHECK_FALSE(t.options().do_lower_case);
  CHECK(t.options().model_max_length > (std::size_t{1} << 40));
  CHECK(t.unk_id() == 1);
  CHECK(t.tokenize("Hello hellos xyz") == std::vector<std::string>{"Hello", "hello", "##s", "<unk>"});
  CHECK(t.encode("Hello<extra>").ids == std::vector<tk::TokenId>{2, 7, 8, 3});  // special token in text
  CHECK(t.is_special(8));
  d.write("special_tokens_map.json", R"({"mask_token": "hello"})");
  CHECK(tk::load_tokenizer_config(d.path).mask_token == "hello");
}

TEST_CASE("bad configs throw, naming file and key") {
  TempDir d("bertlab_test_vocab_badconfig");
  d.write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
  const auto err = [&](const std::string& json) {
    d.write("tokenizer_config.json", json);
    return error_of([&] { tk::load_tokenizer_config(d.path); });
  };
  CHECK(err(R"({"do_lower_case": "yes"})").find("key 'do_lower_case' must be true or false") != std::string::npos);
  CHECK(err(R"({"strip_accents": 1})").find("key 'strip_accents'") != std::string::npos);
  CHECK(err(R"({"model_max_length": "512"})").find("key 'model_max_length' must be a positive number") != std::string::npos);
  CHECK(err(R"({"unk_token": 5})").find("key 'unk_token'") != std::string::npos);
  CHECK(err(R"({"never_split": [1]})").find("key 'never_split'") != std::string::npos);
  CHECK(err(R"({"do_lower_case": tru)").find("not valid JSON") != std::string::npos);
  CHECK(err(R"([1, 2])").find("must hold a JSON object") != std::string::npos);
  CHECK(err(R"({"do_lower_case": true})").empty());
  // found by the fuzzer (tests/fuzz/corpus_tokenizer_config/crash-special-flag): a non-boolean
  // "special" escaped as nlohmann's type_error
  CHECK(err(R"({"added_tokens_decoder": {"5": {"content": "[X]", "special": 1}}})")
            .find("key 'added_tokens_decoder.5.special' must be true or false") != std::string::npos);
  TempDir empty("bertlab_test_vocab_empty");
  CHECK(error_of([&] { tk::BertTokenizer::from_pretrained(empty.path); }).find("no tokenizer.json or vocab.txt") != std::string::npos);
}
