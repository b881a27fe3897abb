// cuda/dropout.h — the dropout mask and the launcher that applies it (cuda/dropout.cu);
// same signature as ops/cpu/dropout.h.
//
// Srivastava et al., "Dropout" (JMLR 2014), with inverted scaling: kept values are divided
// by (1 - p) in training, so evaluation is the identity. The mask is never stored: element i
// is kept iff a Philox draw for counter (offset + i) exceeds p, so the backward regenerates
// it from (seed, offset), and the CPU and the GPU draw the identical mask.
#pragma once

#include <cstdint>

#include "autograd/dtype.h"
#include "cuda/philox.h"

namespace bertlab {

// The keep test, shared by both devices: uniform in (0, 1] against p (as float).
BERTLAB_HD bool dropout_keep(uint64_t seed, uint64_t counter, float p) {
  return philox::uniformf(seed, counter) > p;
}

}  // namespace bertlab

namespace bertlab::cuda {

// y and x are (n), dense. y[i] = dropout_keep(seed, offset + i, (float)p) ? x[i] / (1 - p) : 0
// (0 everywhere when p == 1). The backward is the same call with dy for x: dx = mask * dy / (1 - p).
void dropout_apply(DType t, void* y, const void* x, int64_t n, double p, uint64_t seed,
                   uint64_t offset);

}  // namespace bertlab::cuda
