// ops/cpu/dropout.cpp — dropout with inverted scaling; the mask comes from Philox counters
// (cuda/dropout.h: dropout_keep, four elements per Philox call), so forward and backward regenerate the same mask and no
// mask is stored. The same kernel serves both: dx = mask * dy / (1 - p).
#include "ops/cpu/dropout.h"

#include <algorithm>

#include "autograd/dispatch.h"

namespace bertlab::cpu {

static constexpr int64_t kParallelMin = 1 << 13;  // elements (ten Philox rounds each)

// y is (n), x is (n)
template <typename T>
static void dropout_kernel(T* y, const T* x, int64_t n, double p, uint64_t seed, uint64_t offset) {
  const float pf = (float)p;
  const T scale = p >= 1.0 ? (T)0 : (T)(1.0 / (1.0 - p));
  // one Philox call per four elements (dropout_keep's word i % 4 of counter offset + i / 4)
  const int64_t groups = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t g = 0; g < groups; ++g) {
    const philox::U4 r = philox::philox4x32(offset + (uint64_t)g, seed);
    const uint32_t w[4] = {r.x, r.y, r.z, r.w};
    const int64_t i0 = 4 * g, k = std::min<int64_t>(4, n - i0);
    for (int64_t j = 0; j < k; ++j) y[i0 + j] = dropout_keep_word(w[j], pf) ? x[i0 + j] * scale : (T)0;
  }
}

void dropout_apply(DType t, void* y, const void* x, int64_t n, double p, uint64_t seed, uint64_t offset) {
  dispatch_float(t, "dropout", [&](auto tag) {
    using T = decltype(tag);
    dropout_kernel<T>(static_cast<T*>(y), static_cast<const T*>(x), n, p, seed, offset);
  });
}

}  // namespace bertlab::cpu
