// bert/embeddings.h — BertEmbeddings: word + position + token-type embeddings, then
// LayerNorm and dropout (Devlin et al. 2019, section 3; transformers' BertEmbeddings).
#pragma once

#include "bert/config.h"
#include "nn/layers.h"

namespace bertlab::bert {

class BertEmbeddings : public nn::Module {
 public:
  explicit BertEmbeddings(const BertConfig& c);
  // input_ids (B,T) int64; token_type_ids (B,T) or undefined (zeros); position_ids (B,T) or
  // undefined (0..T-1). Returns (B,T,hidden).
  Tensor forward(const Tensor& input_ids, const Tensor& token_type_ids = Tensor(),
                 const Tensor& position_ids = Tensor()) const;

  std::shared_ptr<nn::Embedding> word_embeddings, position_embeddings, token_type_embeddings;
  std::shared_ptr<nn::LayerNorm> LayerNorm;
  std::shared_ptr<nn::Dropout> dropout;
  int64_t max_positions;
};

}  // namespace bertlab::bert
