// ops/dropout.h — dropout with inverted scaling (Srivastava et al., JMLR 2014), seeded.
#pragma once

#include "autograd/tensor.h"

namespace bertlab {

// x is any shape; y has x's shape. In training, with offset = gen.advance(numel):
//   keep_i = philox::uniformf(gen.seed, offset + i) > p          (cuda/dropout.h)
//   y_i = keep_i ? x_i / (1 - p) : 0,        dx_i = keep_i ? dy_i / (1 - p) : 0
// so E[y] = x. The mask is a pure function of (seed, offset, i): the backward regenerates it
// and the CUDA kernel draws the identical one. p must lie in [0, 1] (p == 1 zeroes all).
// With train == false, or p == 0, returns x itself (the identity, history included).
Tensor dropout(const Tensor& x, double p, bool train, Generator& gen);
// The same with default_generator().
Tensor dropout(const Tensor& x, double p, bool train = true);

}  // namespace bertlab
