// cuda/cross_entropy.h — launchers for the fused log-softmax + negative log-likelihood
// kernels (cuda/cross_entropy.cu); same signatures as ops/cpu/cross_entropy.h.
#pragma once

#include "autograd/dtype.h"

namespace bertlab::cuda {

// losses and lse are (N), logits is (N,C), targets is (N); all dense. Targets are already
// checked to lie in [0, C) or equal ignore_index. For each row n:
//   lse[n]    = max + log(sum_c exp(logits[n, c] - max))      (kept for backward)
//   losses[n] = lse[n] - logits[n, targets[n]],  or 0 where targets[n] == ignore_index
void cross_entropy_forward(DType t, void* losses, void* lse, const void* logits,
                           const int64_t* targets, int64_t N, int64_t C, int64_t ignore_index);
// dlogits is (N,C), dlosses is (N) (the gradient of each row's loss, the reduction's scale
// already folded in), logits is (N,C), lse and targets are (N). dlogits is overwritten:
//   dlogits[n, c] = dlosses[n] * (exp(logits[n, c] - lse[n]) - [c == targets[n]])
// and 0 on rows whose target is ignore_index.
void cross_entropy_backward(DType t, void* dlogits, const void* dlosses, const void* logits,
                            const void* lse, const int64_t* targets, int64_t N, int64_t C,
                            int64_t ignore_index);

}  // namespace bertlab::cuda
