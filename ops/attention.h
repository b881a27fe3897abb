// ops/attention.h — scaled dot-product attention as one fused op (Vaswani et al., "Attention
// Is All You Need", 2017, eq. 1), with an additive mask and dropout on the probabilities.
#pragma once

#include "autograd/tensor.h"

namespace bertlab {

// q, k, v are (B,H,T,D); mask_bias is (B,1,1,T) or (1,1,1,T) and added to every score row
// (0 for tokens, a large negative value for padding), or undefined. Same dtype and device.
//   scores = q k^T / sqrt(D) + mask_bias          (B,H,T,T), never stored
//   probs  = dropout(softmax(scores, -1), dropout_p)   when train, else softmax(scores, -1)
//   out    = probs v                              (B,H,T,D)
// The dropout mask is the one dropout(probs, dropout_p, train, gen) would draw (the same
// generator advance, the same Philox elements), so the op equals the composed ops
//   matmul(dropout(softmax(matmul(q, k^T) / sqrt(D) + mask_bias)), v)
// to rounding, on either device. Differentiable in q, k, v and mask_bias; the backward
// recomputes the probabilities from the row log-sum-exps kept by the forward (FlashAttention).
// The result is a (B,H,T,D) view of a dense (B,T,H,D) tensor, so merging the heads back into
// (B,T,H*D) needs no copy. On CUDA, D is at most 128 (cuda/attention.h).
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask_bias,
                                    double dropout_p, bool train, Generator& gen);
// The same with default_generator().
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& mask_bias = Tensor(), double dropout_p = 0.0, bool train = false);

}  // namespace bertlab
