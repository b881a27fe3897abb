// tests/tasks/tiny.h — tiny models for the fine-tuning tests: a vocabulary made of the words
// in tests/data/tasks (plus every ASCII character and its ## form, so any text tokenizes), a
// 2-layer, 32-wide BERT with 64 positions, and model folders in Hugging Face format.
#pragma once

#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bert/checkpoint.h"
#include "bert/distilbert/model.h"
#include "bert/io.h"

namespace bertlab::testing {

inline const std::string kTaskData = "tests/data/tasks/";

// A fresh empty folder under the system temp dir, removed by the destructor.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name) {
    path = std::filesystem::temp_directory_path() / ("bertlab-test-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string operator/(const std::string& s) const { return (path / s).string(); }
  std::string str() const { return path.string(); }
};

inline void write_text(const std::string& path, const std::string& s) {
  std::ofstream f(path, std::ios::binary);
  f << s;
}

// vocab.txt: specials, ASCII characters and ##characters, then the lowercased words of the
// test data files. Written to `path`; returns the number of tokens.
inline int64_t write_tiny_vocab(const std::string& path) {
  std::vector<std::string> v = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  std::set<std::string> seen(v.begin(), v.end());
  auto add = [&](const std::string& t) {
    if (!t.empty() && seen.insert(t).second) v.push_back(t);
  };
  for (int c = 33; c < 127; ++c) {
    std::string s(1, (char)std::tolower(c));
    add(s);
    if (std::isalnum(c)) add("##" + s);
  }
  for (const char* f : {"sst2_train.tsv", "sst2_dev.tsv", "wnut_train.conll", "wnut_dev.conll", "squad_tiny.json"}) {
    std::string text = bert::read_file(kTaskData + f), w;
    for (char ch : text) {
      if (std::isalnum((unsigned char)ch)) {
        w += (char)std::tolower((unsigned char)ch);
      } else {
        add(w);
        w.clear();
      }
    }
    add(w);
  }
  std::string out;
  for (auto& t : v) out += t + "\n";
  write_text(path, out);
  return (int64_t)v.size();
}

inline bert::BertConfig tiny_config(int64_t vocab_size) {
  bert::BertConfig c;
  c.vocab_size = vocab_size;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 64;
  c.max_position_embeddings = 64;
  return c;
}

// A model folder (config.json, model.safetensors, vocab.txt, tokenizer_config.json) holding a
// randomly initialised head model (labels set when given) or, for task < 0, a bare BertModel.
inline std::string make_tiny_model(const std::string& dir, int task, const std::vector<std::string>& labels = {},
                                   uint64_t seed = 1, double dropout = 0.1) {
  const std::string vocab = dir + ".vocab.txt";
  const int64_t n = write_tiny_vocab(vocab);
  bert::BertConfig c = tiny_config(n);
  c.hidden_dropout_prob = c.attention_probs_dropout_prob = dropout;
  if (!labels.empty()) c.set_labels(labels);
  bert::TokenizerFiles tok;
  tok.vocab_file = vocab;
  tok.model_max_length = 64;
  Generator g(seed);
  if (task < 0) {
    bert::BertModel m(c);
    init_bert_weights(m, c.initializer_range, g);
    bert::save_pretrained(m, dir, tok);
  } else {
    auto m = bert::make_model((bert::Task)task, c);
    m->init_weights(g);
    bert::save_pretrained(*m, dir, tok);
  }
  std::filesystem::remove(vocab);
  return dir;
}

// The same folder with a DistilBERT (model_type "distilbert", the same sizes and vocabulary):
// a DistilBertForMaskedLM by default, the usual starting point for fine-tuning.
inline std::string make_tiny_distilbert(const std::string& dir, bert::Task task = bert::Task::MaskedLM,
                                        uint64_t seed = 1) {
  const std::string vocab = dir + ".vocab.txt";
  bert::DistilBertConfig c;
  c.shared = tiny_config(write_tiny_vocab(vocab));
  c.shared.type_vocab_size = 1;
  c.shared.layer_norm_eps = 1e-12;
  bert::TokenizerFiles tok;
  tok.vocab_file = vocab;
  tok.model_max_length = 64;
  Generator g(seed);
  auto m = bert::make_distilbert(task, c);
  m->init_weights(g);
  bert::save_pretrained(*m, dir, tok);
  std::filesystem::remove(vocab);
  return dir;
}

}  // namespace bertlab::testing
