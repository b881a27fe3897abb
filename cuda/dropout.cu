// cuda/dropout.cu — dropout with inverted scaling, the mask drawn from Philox counters.
//
// Element i is kept iff dropout_keep(seed, offset, i, p) (cuda/dropout.h), the very function
// the CPU kernel calls, so both devices draw the same mask; no mask is stored, and the
// backward is this kernel again on dy with the same (seed, offset).
#include "autograd/dispatch.h"
#include "cuda/common.cuh"
#include "cuda/dropout.h"

namespace bertlab::cuda {

// y[i] = keep(i) ? x[i] * scale : 0, scale = 1 / (1 - p) (0 when p == 1); y, x are (n), dense
template <typename T>
__global__ void dropout_kernel(T* y, const T* x, int64_t n, float p, T scale, uint64_t seed, uint64_t offset) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    y[i] = dropout_keep(seed, offset, (uint64_t)i, p) ? x[i] * scale : (T)0;
}

void dropout_apply(DType t, void* y, const void* x, int64_t n, double p, uint64_t seed, uint64_t offset) {
  if (n == 0) return;
  dispatch_float(t, "dropout", [&](auto tag) {
    using T = decltype(tag);
    const T scale = p >= 1.0 ? (T)0 : (T)(1.0 / (1.0 - p));
    dropout_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(static_cast<T*>(y), static_cast<const T*>(x), n,
                                                               (float)p, scale, seed, offset);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace bertlab::cuda
