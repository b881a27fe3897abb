// bert/attention.h — multi-head self-attention with the padding mask (Vaswani et al. 2017),
// as transformers' BertSelfAttention + BertSelfOutput:
//
//   q, k, v = h Wq^T + bq, ...                    (B,T,C) each, split into H heads of D = C/H
//   scores  = q k^T / sqrt(D) + mask_bias          (B,H,T,T); mask_bias (B,1,1,T) is 0 for
//                                                  tokens and the dtype's minimum for padding
//   probs   = dropout(softmax(scores))
//   ctx     = probs v, heads merged back           (B,T,C)
//   out     = LayerNorm(h + dropout(ctx Wo^T + bo))   (post-LN)
#pragma once

#include "bert/config.h"
#include "nn/layers.h"

namespace bertlab::bert {

// Whether self-attention on CUDA runs as the fused scaled_dot_product_attention kernel
// instead of the composed ops (matmul, softmax, dropout, matmul). Process-wide, default off;
// the CPU always uses the composed ops.
void set_fused_attention(bool on);
bool fused_attention();

// The attention itself, written once for every family (BERT's query/key/value here,
// DistilBERT's q_lin/k_lin/v_lin in bert/distilbert/): q, k, v are the projections (B,T,C),
// split into `heads` heads; returns the context (B,T,C) before the output projection. When
// `probs` is not null it receives the probabilities (B,H,T,T) before dropout.
Tensor multi_head_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask_bias, int64_t heads,
                            const nn::Dropout& dropout, Tensor* probs = nullptr);

class BertSelfAttention : public nn::Module {
 public:
  explicit BertSelfAttention(const BertConfig& c);
  // hidden (B,T,C), mask_bias (B,1,1,T) or undefined -> context (B,T,C); when `probs` is not
  // null it receives the attention probabilities (B,H,T,T) (before dropout).
  Tensor forward(const Tensor& hidden, const Tensor& mask_bias, Tensor* probs = nullptr) const;
  std::shared_ptr<nn::Linear> query, key, value;
  std::shared_ptr<nn::Dropout> dropout;
  int64_t heads, head_dim;
};

class BertSelfOutput : public nn::Module {
 public:
  explicit BertSelfOutput(const BertConfig& c);
  Tensor forward(const Tensor& context, const Tensor& input) const;  // LayerNorm(input + dropout(dense(context)))
  std::shared_ptr<nn::Linear> dense;
  std::shared_ptr<nn::LayerNorm> LayerNorm;
  std::shared_ptr<nn::Dropout> dropout;
};

class BertAttention : public nn::Module {
 public:
  explicit BertAttention(const BertConfig& c);
  Tensor forward(const Tensor& hidden, const Tensor& mask_bias, Tensor* probs = nullptr) const;
  std::shared_ptr<BertSelfAttention> self;
  std::shared_ptr<BertSelfOutput> output;
};

}  // namespace bertlab::bert
