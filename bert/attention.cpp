// bert/attention.cpp — see attention.h.
#include "bert/attention.h"

#include <cmath>

#include "ops/ops.h"

namespace bertlab::bert {

// Off by default, and ignored on the CPU: the composed ops below are the reference path. The
// GPU run (tools/gpu_check.sh: bench_cuda_bert with and without --fused_attention) decides
// whether the fused kernel is faster there; switch the default only on that evidence.
static bool g_fused_attention = false;
void set_fused_attention(bool on) { g_fused_attention = on; }
bool fused_attention() { return g_fused_attention; }

BertSelfAttention::BertSelfAttention(const BertConfig& c) : heads(c.num_attention_heads), head_dim(c.head_dim()) {
  query = register_module("query", std::make_shared<nn::Linear>(c.hidden_size, c.hidden_size));
  key = register_module("key", std::make_shared<nn::Linear>(c.hidden_size, c.hidden_size));
  value = register_module("value", std::make_shared<nn::Linear>(c.hidden_size, c.hidden_size));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(c.attention_probs_dropout_prob));
}

Tensor multi_head_attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, const Tensor& mask_bias,
                            int64_t heads, const nn::Dropout& dropout, Tensor* probs_out) {
  const int64_t B = q_in.size(0), T = q_in.size(1), C = q_in.size(2), D = C / heads;
  // (B,T,C) -> (B,H,T,D): a view, no copy; matmul reads the strided heads directly
  auto split = [&](const Tensor& x) { return permute(view(x, {B, T, heads, D}), {0, 2, 1, 3}); };
  Tensor q = split(q_in), k = split(k_in), v = split(v_in);
  if (g_fused_attention && q.device() == Device::CUDA && !probs_out) {
    // the same function in one kernel (ops/attention.h), with the same dropout mask
    Tensor ctx = scaled_dot_product_attention(q, k, v, mask_bias, dropout.p, dropout.is_training(),
                                              dropout.gen ? *dropout.gen : default_generator());
    return reshape(permute(ctx, {0, 2, 1, 3}), {B, T, C});  // a dense (B,T,H,D) already: no copy
  }
  // the 1/sqrt(d) scale inside the GEMM (alpha); q and k^T are read in place from (B,T,H,D)
  Tensor scores = matmul(q, transpose(k, -1, -2), 1.0 / std::sqrt((double)D));  // (B,H,T,T)
  if (mask_bias.defined()) scores = scores + mask_bias;
  Tensor probs = softmax(scores, -1);
  if (probs_out) *probs_out = probs;
  Tensor ctx = matmul(dropout.forward(probs), v);                // (B,H,T,D)
  return reshape(permute(ctx, {0, 2, 1, 3}), {B, T, C});          // (B,T,C)
}

Tensor BertSelfAttention::forward(const Tensor& hidden, const Tensor& mask_bias, Tensor* probs_out) const {
  // for inference under bfloat16 autocast, one bfloat16 copy of hidden feeds all three
  const Tensor x = autocast_operand(hidden);
  return multi_head_attention(query->forward(x), key->forward(x), value->forward(x), mask_bias, heads, *dropout,
                              probs_out);
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
