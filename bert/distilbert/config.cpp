// bert/distilbert/config.cpp — DistilBertConfig <-> config.json, presets.
#include "bert/distilbert/config.h"

#include <fstream>
#include <iterator>
#include <regex>

#include "autograd/tensor.h"
#include "bert/io.h"

namespace bertlab::bert {

using nlohmann::json;

namespace {

// DistilBERT's key, BERT's key
const std::vector<std::pair<std::string, std::string>> kRenamed = {
    {"dim", "hidden_size"},
    {"n_layers", "num_hidden_layers"},
    {"n_heads", "num_attention_heads"},
    {"hidden_dim", "intermediate_size"},
    {"activation", "hidden_act"},
    {"dropout", "hidden_dropout_prob"},
    {"attention_dropout", "attention_probs_dropout_prob"},
};
// BERT's keys DistilBERT has no use for (written by BertConfig::to_json)
const char* kBertOnly[] = {"type_vocab_size", "layer_norm_eps", "position_embedding_type", "classifier_dropout"};
// DistilBERT's own keys
const char* kOwn[] = {"sinusoidal_pos_embds", "qa_dropout", "seq_classif_dropout", "tie_word_embeddings", "tie_weights_"};

// A message of BertConfig's checks, with DistilBERT's key names in it.
std::string with_distilbert_names(std::string msg) {
  for (const auto& [d, b] : kRenamed) msg = std::regex_replace(msg, std::regex("\\b" + b + "\\b"), d);
  return msg;
}

}  // namespace

DistilBertConfig DistilBertConfig::from_json(const json& j, const std::string& where) {
  if (!j.is_object()) fail(where + ": expected a JSON object");
  auto bad = [&](const std::string& key, const std::string& what) -> void {
    fail(where + ": key \"" + key + "\" " + what);
  };
  if (j.contains("model_type") && j["model_type"] != "distilbert")
    bad("model_type", "is " + j["model_type"].dump() + ", expected \"distilbert\"");
  for (const char* key : kBertOnly)
    if (j.contains(key) && std::string(key) != "layer_norm_eps")  // (a BERT key in a DistilBERT file)
      bad(key, "is BERT's; a DistilBERT config has no " + std::string(key));
  DistilBertConfig c;
  auto get_bool = [&](const char* key, bool& out) {
    if (!j.contains(key)) return;
    if (!j[key].is_boolean()) bad(key, "must be true or false, got " + j[key].dump());
    out = j[key].get<bool>();
  };
  auto get_probability = [&](const char* key, double& out) {
    if (!j.contains(key)) return;
    if (!j[key].is_number()) bad(key, "must be a number, got " + j[key].dump());
    out = j[key].get<double>();
    if (!(out >= 0 && out < 1)) bad(key, "is " + j[key].dump() + ", outside [0, 1)");
  };
  get_bool("sinusoidal_pos_embds", c.sinusoidal_pos_embds);
  get_bool("tie_weights_", c.tie_word_embeddings);  // transformers 4's name
  get_bool("tie_word_embeddings", c.tie_word_embeddings);
  get_probability("qa_dropout", c.qa_dropout);
  get_probability("seq_classif_dropout", c.seq_classif_dropout);

  // the rest under BERT's names, through BertConfig's parser and checks
  json b = json::object();
  for (const auto& [k, v] : j.items()) {
    if (k == "model_type" || k == "layer_norm_eps" || std::find(std::begin(kOwn), std::end(kOwn), k) != std::end(kOwn))
      continue;
    std::string name = k;
    for (const auto& [d, bert] : kRenamed)
      if (k == d) name = bert;
      else if (k == bert) bad(k, "is BERT's name; DistilBERT's config.json calls it \"" + d + "\"");
    b[name] = v;
  }
  b["type_vocab_size"] = 1;
  b["layer_norm_eps"] = 1e-12;  // DistilBERT's LayerNorms, fixed in transformers
  try {
    c.shared = BertConfig::from_json(b, where);
  } catch (const Error& e) {
    fail(with_distilbert_names(e.what()));
  }
  return c;
}

json DistilBertConfig::to_json() const {
  json b = shared.to_json(), j = json::object();
  for (const char* key : kBertOnly) b.erase(key);
  for (const auto& [k, v] : b.items()) {
    std::string name = k;
    for (const auto& [d, bert] : kRenamed)
      if (k == bert) name = d;
    j[name] = v;
  }
  j["model_type"] = "distilbert";
  j["sinusoidal_pos_embds"] = sinusoidal_pos_embds;
  j["qa_dropout"] = qa_dropout;
  j["seq_classif_dropout"] = seq_classif_dropout;
  j["tie_word_embeddings"] = tie_word_embeddings;
  return j;
}

DistilBertConfig DistilBertConfig::parse(std::string_view text, const std::string& where) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail(where + ": invalid JSON: " + json_error_text(e));
  }
  return from_json(j, where);
}

DistilBertConfig DistilBertConfig::load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot open config file " + path);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return parse(text, path);
}

void DistilBertConfig::save(const std::string& path) const { write_file_atomic(path, to_json().dump(2) + "\n"); }

DistilBertConfig DistilBertConfig::preset(const std::string& name) {
  DistilBertConfig c;
  BertConfig& s = c.shared;
  s.type_vocab_size = 1;
  s.layer_norm_eps = 1e-12;
  s.num_hidden_layers = 6;
  s.hidden_size = 768;
  s.num_attention_heads = 12;
  s.intermediate_size = 3072;
  if (name == "distilbert-base-uncased") return c;
  if (name == "distilbert-base-cased") {
    s.vocab_size = 28996;
    return c;
  }
  if (name == "distilbert-tiny") {
    s.num_hidden_layers = 2;
    s.hidden_size = 128;
    s.num_attention_heads = 2;
    s.intermediate_size = 512;
    return c;
  }
  std::string list;
  for (auto& n : preset_names()) list += (list.empty() ? "" : ", ") + n;
  fail("unknown DistilBERT preset '" + name + "' (known: " + list + ")");
}

std::vector<std::string> DistilBertConfig::preset_names() {
  return {"distilbert-base-uncased", "distilbert-base-cased", "distilbert-tiny"};
}

}  // namespace bertlab::bert
