// cuda/dropout.h — the dropout mask and the launcher that applies it (cuda/dropout.cu);
// same signature as ops/cpu/dropout.h.
//
// Srivastava et al., "Dropout" (JMLR 2014), with inverted scaling: kept values are divided
// by (1 - p) in training, so evaluation is the identity. The mask is never stored: one Philox
// call gives four 32-bit words, and element i uses word i % 4 of counter offset + i / 4, so
// the backward regenerates the mask from (seed, offset), and the CPU and the GPU draw the
// identical mask. A draw of n elements reserves dropout_counters(n) = ceil(n / 4) counters.
#pragma once

#include <cstdint>

#include "autograd/dtype.h"
#include "cuda/philox.h"

namespace bertlab {

BERTLAB_HD uint64_t dropout_counters(uint64_t n) { return (n + 3) / 4; }

// The keep test for one word of a Philox draw: uniform in (0, 1] against p (as float).
BERTLAB_HD bool dropout_keep_word(uint32_t word, float p) { return philox::u01(word) > p; }

// The keep test for element i of a draw that starts at counter `offset`, shared by both
// devices.
BERTLAB_HD bool dropout_keep(uint64_t seed, uint64_t offset, uint64_t i, float p) {
  philox::U4 r = philox::philox4x32(offset + i / 4, seed);
  const uint32_t w = (i % 4 == 0) ? r.x : (i % 4 == 1) ? r.y : (i % 4 == 2) ? r.z : r.w;
  return dropout_keep_word(w, p);
}

}  // namespace bertlab

namespace bertlab::cuda {

// y and x are (n), dense. y[i] = dropout_keep(seed, offset, i, (float)p) ? x[i] / (1 - p) : 0
// (0 everywhere when p == 1). The backward is the same call with dy for x: dx = mask * dy / (1 - p).
void dropout_apply(DType t, void* y, const void* x, int64_t n, double p, uint64_t seed,
                   uint64_t offset);

}  // namespace bertlab::cuda
