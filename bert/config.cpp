// bert/config.cpp — BertConfig <-> config.json, presets, validation.
#include "bert/config.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <set>

#include "autograd/tensor.h"
#include "bert/io.h"

namespace bertlab::bert {

using nlohmann::json;

// A double as JSON would write it ("0.1", "nan", "inf"), for messages.
static std::string number_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return json(v).dump();
}

// Upper bounds on the fields that size memory: far above any published BERT (bert-large:
// vocab 30522, hidden 1024, 24 layers, 16 heads, FFN 4096, 512 positions), low enough that
// no product of them overflows and a typo fails here instead of in the allocator.
constexpr int64_t kMaxVocab = int64_t(1) << 24;       // 16,777,216 tokens
constexpr int64_t kMaxHidden = int64_t(1) << 16;      // 65,536
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxFfn = int64_t(1) << 18;         // 262,144
constexpr int64_t kMaxPositions = int64_t(1) << 20;   // 1,048,576
constexpr int64_t kMaxTypeVocab = int64_t(1) << 16;
constexpr int64_t kMaxLabels = int64_t(1) << 20;
constexpr int64_t kMaxParameters = int64_t(1) << 40;  // 4 TiB of float32

void BertConfig::set_num_labels(int64_t n) {
  if (n < 1) fail("num_labels must be at least 1, got " + std::to_string(n));
  if (n > kMaxLabels)
    fail("num_labels is " + std::to_string(n) + ", more than the limit " + std::to_string(kMaxLabels));
  id2label.clear();
  for (int64_t i = 0; i < n; ++i) id2label[i] = "LABEL_" + std::to_string(i);
}

void BertConfig::set_labels(const std::vector<std::string>& names) {
  if (names.empty()) fail("set_labels: no labels");
  id2label.clear();
  std::set<std::string> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!seen.insert(names[i]).second) fail("set_labels: label '" + names[i] + "' appears twice");
    id2label[(int64_t)i] = names[i];
  }
}

std::map<std::string, int64_t> BertConfig::label2id() const {
  std::map<std::string, int64_t> m;
  if (id2label.empty()) return {{"LABEL_0", 0}, {"LABEL_1", 1}};
  for (auto& [i, n] : id2label) m[n] = i;
  return m;
}

// The total parameter count of the encoder and its largest head, in checked arithmetic
// (each bound above keeps it far below 2^63, but the check does not rely on that).
static int64_t parameter_count(const BertConfig& c) {
  const std::string what = "config: parameter count";
  auto mul = [&](int64_t a, int64_t b) { return checked_mul(a, b, what); };
  auto add = [&](int64_t a, int64_t b) { return checked_add(a, b, what); };
  const int64_t h = c.hidden_size, ffn = c.intermediate_size;
  int64_t emb = add(add(mul(c.vocab_size, h), mul(c.max_position_embeddings, h)), mul(c.type_vocab_size, h));
  emb = add(emb, mul(2, h));  // LayerNorm
  // per layer: q, k, v, output (h x h + h each), FFN in and out, two LayerNorms
  int64_t layer = mul(4, add(mul(h, h), h));
  layer = add(layer, add(add(mul(h, ffn), ffn), add(mul(ffn, h), h)));
  layer = add(layer, mul(4, h));
  const int64_t pooler = add(mul(h, h), h);
  // the biggest head: MLM transform (h x h, LayerNorm) and decoder bias, or a classifier
  const int64_t mlm = add(add(mul(h, h), mul(3, h)), c.vocab_size);
  const int64_t classifier = add(mul(h, c.num_labels()), c.num_labels());
  return add(add(add(emb, mul(c.num_hidden_layers, layer)), pooler), std::max(mlm, classifier));
}

void BertConfig::validate() const {
  auto in_range = [](int64_t v, const char* name, int64_t limit) {
    if (v <= 0) fail(std::string("config: ") + name + " must be positive, got " + std::to_string(v));
    if (v > limit)
      fail(std::string("config: ") + name + " is " + std::to_string(v) + ", more than the limit " +
           std::to_string(limit));
  };
  in_range(vocab_size, "vocab_size", kMaxVocab);
  in_range(hidden_size, "hidden_size", kMaxHidden);
  in_range(num_hidden_layers, "num_hidden_layers", kMaxLayers);
  in_range(num_attention_heads, "num_attention_heads", hidden_size);
  in_range(intermediate_size, "intermediate_size", kMaxFfn);
  in_range(max_position_embeddings, "max_position_embeddings", kMaxPositions);
  in_range(type_vocab_size, "type_vocab_size", kMaxTypeVocab);
  in_range(num_labels(), "num_labels (the size of id2label)", kMaxLabels);
  const int64_t params = parameter_count(*this);
  if (params > kMaxParameters)
    fail("config: the model would have " + std::to_string(params) + " parameters, more than the limit " +
         std::to_string(kMaxParameters));
  if (hidden_size % num_attention_heads != 0)
    fail("config: hidden_size " + std::to_string(hidden_size) + " is not a multiple of num_attention_heads " +
         std::to_string(num_attention_heads));
  if (hidden_act != "gelu" && hidden_act != "gelu_new" && hidden_act != "relu" && hidden_act != "gelu_pytorch_tanh")
    fail("config: hidden_act '" + hidden_act + "' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)");
  if (position_embedding_type != "absolute")
    fail("config: position_embedding_type '" + position_embedding_type + "' is not supported (absolute)");
  // Every range check is written as !(inside), so that NaN (for which every comparison is
  // false) fails it too.
  auto probability = [](double p, const char* name) {
    if (!(p >= 0 && p < 1)) fail(std::string("config: ") + name + " is " + number_text(p) + ", outside [0, 1)");
  };
  probability(hidden_dropout_prob, "hidden_dropout_prob");
  probability(attention_probs_dropout_prob, "attention_probs_dropout_prob");
  if (classifier_dropout) probability(*classifier_dropout, "classifier_dropout");
  if (!(layer_norm_eps > 0 && layer_norm_eps < 1))
    fail("config: layer_norm_eps is " + number_text(layer_norm_eps) + ", outside (0, 1)");
  if (!(initializer_range >= 0 && std::isfinite(initializer_range)))
    fail("config: initializer_range is " + number_text(initializer_range) + ", not a finite number >= 0");
  if (dtype != "float32" && dtype != "float16" && dtype != "bfloat16")
    fail("config: dtype '" + dtype + "' is not supported (float32, float16, bfloat16)");
  if (problem_type != "" && problem_type != "regression" && problem_type != "single_label_classification")
    fail("config: problem_type '" + problem_type + "' is not supported (regression, single_label_classification)");
}

json BertConfig::to_json() const {
  json j = extra;
  j["model_type"] = "bert";
  if (!architectures.empty()) j["architectures"] = architectures;
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["intermediate_size"] = intermediate_size;
  j["hidden_act"] = hidden_act;
  j["hidden_dropout_prob"] = hidden_dropout_prob;
  j["attention_probs_dropout_prob"] = attention_probs_dropout_prob;
  j["max_position_embeddings"] = max_position_embeddings;
  j["type_vocab_size"] = type_vocab_size;
  j["initializer_range"] = initializer_range;
  j["layer_norm_eps"] = layer_norm_eps;
  j["pad_token_id"] = pad_token_id;
  j["position_embedding_type"] = position_embedding_type;
  j["classifier_dropout"] = classifier_dropout ? json(*classifier_dropout) : json(nullptr);
  if (!id2label.empty()) {
    json a = json::object(), b = json::object();
    for (auto& [i, n] : id2label) {
      a[std::to_string(i)] = n;
      b[n] = i;
    }
    j["id2label"] = a;
    j["label2id"] = b;
  }
  if (!problem_type.empty()) j["problem_type"] = problem_type;
  // "dtype" is what transformers 5 writes and 4.56+ reads (older 4.x read "torch_dtype")
  j["dtype"] = dtype;
  return j;
}

BertConfig BertConfig::from_json(const json& j, const std::string& where) {
  if (!j.is_object()) fail(where + ": expected a JSON object");
  BertConfig c;
  auto bad = [&](const std::string& key, const std::string& what) -> void {
    fail(where + ": key \"" + key + "\" " + what);
  };
  auto get_int = [&](const char* key, int64_t& out) {
    if (!j.contains(key)) return;
    const json& v = j[key];
    if (!v.is_number_integer()) bad(key, "must be an integer, got " + v.dump());
    // get<int64_t> of an unsigned above 2^63 - 1 would wrap to a negative number
    if (v.is_number_unsigned() && v.get<uint64_t>() > (uint64_t)INT64_MAX)
      bad(key, "is " + v.dump() + ", too large for a 64-bit integer");
    out = v.get<int64_t>();
  };
  auto get_num = [&](const char* key, double& out) {
    if (!j.contains(key)) return;
    const json& v = j[key];
    if (!v.is_number()) bad(key, "must be a number, got " + v.dump());
    out = v.get<double>();
  };
  auto get_str = [&](const char* key, std::string& out) {
    if (!j.contains(key)) return;
    const json& v = j[key];
    if (!v.is_string()) bad(key, "must be a string, got " + v.dump());
    out = v.get<std::string>();
  };
  if (j.contains("model_type") && j["model_type"] != "bert")
    bad("model_type", "is " + j["model_type"].dump() + ", expected \"bert\"");
  get_int("vocab_size", c.vocab_size);
  get_int("hidden_size", c.hidden_size);
  get_int("num_hidden_layers", c.num_hidden_layers);
  get_int("num_attention_heads", c.num_attention_heads);
  get_int("intermediate_size", c.intermediate_size);
  get_str("hidden_act", c.hidden_act);
  get_num("hidden_dropout_prob", c.hidden_dropout_prob);
  get_num("attention_probs_dropout_prob", c.attention_probs_dropout_prob);
  get_int("max_position_embeddings", c.max_position_embeddings);
  get_int("type_vocab_size", c.type_vocab_size);
  get_num("initializer_range", c.initializer_range);
  get_num("layer_norm_eps", c.layer_norm_eps);
  if (j.contains("pad_token_id") && !j["pad_token_id"].is_null()) get_int("pad_token_id", c.pad_token_id);
  get_str("position_embedding_type", c.position_embedding_type);
  get_str("problem_type", c.problem_type);
  if (j.contains("problem_type") && j["problem_type"].is_null()) c.problem_type.clear();
  if (j.contains("classifier_dropout") && !j["classifier_dropout"].is_null()) {
    double d = 0;
    get_num("classifier_dropout", d);
    c.classifier_dropout = d;
  }
  // transformers 5 writes "dtype", 4.x "torch_dtype" (4.56+ reads either); null means float32.
  for (const char* key : {"torch_dtype", "dtype"}) {
    if (!j.contains(key) || j[key].is_null()) continue;
    get_str(key, c.dtype);
    if (c.dtype != "float32" && c.dtype != "float16" && c.dtype != "bfloat16")
      bad(key, "is \"" + c.dtype + "\", expected \"float32\", \"bfloat16\" or \"float16\"");
  }
  if (j.contains("architectures")) {
    if (!j["architectures"].is_array()) bad("architectures", "must be a list of strings");
    for (auto& a : j["architectures"]) {
      if (!a.is_string()) bad("architectures", "must be a list of strings");
      c.architectures.push_back(a.get<std::string>());
    }
  }
  if (j.contains("id2label")) {
    const json& m = j["id2label"];
    if (!m.is_object()) bad("id2label", "must be an object of \"id\": \"label\"");
    for (auto& [k, v] : m.items()) {
      size_t pos = 0;
      int64_t id = -1;
      try {
        id = std::stoll(k, &pos);
      } catch (...) {
        pos = 0;
      }
      if (pos != k.size() || id < 0) bad("id2label", "has a key \"" + k + "\" that is not a non-negative integer");
      if (!v.is_string()) bad("id2label", "maps " + k + " to " + v.dump() + ", expected a string");
      c.id2label[id] = v.get<std::string>();
    }
    for (int64_t i = 0; i < (int64_t)c.id2label.size(); ++i)
      if (!c.id2label.count(i)) bad("id2label", "must number the labels 0.." + std::to_string(c.id2label.size() - 1));
  }
  if (j.contains("label2id") && !c.id2label.empty()) {
    const json& m = j["label2id"];
    if (!m.is_object()) bad("label2id", "must be an object");
    for (auto& [k, v] : m.items())
      if (!v.is_number_integer() || !c.id2label.count(v.get<int64_t>()) || c.id2label[v.get<int64_t>()] != k)
        bad("label2id", "disagrees with id2label at \"" + k + "\"");
  }
  static const std::set<std::string> known = {
      "model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
      "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob", "max_position_embeddings",
      "type_vocab_size", "initializer_range", "layer_norm_eps", "pad_token_id", "position_embedding_type",
      "classifier_dropout", "architectures", "id2label", "label2id", "problem_type", "dtype", "torch_dtype"};
  for (auto& [k, v] : j.items())
    if (!known.count(k)) c.extra[k] = v;
  try {
    c.validate();
  } catch (const Error& e) {
    fail(where + ": " + e.what());
  }
  return c;
}

BertConfig BertConfig::parse(std::string_view text, const std::string& where) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // also out_of_range: a number too large for a double (1e+600)
    fail(where + ": invalid JSON: " + json_error_text(e));
  }
  return from_json(j, where);
}

BertConfig BertConfig::load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot open config file " + path);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return parse(text, path);
}

void BertConfig::save(const std::string& path) const { write_file_atomic(path, to_json().dump(2) + "\n"); }

BertConfig BertConfig::preset(const std::string& name_in) {
  std::string name = name_in;
  bool cased = false;
  for (const char* suffix : {"-cased", "-uncased"}) {
    std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      cased = s == "-cased";
      name = name.substr(0, name.size() - s.size());
    }
  }
  struct Size {
    int64_t layers, hidden, heads;
  };
  static const std::map<std::string, Size> sizes = {
      {"bert-tiny", {2, 128, 2}},    {"bert-mini", {4, 256, 4}},   {"bert-small", {4, 512, 8}},
      {"bert-medium", {8, 512, 8}},  {"bert-base", {12, 768, 12}}, {"bert-large", {24, 1024, 16}}};
  auto it = sizes.find(name);
  if (it == sizes.end()) {
    std::string list;
    for (auto& n : preset_names()) list += (list.empty() ? "" : ", ") + n;
    fail("unknown model preset '" + name_in + "' (known: " + list + ", each also with -cased)");
  }
  BertConfig c;
  c.num_hidden_layers = it->second.layers;
  c.hidden_size = it->second.hidden;
  c.num_attention_heads = it->second.heads;
  c.intermediate_size = 4 * it->second.hidden;
  c.vocab_size = cased ? 28996 : 30522;
  return c;
}

std::vector<std::string> BertConfig::preset_names() {
  return {"bert-tiny", "bert-mini", "bert-small", "bert-medium", "bert-base", "bert-large"};
}

}  // namespace bertlab::bert
