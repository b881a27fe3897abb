// bert/checkpoint.cpp — see checkpoint.h.
#include "bert/checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <map>
#include <set>

#include "autograd/graph.h"
#include "nn/layers.h"
#include "ops/ops.h"
#include "bert/distilbert/model.h"
#include "bert/io.h"
#include "bert/safetensors.h"
#include "tokenizer/tokenizer_json.h"

namespace bertlab::bert {

namespace fs = std::filesystem;

std::string LoadInfo::summary() const {
  std::string s;
  auto list = [](const std::vector<std::string>& v) {
    std::string r;
    for (size_t i = 0; i < v.size(); ++i) r += (i ? ", " : "") + v[i];
    return r;
  };
  if (!newly_initialized.empty())
    s += "newly initialized (not in the checkpoint): " + list(newly_initialized) + "\n";
  if (!unused.empty()) s += "not used (not in the model): " + list(unused) + "\n";
  return s;
}

// LayerNorm.gamma -> LayerNorm.weight, LayerNorm.beta -> LayerNorm.bias
static std::string modern_name(std::string k) {
  auto fix = [&](const std::string& from, const std::string& to) {
    if (k.size() >= from.size() && k.compare(k.size() - from.size(), from.size(), from) == 0)
      k = k.substr(0, k.size() - from.size()) + to;
  };
  fix("LayerNorm.gamma", "LayerNorm.weight");
  fix("LayerNorm.beta", "LayerNorm.bias");
  return k;
}

LoadInfo load_weights(nn::Module& m, const std::string& path, const std::vector<std::string>& tied,
                      const std::string& base) {
  const std::string prefix = base + ".";
  safetensors::File file(path);
  nn::NamedTensors ordered = m.state_dict();
  std::map<std::string, Tensor> params(ordered.begin(), ordered.end());
  std::set<std::string> loaded;
  std::set<const TensorImpl*> loaded_impls;
  LoadInfo info;
  NoGradGuard ng;
  for (const std::string& key : file.names()) {
    const std::string k = modern_name(key);
    std::string target;
    for (const std::string& cand :
         {k, prefix + k, k.rfind(prefix, 0) == 0 ? k.substr(prefix.size()) : std::string()})
      if (!cand.empty() && params.count(cand)) {
        target = cand;
        break;
      }
    if (target.empty()) {
      info.unused.push_back(key);
      continue;
    }
    Tensor& dst = params[target];
    const Shape& src_shape = file.info(key).shape;
    if (src_shape != dst.shape())
      fail(path + ": tensor \"" + key + "\" has shape " + shape_str(src_shape) + " but the model's " + target +
           " is " + shape_str(dst.shape()));
    copy_(dst, file.load(key, dst.dtype()).to(dst.device()));
    loaded.insert(target);
    loaded_impls.insert(dst.impl());
  }
  for (auto& [name, t] : ordered) {
    if (loaded.count(name)) continue;
    bool is_tied = std::find(tied.begin(), tied.end(), name) != tied.end();
    if (is_tied && loaded_impls.count(t.impl())) continue;  // its other name was loaded
    info.newly_initialized.push_back(name);
  }
  return info;
}

std::string weights_file(const std::string& dir) {
  if (!dir_exists(dir)) fail("model folder not found: " + dir);
  std::string st = (fs::path(dir) / "model.safetensors").string();
  if (file_exists(st)) return st;
  if (file_exists((fs::path(dir) / "model.safetensors.index.json").string()))
    fail(dir + ": sharded checkpoints (model.safetensors.index.json) are not supported yet; save as one file");
  if (file_exists((fs::path(dir) / "pytorch_model.bin").string()))
    fail(dir + ": only safetensors checkpoints are loaded (pytorch_model.bin is a pickle, which bertlab never "
               "reads); convert it with transformers: model.save_pretrained(dir, safe_serialization=True)");
  fail(dir + ": no model.safetensors in the folder");
}

// Initialises the parameters the checkpoint did not have, by BERT's rule (as
// init_bert_weights would have): LayerNorm weights 1, biases 0, other weights
// N(0, initializer_range), the padding row of the word embeddings 0.
void init_missing(nn::Module& m, const std::vector<std::string>& names, const BertConfig& c, uint64_t seed) {
  if (names.empty()) return;
  std::map<std::string, Tensor> params;
  for (auto& [n, t] : m.state_dict()) params.emplace(n, t);
  Generator g(seed);
  NoGradGuard ng;
  auto ends_with = [](const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (const std::string& n : names) {
    Tensor& t = params.at(n);
    if (ends_with(n, "LayerNorm.weight") || ends_with(n, "layer_norm.weight")) fill_(t, 1.0);  // (DistilBERT's names)
    else if (ends_with(n, "bias")) fill_(t, 0.0);
    else normal_(t, g, 0.0, c.initializer_range);
    if (ends_with(n, "word_embeddings.weight") && c.pad_token_id >= 0 && c.pad_token_id < c.vocab_size)
      fill_(select(t, 0, c.pad_token_id), 0.0);
  }
}

// The weights a model needs that a file lacks, in words: "encoder layers 2-3 (32 tensors)",
// "the embeddings (5 tensors)", "the pooler (2 tensors)", then head tensors by name.
static std::string describe_missing(const std::vector<std::string>& names) {
  std::map<int64_t, int64_t> layers;  // layer -> tensors missing
  int64_t embeddings = 0, pooler = 0;
  std::vector<std::string> others;
  const std::string layer_prefix = "encoder.layer.";
  for (const std::string& full : names) {
    const std::string n = full.rfind("bert.", 0) == 0 ? full.substr(5) : full;  // a head model's or a BertModel's name
    if (n.rfind(layer_prefix, 0) == 0) {
      const size_t dot = n.find('.', layer_prefix.size());
      ++layers[std::stoll(n.substr(layer_prefix.size(), dot - layer_prefix.size()))];
    } else if (n.rfind("embeddings.", 0) == 0) {
      ++embeddings;
    } else if (n.rfind("pooler.", 0) == 0) {
      ++pooler;
    } else {
      others.push_back(full);
    }
  }
  std::vector<std::string> parts;
  if (embeddings) parts.push_back("the embeddings (" + std::to_string(embeddings) + " tensors)");
  if (!layers.empty()) {  // runs of consecutive layers: "encoder layers 2-3", "encoder layer 5"
    std::string runs;
    int64_t tensors = 0, count = 0;
    for (auto it = layers.begin(); it != layers.end();) {
      auto end = it;
      int64_t last = it->first;
      while (std::next(end) != layers.end() && std::next(end)->first == last + 1) ++end, ++last;
      runs += (runs.empty() ? "" : ", ") + std::to_string(it->first) + (last > it->first ? "-" + std::to_string(last) : "");
      count += last - it->first + 1;
      it = std::next(end);
    }
    for (auto& [_, n] : layers) tensors += n;
    parts.push_back(std::string(count > 1 ? "encoder layers " : "encoder layer ") + runs + " (" + std::to_string(tensors) +
                    " tensors)");
  }
  if (pooler) parts.push_back("the pooler (" + std::to_string(pooler) + " tensors)");
  for (size_t i = 0; i < others.size() && i < 8; ++i) parts.push_back(others[i]);
  if (others.size() > 8) parts.push_back("and " + std::to_string(others.size() - 8) + " more");
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? ", " : "") + parts[i];
  return s;
}

// A task head's own weights (and the pooler, which only the heads read): what fine-tuning a
// pretrained encoder initialises anew, as transformers does with a warning.
static bool is_head_weight(const std::string& name) {
  return name.rfind("bert.", 0) != 0 || name.rfind("bert.pooler.", 0) == 0;
}

// model_type in a config.json file ("bert" when it has none, or when the file is missing or
// not JSON: BertConfig::load then names what is wrong).
std::string model_type_in(const std::string& path) {
  if (!file_exists(path)) return "bert";  // (BertConfig::load says what is missing)
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const std::exception&) {
    return "bert";  // BertConfig::load names the JSON error
  }
  if (!j.is_object() || !j.contains("model_type")) return "bert";  // BERT folders from old tools have none
  if (!j["model_type"].is_string()) fail(path + ": key \"model_type\" must be a string, got " + j["model_type"].dump());
  const std::string t = j["model_type"].get<std::string>();
  if (t != "bert" && t != "distilbert")
    fail(path + ": model_type \"" + t + "\" is not supported (bert, distilbert)");
  return t;
}

std::string model_type_of(const std::string& dir) { return model_type_in((fs::path(dir) / "config.json").string()); }

BertConfig load_shared_config(const std::string& path) {
  if (model_type_in(path) == "distilbert") return DistilBertConfig::load(path).shared;
  return BertConfig::load(path);
}

bool is_distilbert_spec(const std::string& spec) {
  const std::string json = dir_exists(spec) ? (fs::path(spec) / "config.json").string() : spec;
  return spec.rfind("distilbert", 0) == 0 || (file_exists(json) && model_type_in(json) == "distilbert");
}

static std::string spec_json(const std::string& spec) {
  return dir_exists(spec) ? (fs::path(spec) / "config.json").string() : spec;
}

BertConfig shared_config_of(const std::string& spec) {
  if (dir_exists(spec) || file_exists(spec)) return load_shared_config(spec_json(spec));
  return is_distilbert_spec(spec) ? DistilBertConfig::preset(spec).shared : BertConfig::preset(spec);
}

std::shared_ptr<PreTrainedModel> new_model(Task task, const std::string& spec, int64_t num_labels) {
  const std::string json = spec_json(spec);
  if (is_distilbert_spec(spec)) {
    DistilBertConfig c = file_exists(json) ? DistilBertConfig::load(json) : DistilBertConfig::preset(spec);
    if (num_labels > 0) c.shared.set_num_labels(num_labels);
    return make_distilbert(task, c);
  }
  BertConfig c = shared_config_of(spec);
  if (num_labels > 0) c.set_num_labels(num_labels);
  return make_model(task, c);
}

std::shared_ptr<PreTrainedModel> from_pretrained(const std::string& dir, Task task, LoadInfo* info,
                                                 int64_t num_labels, uint64_t seed, bool new_head) {
  if (model_type_of(dir) == "distilbert") return distilbert_from_pretrained(dir, task, info, new_head, seed, num_labels);
  return bert_from_pretrained(dir, task, info, num_labels, seed, new_head);
}

std::shared_ptr<BertPreTrainedModel> bert_from_pretrained(const std::string& dir, Task task, LoadInfo* info,
                                                          int64_t num_labels, uint64_t seed, bool new_head) {
  BertConfig c = BertConfig::load((fs::path(dir) / "config.json").string());
  if (num_labels > 0 && num_labels != c.num_labels()) c.set_num_labels(num_labels);
  std::shared_ptr<BertPreTrainedModel> model;
  {
    nn::SkipInitGuard no_init;  // every value is loaded or initialised below
    model = make_model(task, c);
  }
  const std::string file = weights_file(dir);
  LoadInfo li = load_weights(*model, file, model->tied_names());
  // Missing encoder weights mean config.json and the weights describe different models: never
  // guessed at. A missing head is new only when it is about to be trained.
  std::vector<std::string> encoder;
  for (const std::string& n : li.newly_initialized)
    if (!is_head_weight(n)) encoder.push_back(n);
  if (!encoder.empty())
    fail(dir + ": " + describe_missing(encoder) + (encoder.size() == 1 ? " is" : " are") + " not in " + file +
         ", though config.json (" + std::to_string(c.num_hidden_layers) + " layers, hidden " +
         std::to_string(c.hidden_size) + ") asks for " + (encoder.size() == 1 ? "it" : "them") +
         ": the config and the weights are of different models");
  if (!li.newly_initialized.empty() && !new_head)
    fail(dir + ": " + describe_missing(li.newly_initialized) + (li.newly_initialized.size() == 1 ? " is" : " are") +
         " not in " + file + ": the folder has no trained " + task_class_name(task) +
         " head (fine-tune it first: bertlab finetune)");
  init_missing(*model, li.newly_initialized, c, seed);
  if (info) *info = li;
  return model;
}

std::shared_ptr<BertModel> bert_model_from_pretrained(const std::string& dir, LoadInfo* info) {
  BertConfig c = BertConfig::load((fs::path(dir) / "config.json").string());
  std::shared_ptr<BertModel> model;
  {
    nn::SkipInitGuard no_init;
    model = std::make_shared<BertModel>(c, true);
  }
  const std::string file = weights_file(dir);
  LoadInfo li = load_weights(*model, file);
  // The pooler is only read by the heads (embed pools the hidden states itself): a folder
  // saved without it (BertModel(add_pooling_layer=False)) still loads; any other gap is an error.
  std::vector<std::string> missing;
  for (const std::string& n : li.newly_initialized)
    if (n.rfind("pooler.", 0) != 0) missing.push_back(n);
  if (!missing.empty())
    fail(dir + ": " + describe_missing(missing) + (missing.size() == 1 ? " is" : " are") + " not in " + file +
         ", though config.json (" + std::to_string(c.num_hidden_layers) + " layers, hidden " +
         std::to_string(c.hidden_size) + ") asks for " + (missing.size() == 1 ? "it" : "them"));
  init_missing(*model, li.newly_initialized, c, 0);
  if (info) *info = li;
  return model;
}

std::string saved_architecture(const std::string& dir) {
  BertConfig c = load_shared_config((fs::path(dir) / "config.json").string());
  return c.architectures.empty() ? "" : c.architectures.front();
}

void TokenizerFiles::set_options(const tokenizer::TokenizerOptions& o) {
  do_lower_case = o.do_lower_case;
  strip_accents = o.strip_accents;
  tokenize_chinese_chars = o.tokenize_chinese_chars;
  model_max_length = (int64_t)o.model_max_length;
  additional_special_tokens = o.additional_special_tokens;
}

// vocab.txt, tokenizer.json and tokenizer_config.json of `tok` into folder d.
static void write_tokenizer_files(const std::string& d, const TokenizerFiles& tok) {
  const std::string text = !tok.vocab_text.empty() ? tok.vocab_text : read_file(tok.vocab_file);
  const tokenizer::Vocab vocab = tokenizer::parse_vocab(text, tok.vocab_text.empty() ? tok.vocab_file : "vocab.txt");
  tokenizer::TokenizerOptions o;
  o.do_lower_case = tok.do_lower_case;
  o.strip_accents = tok.strip_accents;
  o.tokenize_chinese_chars = tok.tokenize_chinese_chars;
  o.additional_special_tokens = tok.additional_special_tokens;
  write_file_atomic((fs::path(d) / "vocab.txt").string(), text);
  write_file_atomic((fs::path(d) / "tokenizer.json").string(), tokenizer::to_tokenizer_json(vocab, o));
  nlohmann::json tc = {{"tokenizer_class", "BertTokenizer"},
                       {"do_lower_case", tok.do_lower_case},
                       {"model_max_length", tok.model_max_length},
                       {"unk_token", "[UNK]"},
                       {"sep_token", "[SEP]"},
                       {"pad_token", "[PAD]"},
                       {"cls_token", "[CLS]"},
                       {"mask_token", "[MASK]"},
                       {"tokenize_chinese_chars", tok.tokenize_chinese_chars},
                       {"strip_accents", tok.strip_accents ? nlohmann::json(*tok.strip_accents) : nlohmann::json(nullptr)}};
  if (!tok.additional_special_tokens.empty()) tc["additional_special_tokens"] = tok.additional_special_tokens;
  write_file_atomic((fs::path(d) / "tokenizer_config.json").string(), tc.dump(2) + "\n");
}

static void write_folder(const std::string& dir, const nlohmann::json& config, const nn::NamedTensors& tensors,
                         const TokenizerFiles& tok) {
  auto write_all = [&](const std::string& d) {
    safetensors::save((fs::path(d) / "model.safetensors").string(), tensors, {{"format", "pt"}});
    if (!tok.vocab_file.empty() || !tok.vocab_text.empty()) write_tokenizer_files(d, tok);
    // last: its presence marks a complete folder
    write_file_atomic((fs::path(d) / "config.json").string(), config.dump(2) + "\n");
  };
  if (dir_exists(dir)) {
    write_all(dir);
    return;
  }
  fs::path target(dir);
  fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  make_dirs(parent.string());
  std::string tmp = (parent / (target.filename().string() + ".tmp." + std::to_string(::getpid()))).string();
  std::error_code ec;
  fs::remove_all(tmp, ec);
  make_dirs(tmp);
  try {
    write_all(tmp);
    sync_dir(tmp);
    fs::rename(tmp, target);
    sync_dir(parent.string());  // the rename survives a power cut
  } catch (const std::exception& e) {
    fs::remove_all(tmp, ec);
    throw Error(std::string("cannot save the model to ") + dir + ": " + e.what());
  }
}

void save_pretrained(const PreTrainedModel& m, const std::string& dir, const TokenizerFiles& tok) {
  nn::NamedTensors out;
  auto tied = m.tied_names();
  for (auto& [n, t] : m.state_dict())
    if (std::find(tied.begin(), tied.end(), n) == tied.end()) out.emplace_back(n, t);
  write_folder(dir, m.config_json(), out, tok);
}

void save_pretrained(const BertModel& m, const std::string& dir, const TokenizerFiles& tok) {
  BertConfig c = m.config;
  c.architectures = {"BertModel"};
  write_folder(dir, c.to_json(), m.state_dict(), tok);
}

}  // namespace bertlab::bert
