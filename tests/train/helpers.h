// tests/train/helpers.h — what the pre-training tests share: a temporary folder, writing a file,
// the bundled vocabulary and tokenizer, and a small corpus cut from the shipped WikiText-2.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "tokenizer/bert_tokenizer.h"

namespace test_train {

namespace fs = std::filesystem;

// A fresh folder under $TMPDIR, removed with everything in it at the end of the scope.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) {
    std::string tmpl = (fs::temp_directory_path() / ("bertlab_" + name + "_XXXXXX")).string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline void write_file(const std::string& path, const std::string& s) {
  std::ofstream f(path, std::ios::binary);
  f << s;
  REQUIRE(f.good());
}

inline std::string vocab_path() { return "data/vocab/bert-base-uncased-vocab.txt"; }
inline std::string wikitext_path() { return "data/wikitext2/wiki.test.raw"; }

inline std::shared_ptr<const bertlab::tokenizer::BertTokenizer> tokenizer() {
  static auto tok = std::make_shared<const bertlab::tokenizer::BertTokenizer>(vocab_path());
  return tok;
}

// The first `bytes` of WikiText-2 test (cut at a line end): about 8 articles in 60 kB.
inline std::string wikitext_head(size_t bytes) {
  std::ifstream f(wikitext_path(), std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "run the tests from the repository root (data/wikitext2/wiki.test.raw)");
  std::string s(bytes, '\0');
  f.read(s.data(), (std::streamsize)bytes);
  s.resize((size_t)f.gcount());
  s.resize(s.rfind('\n') + 1);
  return s;
}

}  // namespace test_train
