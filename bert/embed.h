// bert/embed.h — sentence embeddings from a BertModel, as sentence-transformers computes
// them for all-MiniLM-L6-v2: mean of the last hidden states over real tokens (the attention
// mask), then L2-normalised.
//
//   emb_i = normalize( sum_t mask_it h_it / sum_t mask_it )
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bert/heads.h"
#include "tokenizer/bert_tokenizer.h"

namespace bertlab::bert {

// Tokenised batch as tensors: input_ids, attention_mask, token_type_ids (B,T), padded to the
// longest (the encodings must already have equal length; encode_batch with Padding::kLongest).
BertInputs batch_inputs(const std::vector<tokenizer::Encoding>& encodings, Device device = Device::CPU);

struct Embeddings {
  Tensor last_hidden_state;  // (B,T,C)
  Tensor attention_mask;     // (B,T)
  Tensor sentence;           // (B,C) mean-pooled (and normalised when asked)
};

Embeddings embed(const BertModel& model, const tokenizer::BertTokenizer& tok, const std::vector<std::string>& texts,
                 bool normalize = true, size_t max_length = 512, Device device = Device::CPU);

// A bare encoder of any family (BertModel, DistilBertModel): the module, for to() and eval(),
// and its forward to the last hidden states.
struct Encoder {
  std::shared_ptr<nn::Module> module;
  std::function<Tensor(const BertInputs&)> last_hidden_state;
  std::string class_name;  // "BertModel", "DistilBertModel"
};
// From a model folder of any family (config.json's model_type); every encoder weight must be
// in the file (BERT's pooler excepted: embed never reads it).
Encoder encoder_from_pretrained(const std::string& dir);
Embeddings embed(const Encoder& model, const tokenizer::BertTokenizer& tok, const std::vector<std::string>& texts,
                 bool normalize = true, size_t max_length = 512, Device device = Device::CPU);

// Mean over positions with mask 1: hidden (B,T,C), mask (B,T) -> (B,C)
Tensor mean_pool(const Tensor& hidden, const Tensor& mask);
// x / max(||x||_2, 1e-12) along the last dimension
Tensor l2_normalize(const Tensor& x);

}  // namespace bertlab::bert
