// bert/layer.h — one encoder layer: attention, then the feed-forward block
//   h' = LayerNorm(h + dropout(W2 act(W1 h + b1) + b2))      (post-LN, as BERT)
// with transformers' names: intermediate.dense (W1), output.dense (W2), output.LayerNorm.
#pragma once

#include "bert/attention.h"

namespace bertlab::bert {

// The activation named by config.hidden_act.
Tensor activation(const std::string& name, const Tensor& x);

class BertIntermediate : public nn::Module {
 public:
  explicit BertIntermediate(const BertConfig& c);
  Tensor forward(const Tensor& h) const;  // (B,T,C) -> (B,T,intermediate)
  std::shared_ptr<nn::Linear> dense;
  std::string act;
};

class BertOutput : public nn::Module {
 public:
  explicit BertOutput(const BertConfig& c);
  Tensor forward(const Tensor& inner, const Tensor& input) const;  // LayerNorm(input + dropout(dense(inner)))
  std::shared_ptr<nn::Linear> dense;
  std::shared_ptr<nn::LayerNorm> LayerNorm;
  std::shared_ptr<nn::Dropout> dropout;
};

class BertLayer : public nn::Module {
 public:
  explicit BertLayer(const BertConfig& c);
  Tensor forward(const Tensor& hidden, const Tensor& mask_bias, Tensor* probs = nullptr) const;
  std::shared_ptr<BertAttention> attention;
  std::shared_ptr<BertIntermediate> intermediate;
  std::shared_ptr<BertOutput> output;
};

}  // namespace bertlab::bert
