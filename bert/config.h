// bert/config.h — BertConfig, read from and written to Hugging Face's config.json.
//
// Field names and defaults are transformers' BertConfig. Fields this project does not use
// are kept as they were read and written back, so a config survives a round trip.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bertlab::bert {

struct BertConfig {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  std::string hidden_act = "gelu";  // "gelu" (erf), "gelu_new" (tanh form), "relu"
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double initializer_range = 0.02;
  double layer_norm_eps = 1e-12;
  int64_t pad_token_id = 0;
  std::string position_embedding_type = "absolute";
  std::optional<double> classifier_dropout;  // null: use hidden_dropout_prob
  std::map<int64_t, std::string> id2label;   // empty: num_labels default 2 (LABEL_0, LABEL_1)
  std::vector<std::string> architectures;
  std::string problem_type;  // "", "regression", "single_label_classification"
  // The dtype the weights were saved in: "float32", "bfloat16" or "float16", read from
  // config.json's "dtype" (transformers 5) or "torch_dtype" (4.x). bertlab computes in float32
  // whatever it says for now (safetensors' bf16/f16 are converted on load); bf16 tensors
  // come later. Written back as read, so a folder keeps what its weights were made in.
  std::string dtype = "float32";
  nlohmann::json extra = nlohmann::json::object();  // every other key, kept verbatim

  int64_t num_labels() const { return id2label.empty() ? 2 : (int64_t)id2label.size(); }
  void set_num_labels(int64_t n);  // LABEL_0 .. LABEL_{n-1}
  void set_labels(const std::vector<std::string>& names);
  std::map<std::string, int64_t> label2id() const;
  int64_t head_dim() const { return hidden_size / num_attention_heads; }

  // Checks the shape constraints (hidden divisible by heads, positive sizes below an upper
  // bound each, a parameter count that fits, probabilities in [0, 1) and not NaN, a known
  // activation and dtype); throws naming the field, its value and the limit.
  void validate() const;

  nlohmann::json to_json() const;
  // Throws naming the key (and `where`, e.g. the file) for a wrong type or value.
  static BertConfig from_json(const nlohmann::json& j, const std::string& where = "config.json");
  // The text of a config.json (`where` names it in messages); load reads a file and calls it.
  static BertConfig parse(std::string_view text, const std::string& where);
  static BertConfig load(const std::string& path);  // a config.json file
  void save(const std::string& path) const;         // atomically

  // Named presets (Turc et al. 2019 "Well-Read Students" sizes and the BERT paper's):
  // bert-tiny (2 layers/128/2 heads), bert-mini (4/256/4), bert-small (4/512/8),
  // bert-medium (8/512/8), bert-base (12/768/12), bert-large (24/1024/16); FFN = 4 x hidden.
  // Append "-cased" for the cased vocabulary (28996); uncased is 30522.
  static BertConfig preset(const std::string& name);
  static std::vector<std::string> preset_names();
};

}  // namespace bertlab::bert
