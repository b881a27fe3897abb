// bert/fill_mask.h — the fill-mask pipeline: the most likely tokens for each [MASK] in a text,
// with softmax scores, as transformers' FillMaskPipeline returns them:
//   [{"score": 0.41, "token": 3000, "token_str": "paris", "sequence": "paris is the capital of france."}, ...]
// One list for a text with one [MASK]; a list of lists (one per mask, in order) for several, where
// each "sequence" fills only its own mask and keeps the others as "[MASK]" (as transformers does:
// decode with skip_special_tokens only for a single mask).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bert/heads.h"
#include "tokenizer/bert_tokenizer.h"

namespace bertlab::bert {

struct FillMaskCandidate {
  double score = 0;        // softmax probability over the vocabulary
  int64_t token = 0;       // id
  std::string token_str;   // decode([token])
  std::string sequence;    // the text with this token in the mask's place (decoded)
  nlohmann::json to_json() const;
};

class FillMask {
 public:
  // A model folder (config.json, model.safetensors, vocab.txt): any BERT checkpoint with the MLM
  // head (BertForPreTraining or BertForMaskedLM). Throws naming the folder when it lacks one.
  explicit FillMask(const std::string& model_dir, Device device = Device::CPU);
  FillMask(std::shared_ptr<PreTrainedModel> model, std::shared_ptr<const tokenizer::BertTokenizer> tok,
           Device device = Device::CPU);

  // For each [MASK] of the text (in order), the top_k tokens, best first. Throws when the text
  // has no [MASK] or every mask is beyond the model's max_position_embeddings.
  std::vector<std::vector<FillMaskCandidate>> operator()(std::string_view text, int64_t top_k = 5) const;
  // transformers' output shape: a list for one mask, a list of lists for several.
  static nlohmann::json to_json(const std::vector<std::vector<FillMaskCandidate>>& r);

  const tokenizer::BertTokenizer& tokenizer() const { return *tok_; }

 private:
  std::shared_ptr<PreTrainedModel> model_;
  std::shared_ptr<const tokenizer::BertTokenizer> tok_;
  Device device_;
};

}  // namespace bertlab::bert
