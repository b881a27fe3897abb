// ops/cpu/embedding.cpp — embedding lookup (a gather of rows) and its backward (a
// scatter-add of rows), side by side.
//
// The backward must not race when two positions hold the same id. Each thread owns a range
// of vocabulary rows and walks all ids, adding only those in its range; every row of dweight
// then sums its contributions in increasing position, so the result is bitwise the same for
// any thread count. (n is a batch of tokens, a few thousand: walking it once per thread is
// cheap next to the n*C additions.)
#include "ops/cpu/embedding.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "autograd/dispatch.h"

namespace bertlab::cpu {

static constexpr int64_t kParallelMin = 1 << 14;  // elements

// out is (n,C), ids is (n), weight is (V,C)
template <typename T>
static void embedding_forward_kernel(T* out, const int64_t* ids, const T* weight, int64_t n, int64_t C) {
#pragma omp parallel for schedule(static) if (n > 1 && n * C >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) std::memcpy(out + i * C, weight + ids[i] * C, C * sizeof(T));
}

// dweight is (V,C), ids is (n), dout is (n,C)
template <typename T>
static void embedding_backward_kernel(T* dweight, const int64_t* ids, const T* dout, int64_t n, int64_t V,
                                      int64_t C) {
  std::fill(dweight, dweight + V * C, (T)0);
#pragma omp parallel if (V > 1 && n * C >= kParallelMin)
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t v0 = V * t / nt, v1 = V * (t + 1) / nt;  // this thread's rows of dweight
    for (int64_t i = 0; i < n; ++i) {
      const int64_t v = ids[i];
      if (v < v0 || v >= v1) continue;
      T* d = dweight + v * C;
      const T* g = dout + i * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) d[c] += g[c];
    }
  }
}

void embedding_forward(DType t, void* out, const int64_t* ids, const void* weight, int64_t n, int64_t V,
                       int64_t C) {
  dispatch_float(t, "embedding", [&](auto tag) {
    using T = decltype(tag);
    embedding_forward_kernel<T>(static_cast<T*>(out), ids, static_cast<const T*>(weight), n, C);
  });
}

void embedding_backward(DType t, void* dweight, const int64_t* ids, const void* dout, int64_t n, int64_t V,
                        int64_t C) {
  dispatch_float(t, "embedding backward", [&](auto tag) {
    using T = decltype(tag);
    embedding_backward_kernel<T>(static_cast<T*>(dweight), ids, static_cast<const T*>(dout), n, V, C);
  });
}

}  // namespace bertlab::cpu
