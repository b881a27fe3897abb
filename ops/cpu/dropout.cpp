// ops/cpu/dropout.cpp — dropout with inverted scaling; the mask comes from Philox counters
// (cuda/dropout.h: dropout_keep), so forward and backward regenerate the same mask and no
// mask is stored. The same kernel serves both: dx = mask * dy / (1 - p).
#include "ops/cpu/dropout.h"

#include "autograd/dispatch.h"

namespace bertlab::cpu {

static constexpr int64_t kParallelMin = 1 << 13;  // elements (ten Philox rounds each)

// y is (n), x is (n)
template <typename T>
static void dropout_kernel(T* y, const T* x, int64_t n, double p, uint64_t seed, uint64_t offset) {
  const float pf = (float)p;
  const T scale = p >= 1.0 ? (T)0 : (T)(1.0 / (1.0 - p));
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = dropout_keep(seed, offset + (uint64_t)i, pf) ? x[i] * scale : (T)0;
}

void dropout_apply(DType t, void* y, const void* x, int64_t n, double p, uint64_t seed, uint64_t offset) {
  dispatch_float(t, "dropout", [&](auto tag) {
    using T = decltype(tag);
    dropout_kernel<T>(static_cast<T*>(y), static_cast<const T*>(x), n, p, seed, offset);
  });
}

}  // namespace bertlab::cpu
