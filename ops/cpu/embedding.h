// ops/cpu/embedding.h — CPU embedding lookup and backward (same signatures and formulas as
// cuda/embedding.h).
#pragma once

#include "autograd/dtype.h"

namespace bertlab::cpu {

void embedding_forward(DType t, void* out, const int64_t* ids, const void* weight, int64_t n,
                       int64_t V, int64_t C);
void embedding_backward(DType t, void* dweight, const int64_t* ids, const void* dout, int64_t n,
                        int64_t V, int64_t C);

}  // namespace bertlab::cpu
