// tests/tokenizer/test_cli.cpp — runs the real `bertlab tokenize` executable (path in
// $BERTLAB_EXE, set by meson) and checks what it prints: the REFERENCE.md examples, stdin input,
// truncation, a model folder, and a clear error for a missing vocabulary.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/run_command.h"

using nlohmann::json;

namespace {

using test_cli::Result;
using test_cli::exe;
using test_cli::run;  // bertlab ARGS, or "|" and a whole shell command

}  // namespace

TEST_CASE("bertlab tokenize --json gives REFERENCE.md's ids for the cat sentence") {
  const Result r = run("tokenize --json \"The cat sat on the mat.\"");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  const json j = json::parse(r.out);
  CHECK(j["input_ids"] == json({101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102}));
  CHECK(j["tokens"] == json({"[CLS]", "the", "cat", "sat", "on", "the", "mat", ".", "[SEP]"}));
  CHECK(j["token_type_ids"] == json(std::vector<int>(9, 0)));
  CHECK(j["attention_mask"] == json(std::vector<int>(9, 1)));
  CHECK(j["offsets"][1] == json({0, 3}));
  CHECK(j["offsets"][0] == json({0, 0}));
}

TEST_CASE("bertlab tokenize --pair gives 9 type-0 then 7 type-1 tokens") {
  const Result r = run("tokenize --json --pair \"It was a lazy afternoon.\" \"The cat sat on the mat.\"");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  const json j = json::parse(r.out);
  CHECK(j["tokens"] == json({"[CLS]", "the", "cat", "sat", "on", "the", "mat", ".", "[SEP]", "it", "was", "a",
                             "lazy", "afternoon", ".", "[SEP]"}));
  std::vector<int> types(9, 0);
  types.insert(types.end(), 7, 1);
  CHECK(j["token_type_ids"] == json(types));
}

TEST_CASE("bertlab tokenize prints tokens, ids, types and mask as text") {
  const Result r = run("tokenize \"Hello, world!\"");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("tokens:         [CLS] hello , world ! [SEP]") != std::string::npos);
  CHECK(r.out.find("input_ids:      101 7592 1010 2088 999 102") != std::string::npos);
  CHECK(r.out.find("token_type_ids: 0 0 0 0 0 0") != std::string::npos);
  CHECK(r.out.find("attention_mask: 1 1 1 1 1 1") != std::string::npos);
}

TEST_CASE("bertlab tokenize - reads one input per line, --max-length truncates") {
  const Result r = run("|printf 'The cat sat on the mat.\\r\\n\\nunaffable\\n' | " + exe() + " tokenize --json --max-length 5 -");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  std::vector<json> lines;
  std::size_t pos = 0;
  while (pos < r.out.size()) {
    const std::size_t end = r.out.find('\n', pos);
    lines.push_back(json::parse(r.out.substr(pos, end - pos)));
    pos = end + 1;
  }
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["input_ids"] == json({101, 1996, 4937, 2938, 102}));
  CHECK(lines[1]["input_ids"] == json({101, 102}));
  CHECK(lines[2]["tokens"] == json({"[CLS]", "una", "##ffa", "##ble", "[SEP]"}));
}

TEST_CASE("bertlab tokenize --model reads tokenizer_config.json; --cased keeps case") {
  const auto dir = std::filesystem::temp_directory_path() / "bertlab_test_cli_model";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file("data/vocab/bert-base-cased-vocab.txt", dir / "vocab.txt",
                             std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir / "tokenizer_config.json") << R"({"do_lower_case": false, "model_max_length": 512})";
  Result r = run("tokenize --json --model '" + dir.string() + "' \"Hello World\"");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(json::parse(r.out)["tokens"] == json({"[CLS]", "Hello", "World", "[SEP]"}));
  r = run("tokenize --json --cased --vocab data/vocab/bert-base-cased-vocab.txt \"Hello World\"");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(json::parse(r.out)["tokens"] == json({"[CLS]", "Hello", "World", "[SEP]"}));
  std::ofstream(dir / "tokenizer_config.json") << R"({"do_lower_case": "yes"})";
  r = run("tokenize --model '" + dir.string() + "' x");
  CHECK(r.status != 0);
  CHECK(r.out.find("do_lower_case") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("bertlab tokenize fails clearly on a missing or bad vocabulary") {
  Result r = run("tokenize --vocab /nonexistent/vocab.txt x");
  CHECK(r.status != 0);
  CHECK(r.out.find("vocab") != std::string::npos);
  const auto bad = std::filesystem::temp_directory_path() / "bertlab_test_cli_bad_vocab.txt";
  std::ofstream(bad) << "[PAD]\n[UNK]\n";  // no [CLS]
  r = run("tokenize --vocab '" + bad.string() + "' x");
  CHECK(r.status == 1);
  CHECK(r.out.find("is not in the vocabulary") != std::string::npos);
  std::filesystem::remove(bad);
}

TEST_CASE("bertlab tokenize with no text reads standard input, as predict does") {
  const Result r = run("|printf 'The cat sat\\nunaffable\\n' | " + exe() + " tokenize --json");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  const std::size_t nl = r.out.find('\n');
  REQUIRE(nl != std::string::npos);
  CHECK(json::parse(r.out.substr(0, nl))["tokens"] == json({"[CLS]", "the", "cat", "sat", "[SEP]"}));
  CHECK(json::parse(r.out.substr(nl + 1))["tokens"] == json({"[CLS]", "una", "##ffa", "##ble", "[SEP]"}));
}

TEST_CASE("bertlab tokenize --model DIR/config.json means the folder DIR") {
  const auto dir = std::filesystem::temp_directory_path() / "bertlab_test_cli_model_file";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file("data/vocab/bert-base-cased-vocab.txt", dir / "vocab.txt",
                             std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir / "tokenizer_config.json") << R"({"do_lower_case": false})";
  std::ofstream(dir / "config.json") << "{}";
  const Result r = run("tokenize --json --model '" + (dir / "config.json").string() + "' \"Hello World\"");
  CHECK_MESSAGE(r.status == 0, r.out);
  if (r.status == 0) CHECK(json::parse(r.out)["tokens"] == json({"[CLS]", "Hello", "World", "[SEP]"}));
  std::filesystem::remove_all(dir);
}
