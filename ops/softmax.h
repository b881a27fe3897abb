// ops/softmax.h — softmax and log-softmax along one dimension, numerically stable.
//
// Each slice along `dim` has its maximum subtracted before exponentiating, so large logits
// never overflow. The fused kernels work on the last dimension; another `dim` is moved last
// with a transposed copy and moved back.
#pragma once

#include "autograd/tensor.h"

namespace bertlab {

// x is (..., C, ...) with C along dim; y has x's shape.
//   y = exp(x - max) / sum(exp(x - max))            dx = y * (dy - sum(dy * y))
Tensor softmax(const Tensor& x, int64_t dim = -1);
//   y = (x - max) - log(sum(exp(x - max)))          dx = dy - exp(y) * sum(dy)
Tensor log_softmax(const Tensor& x, int64_t dim = -1);

}  // namespace bertlab
