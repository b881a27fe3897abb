// cuda/dropout.cu — dropout with inverted scaling, the mask drawn from Philox counters.
//
// Element i is kept iff dropout_keep(seed, offset, i, p) (cuda/dropout.h), the very function
// the CPU kernel calls, so both devices draw the same mask; no mask is stored, and the
// backward is this kernel again on dy with the same (seed, offset).
#include "autograd/dispatch.h"
#include "cuda/common.cuh"
#include "cuda/dropout.h"

namespace bertlab::cuda {

// y[i] = keep(i) ? x[i] * scale : 0, scale = 1 / (1 - p) (0 when p == 1); y, x are (n), dense.
// One thread per group of four elements: one Philox call gives the four words that
// dropout_keep would draw for them one at a time (the same mask, a quarter of the work).
// float32 groups move as one 16-byte load and store when x and y are 16-byte aligned.
template <typename T>
__global__ void dropout_kernel(T* y, const T* x, int64_t n, float p, T scale, uint64_t seed, uint64_t offset,
                               bool vec4) {
  const int64_t groups = (n + 3) / 4;
  for (int64_t g = first_index(); g < groups; g += grid_stride()) {
    const philox::U4 r = philox::philox4x32(offset + (uint64_t)g, seed);
    const uint32_t w[4] = {r.x, r.y, r.z, r.w};
    const int64_t i0 = 4 * g;
    if constexpr (sizeof(T) == 4) {
      if (vec4 && i0 + 3 < n) {
        float4 v = reinterpret_cast<const float4*>(x)[g];
        v.x = dropout_keep_word(w[0], p) ? v.x * scale : 0.0f;
        v.y = dropout_keep_word(w[1], p) ? v.y * scale : 0.0f;
        v.z = dropout_keep_word(w[2], p) ? v.z * scale : 0.0f;
        v.w = dropout_keep_word(w[3], p) ? v.w * scale : 0.0f;
        reinterpret_cast<float4*>(y)[g] = v;
        continue;
      }
    }
#pragma unroll
    for (int j = 0; j < 4; ++j)
      if (i0 + j < n) y[i0 + j] = dropout_keep_word(w[j], p) ? x[i0 + j] * scale : (T)0;
  }
}

void dropout_apply(DType t, void* y, const void* x, int64_t n, double p, uint64_t seed, uint64_t offset) {
  if (n == 0) return;
  dispatch_float(t, "dropout", [&](auto tag) {
    using T = decltype(tag);
    const T scale = p >= 1.0 ? (T)0 : (T)(1.0 / (1.0 - p));
    const bool vec4 = sizeof(T) == 4 && reinterpret_cast<uintptr_t>(x) % 16 == 0 && reinterpret_cast<uintptr_t>(y) % 16 == 0;
    dropout_kernel<T><<<grid_for((n + 3) / 4), kThreads, 0, stream()>>>(static_cast<T*>(y), static_cast<const T*>(x), n,
                                                               (float)p, scale, seed, offset, vec4);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace bertlab::cuda
