// cuda/softmax.h — launchers for the fused softmax / log-softmax kernels over the last axis
// (cuda/softmax.cu); same signatures as ops/cpu/softmax.h.
//
// Rows are independent; each subtracts its maximum before exponentiating, so no exp()
// overflows (the "safe softmax" every library uses).
#pragma once

#include "autograd/dtype.h"

namespace bertlab::cuda {

// y is (N,C), x is (N,C), both dense. For each row:
//   softmax:     y = exp(x - max) / sum(exp(x - max))
//   log_softmax: y = (x - max) - log(sum(exp(x - max)))
void softmax_forward(DType t, void* y, const void* x, int64_t N, int64_t C, bool log);
// dx, dy, y are (N,C), dense; y is the forward's output. For each row:
//   softmax:     dx = y * (dy - sum(dy * y))
//   log_softmax: dx = dy - exp(y) * sum(dy)
void softmax_backward(DType t, void* dx, const void* dy, const void* y, int64_t N, int64_t C, bool log);

}  // namespace bertlab::cuda
