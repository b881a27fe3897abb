// ops/cpu/layernorm.h — CPU LayerNorm forward and backward (same signatures and formulas as
// cuda/layernorm.h).
#pragma once

#include "autograd/dtype.h"

namespace bertlab::cpu {

void layernorm_forward(DType t, void* out, void* mean, void* rstd, const void* x, const void* w,
                       const void* b, int64_t N, int64_t C, double eps);
void layernorm_backward(DType t, void* dx, void* dw, void* db, const void* dy, const void* x,
                        const void* w, const void* mean, const void* rstd, int64_t N, int64_t C);

}  // namespace bertlab::cpu
