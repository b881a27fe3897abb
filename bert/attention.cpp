// bert/attention.cpp — see attention.h.
#include "bert/attention.h"

#include <cmath>

#include "ops/ops.h"

namespace bertlab::bert {

BertSelfAttention::BertSelfAttention(const BertConfig& c) : heads(c.num_attention_heads), head_dim(c.head_dim()) {
  query = register_module("query", std::make_shared<nn::Linear>(c.hidden_size, c.hidden_size));
  key = register_module("key", std::make_shared<nn::Linear>(c.hidden_size, c.hidden_size));
  value = register_module("value", std::make_shared<nn::Linear>(c.hidden_size, c.hidden_size));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(c.attention_probs_dropout_prob));
}

Tensor BertSelfAttention::forward(const Tensor& hidden, const Tensor& mask_bias, Tensor* probs_out) const {
  const int64_t B = hidden.size(0), T = hidden.size(1), C = hidden.size(2);
  // (B,T,C) -> (B,H,T,D): a view, no copy; matmul reads the strided heads directly
  auto split = [&](const Tensor& x) { return permute(view(x, {B, T, heads, head_dim}), {0, 2, 1, 3}); };
  Tensor q = split(query->forward(hidden));
  Tensor k = split(key->forward(hidden));
  Tensor v = split(value->forward(hidden));
  Tensor scores = matmul(q, transpose(k, -1, -2)) * (1.0 / std::sqrt((double)head_dim));  // (B,H,T,T)
  if (mask_bias.defined()) scores = scores + mask_bias;
  Tensor probs = softmax(scores, -1);
  if (probs_out) *probs_out = probs;
  Tensor ctx = matmul(dropout->forward(probs), v);               // (B,H,T,D)
  return reshape(permute(ctx, {0, 2, 1, 3}), {B, T, C});          // (B,T,C)
}

BertSelfOutput::BertSelfOutput(const BertConfig& c) {
  dense = register_module("dense", std::make_shared<nn::Linear>(c.hidden_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", std::make_shared<nn::LayerNorm>(c.hidden_size, c.layer_norm_eps));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(c.hidden_dropout_prob));
}

Tensor BertSelfOutput::forward(const Tensor& context, const Tensor& input) const {
  return LayerNorm->forward(input + dropout->forward(dense->forward(context)));
}

BertAttention::BertAttention(const BertConfig& c) {
  self = register_module("self", std::make_shared<BertSelfAttention>(c));
  output = register_module("output", std::make_shared<BertSelfOutput>(c));
}

Tensor BertAttention::forward(const Tensor& hidden, const Tensor& mask_bias, Tensor* probs) const {
  return output->forward(self->forward(hidden, mask_bias, probs), hidden);
}

}  // namespace bertlab::bert
