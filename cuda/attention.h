// cuda/attention.h — fused scaled-dot-product attention, forward and backward (cuda/attention.cu);
// the CPU reference kernels in ops/cpu/attention.h take the same arguments.
//
// For each batch b and head h, with q, k, v the (T,D) rows of that head:
//   s[i, j] = scale * (q_i . k_j) + bias[b, j]          scale = 1/sqrt(D); bias absent: 0
//   p[i, j] = exp(s[i, j] - lse[i]),  lse[i] = log sum_j exp(s[i, j])       (the softmax)
//   out_i   = sum_j keep(b, h, i, j) * p[i, j] / (1 - p_drop) * v_j         (dropout, then PV)
// keep(b, h, i, j) = dropout_keep(seed, offset, ((b H + h) T + i) T + j, p_drop) (cuda/dropout.h),
// i.e. the mask the dropout op would draw over the dense (B,H,T,T) probabilities with the same
// generator state, so the fused op and the composed ops (matmul, softmax, dropout, matmul)
// compute the same function, on either device.
//
// The forward keeps lse (B,H,T) and nothing of size T x T; the backward recomputes p from
// it (Dao et al., "FlashAttention", NeurIPS 2022; Dao, "FlashAttention-2", 2023):
//   delta_i = dout_i . out_i
//   dv_j = sum_i pd[i, j] dout_i                       pd = keep * p / (1 - p_drop)
//   dp[i, j] = keep * (dout_i . v_j) / (1 - p_drop)
//   ds[i, j] = p[i, j] (dp[i, j] - delta_i)
//   dq_i = scale sum_j ds[i, j] k_j,   dk_j = scale sum_i ds[i, j] q_i,   dbias_bh[b, h, j] = sum_i ds[i, j]
#pragma once

#include <cstdint>

#include "autograd/dtype.h"

namespace bertlab {

// A (B,H,T,D) operand: row (b, h, t) starts at data + b*sb + h*sh + t*st elements and holds D
// contiguous elements (any other layout is made dense first).
struct AttnTensor {
  void* data = nullptr;
  int64_t sb = 0, sh = 0, st = 0;
};

struct AttnArgs {
  int64_t B = 0, H = 0, T = 0, D = 0;
  double scale = 1.0;     // multiplies q . k
  double p = 0.0;         // dropout probability; 0: no dropout
  uint64_t seed = 0, offset = 0;  // the Philox stream of the dropout mask
  AttnTensor q, k, v, out;        // (B,H,T,D)
  void* lse = nullptr;            // (B,H,T), dense: written by the forward, read by the backward
  const void* bias = nullptr;     // additive mask: row b is bias + b*bias_sb, T contiguous entries; null: none
  int64_t bias_sb = 0;            // 0 when one row serves every batch
};

struct AttnGrads {
  AttnTensor dq, dk, dv;  // (B,H,T,D), overwritten
  AttnTensor dout;        // (B,H,T,D), the incoming gradient
  void* delta = nullptr;  // (B,H,T) dense scratch (dout_i . out_i)
  void* dbias_bh = nullptr;  // (B,H,T) dense, sum_i ds[i, j] per head; null: not wanted
};

}  // namespace bertlab

namespace bertlab::cuda {

// The largest head size the kernels take (the per-thread registers are sized for it).
constexpr int64_t kAttentionMaxHeadDim = 128;

// Writes a.out and a.lse. float32 or float64; D <= kAttentionMaxHeadDim.
void attention_forward(DType t, const AttnArgs& a);
// Writes g.dq, g.dk, g.dv, g.delta and (when not null) g.dbias_bh from a (as the forward left
// it: out and lse filled in) and g.dout.
void attention_backward(DType t, const AttnArgs& a, const AttnGrads& g);

}  // namespace bertlab::cuda
