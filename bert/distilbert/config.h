// bert/distilbert/config.h — DistilBertConfig, read from and written to Hugging Face's
// config.json (transformers' DistilBertConfig; Sanh et al. 2019, "DistilBERT, a distilled
// version of BERT").
//
// DistilBERT is BERT's encoder with half the layers, no token types and no pooler. Its
// config.json names the same sizes differently:
//
//   DistilBERT   dim          n_layers           n_heads              hidden_dim          activation
//   BERT         hidden_size  num_hidden_layers  num_attention_heads  intermediate_size   hidden_act
//   DistilBERT   dropout              attention_dropout
//   BERT         hidden_dropout_prob  attention_probs_dropout_prob
//
// `shared` holds these under BERT's names, for the modules both families are built from
// (bert/attention.h, bert/layer.h); the fields below it are DistilBERT's own. Reading goes
// through BertConfig's checks, and their messages are given DistilBERT's key names.
#pragma once

#include <string>
#include <vector>

#include "bert/config.h"

namespace bertlab::bert {

struct DistilBertConfig {
  BertConfig shared;                 // type_vocab_size 1 (unused), LayerNorm eps 1e-12 (fixed)
  bool sinusoidal_pos_embds = false; // fixed sin/cos position embeddings instead of learned ones
  double qa_dropout = 0.1;           // before qa_outputs
  double seq_classif_dropout = 0.2;  // before the sequence classifier
  bool tie_word_embeddings = true;   // the MLM projector is the word-embedding matrix

  int64_t num_labels() const { return shared.num_labels(); }

  nlohmann::json to_json() const;
  static DistilBertConfig from_json(const nlohmann::json& j, const std::string& where = "config.json");
  static DistilBertConfig parse(std::string_view text, const std::string& where);
  static DistilBertConfig load(const std::string& path);
  void save(const std::string& path) const;  // atomically

  // distilbert-base-uncased (6 layers / 768 / 12 heads, FFN 3072, vocab 30522), -cased (vocab
  // 28996), and distilbert-tiny (2 / 128 / 2, FFN 512) for tests.
  static DistilBertConfig preset(const std::string& name);
  static std::vector<std::string> preset_names();
};

}  // namespace bertlab::bert
