// ops/cpu/cross_entropy.h — CPU fused cross-entropy (same signatures and formulas as
// cuda/cross_entropy.h).
#pragma once

#include "autograd/dtype.h"

namespace bertlab::cpu {

void cross_entropy_forward(DType t, void* losses, void* lse, const void* logits,
                           const int64_t* targets, int64_t N, int64_t C, int64_t ignore_index);
void cross_entropy_backward(DType t, void* dlogits, const void* dlosses, const void* logits,
                            const void* lse, const int64_t* targets, int64_t N, int64_t C,
                            int64_t ignore_index);

}  // namespace bertlab::cpu
