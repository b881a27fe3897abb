// bert/checkpoint.h — Hugging Face-compatible checkpoints: a folder with config.json and
// model.safetensors (+ tokenizer files), loaded by name (transformers' from_pretrained /
// save_pretrained). No pickle: pytorch_model.bin is refused with a message saying so.
//
// Loading accepts keys with or without the "bert." prefix (a BertModel checkpoint into a
// head model and the reverse), legacy LayerNorm.gamma / LayerNorm.beta names, and files that
// omit tied weights (the MLM decoder). A shape mismatch names the key and both shapes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bert/heads.h"

namespace bertlab::tokenizer {
struct TokenizerOptions;  // tokenizer/bert_tokenizer.h
}

namespace bertlab::bert {

struct LoadInfo {
  std::vector<std::string> newly_initialized;  // in the model, not in the file (e.g. a new classifier)
  std::vector<std::string> unused;             // in the file, not in the model (e.g. cls.* into a classifier)
  std::string summary() const;                 // the two lists, as transformers prints them
};

// Copies the tensors of a safetensors file into m's parameters by name (see above).
// `tied` lists parameter names that alias others and may be absent. `base` is the encoder's
// name inside a head model ("bert", "distilbert"): keys load with or without it.
LoadInfo load_weights(nn::Module& m, const std::string& safetensors_path, const std::vector<std::string>& tied = {},
                      const std::string& base = "bert");
// Initialises the named parameters of m as BERT's init_weights would (LayerNorm weights 1,
// biases 0, other weights N(0, initializer_range), the padding row of the word embeddings 0),
// drawing from `seed`: the weights a checkpoint lacked, for a new head.
void init_missing(nn::Module& m, const std::vector<std::string>& names, const BertConfig& c, uint64_t seed);
// dir/model.safetensors, or an error saying what the folder has instead (a pickle, shards, nothing).
std::string weights_file(const std::string& dir);

// A model of the given task from a folder. The config's labels decide num_labels unless
// `num_labels` > 0 overrides it. Every weight the model needs must be in the file, with one
// exception: with `new_head` (fine-tuning, continued pre-training) a task head the file lacks
// (the weights outside "bert.", and the pooler) is initialised as BERT does, from `seed`, and
// listed in info->newly_initialized. Anything else missing is an error naming it ("encoder
// layers 2-3 (32 tensors) are not in DIR/model.safetensors ..."): inference on weights that
// were never trained would only give chance answers.
// The folder's config.json "model_type" picks the family: "bert" (or none: older folders)
// or "distilbert" (bert/distilbert/model.h); any other is an error naming it.
std::shared_ptr<PreTrainedModel> from_pretrained(const std::string& dir, Task task, LoadInfo* info = nullptr,
                                                 int64_t num_labels = 0, uint64_t seed = 0, bool new_head = false);
// The same for a folder that must be BERT's (pre-training with NSP, BERT-only tools).
std::shared_ptr<BertPreTrainedModel> bert_from_pretrained(const std::string& dir, Task task, LoadInfo* info = nullptr,
                                                          int64_t num_labels = 0, uint64_t seed = 0,
                                                          bool new_head = false);
// config.json's model_type ("bert" when it has none), of a folder or of a config file.
std::string model_type_of(const std::string& dir);
std::string model_type_in(const std::string& config_json);
// A --config spec: a preset (bert-*, distilbert-*), a config.json file, or a model folder.
// A DistilBERT preset or a config of model_type "distilbert" makes a DistilBERT, anything else
// a BERT. new_model's weights are left to init_weights; num_labels > 0 sets the labels.
bool is_distilbert_spec(const std::string& spec);
BertConfig shared_config_of(const std::string& spec);  // the shared fields of the spec's config
std::shared_ptr<PreTrainedModel> new_model(Task task, const std::string& spec, int64_t num_labels = 0);

// The fields every family has (sizes, labels, problem type; bert/heads.h's PreTrainedModel::config)
// from a config.json of any family.
BertConfig load_shared_config(const std::string& config_json);
// The bare encoder (transformers.BertModel / AutoModel) from a folder; a missing weight is an
// error, except the pooler (a folder saved with add_pooling_layer=False), which embed never reads.
std::shared_ptr<BertModel> bert_model_from_pretrained(const std::string& dir, LoadInfo* info = nullptr);

// Writes dir/config.json and dir/model.safetensors (tied aliases left out, metadata
// {"format": "pt"} as transformers expects), plus vocab.txt, tokenizer.json and
// tokenizer_config.json when a vocabulary is given (vocab.txt for transformers 4 and older
// readers, tokenizer.json for transformers 5, which reads no vocab.txt). A new folder appears
// all at once (built under a temporary name and renamed); in an existing folder each file is
// replaced atomically.
struct TokenizerFiles {
  std::string vocab_file;      // copied to vocab.txt ("" = none, unless vocab_text is set)
  bool do_lower_case = true;
  int64_t model_max_length = 512;
  std::string vocab_text;      // the vocab.txt text itself; used instead of vocab_file when set
  std::optional<bool> strip_accents;  // unset: strip accents exactly when lowercasing
  bool tokenize_chinese_chars = true;
  std::vector<std::string> additional_special_tokens;  // e.g. "[E1]": kept special in both files
  // These fields from a tokenizer's options (what from_pretrained read).
  void set_options(const tokenizer::TokenizerOptions& o);
};
void save_pretrained(const PreTrainedModel& m, const std::string& dir, const TokenizerFiles& tok = {});
void save_pretrained(const BertModel& m, const std::string& dir, const TokenizerFiles& tok = {});

// The config's "architectures" entry names the head a folder was saved with, if any.
std::string saved_architecture(const std::string& dir);

}  // namespace bertlab::bert
