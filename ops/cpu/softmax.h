// ops/cpu/softmax.h — CPU softmax / log-softmax over the last axis (same signatures and
// formulas as cuda/softmax.h).
#pragma once

#include "autograd/dtype.h"

namespace bertlab::cpu {

void softmax_forward(DType t, void* y, const void* x, int64_t N, int64_t C, bool log);
void softmax_backward(DType t, void* dx, const void* dy, const void* y, int64_t N, int64_t C, bool log);

}  // namespace bertlab::cpu
