// ops/cpu/layernorm.cpp — LayerNorm over the last axis of an (N,C) block, forward and backward
// side by side, after llm.c's layernorm_forward / layernorm_backward (train_gpt2.c).
//
// The forward keeps only mean and rstd per row. The backward's dx is per row (rows in
// parallel); dw and db sum over rows, so rows are cut into a fixed number of blocks (chosen
// from N alone), each block sums into its own partial row, and the partials are added in
// block order: race-free and bitwise the same for any thread count.
#include "ops/cpu/layernorm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/dispatch.h"

namespace bertlab::cpu {

static constexpr int64_t kParallelMin = 1 << 14;  // elements
static constexpr int64_t kMaxBlocks = 256;        // partial rows of dw / db in the backward

// out is (N,C), mean and rstd are (N), x is (N,C), w and b are (C) or null
template <typename T>
static void layernorm_forward_kernel(T* out, T* mean, T* rstd, const T* x, const T* w, const T* b,
                                     int64_t N, int64_t C, double eps) {
#pragma omp parallel for schedule(static) if (N > 1 && N * C >= kParallelMin)
  for (int64_t n = 0; n < N; ++n) {
    const T* xr = x + n * C;
    T* o = out + n * C;
    double m = 0;
#pragma omp simd reduction(+ : m)
    for (int64_t c = 0; c < C; ++c) m += xr[c];
    m /= (double)C;
    double v = 0;
#pragma omp simd reduction(+ : v)
    for (int64_t c = 0; c < C; ++c) {
      double d = xr[c] - m;
      v += d * d;
    }
    v /= (double)C;
    const T mt = (T)m, rs = (T)(1.0 / std::sqrt(v + eps));
    if (w && b) {  // the usual case, as one vectorised loop
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) o[c] = (xr[c] - mt) * rs * w[c] + b[c];
    } else {
      for (int64_t c = 0; c < C; ++c) {
        T norm = (xr[c] - mt) * rs;
        o[c] = norm * (w ? w[c] : (T)1) + (b ? b[c] : (T)0);
      }
    }
    mean[n] = mt;
    rstd[n] = rs;
  }
}

// dx is (N,C) or null, dw and db are (C) or null, dy and x are (N,C), w is (C) or null,
// mean and rstd are (N)
template <typename T>
static void layernorm_backward_kernel(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w,
                                      const T* mean, const T* rstd, int64_t N, int64_t C) {
  const bool params = dw || db;
  const int64_t blocks = N == 0 ? 0 : std::min(N, kMaxBlocks);
  const int64_t rows_per_block = blocks == 0 ? 0 : (N + blocks - 1) / blocks;
  std::vector<double> pdw(params ? blocks * C : 0), pdb(params ? blocks * C : 0);
#pragma omp parallel for schedule(static) if (blocks > 1 && N * C >= kParallelMin)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    double* bw = params ? pdw.data() + blk * C : nullptr;
    double* bb = params ? pdb.data() + blk * C : nullptr;
    const int64_t n1 = std::min(N, (blk + 1) * rows_per_block);
    for (int64_t n = blk * rows_per_block; n < n1; ++n) {
      const T* g = dy + n * C;
      const T* xr = x + n * C;
      const T m = mean[n], rs = rstd[n];
      // the two row means the dx formula needs: mean(w dy) and mean(w dy norm)
      double gm = 0, gnm = 0;
#pragma omp simd reduction(+ : gm, gnm)
      for (int64_t c = 0; c < C; ++c) {
        const T norm = (xr[c] - m) * rs;
        const T wg = (w ? w[c] : (T)1) * g[c];
        gm += wg;
        gnm += (double)wg * norm;
        if (params) {
          bw[c] += (double)g[c] * norm;
          bb[c] += g[c];
        }
      }
      if (!dx) continue;
      const T gmt = (T)(gm / (double)C), gnmt = (T)(gnm / (double)C);
      T* d = dx + n * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) {
        const T norm = (xr[c] - m) * rs;
        const T wg = (w ? w[c] : (T)1) * g[c];
        d[c] = (wg - gmt - norm * gnmt) * rs;
      }
    }
  }
  if (!params) return;
#pragma omp parallel for schedule(static) if (blocks * C >= kParallelMin)
  for (int64_t c = 0; c < C; ++c) {
    double sw = 0, sb = 0;
    for (int64_t blk = 0; blk < blocks; ++blk) {
      sw += pdw[blk * C + c];
      sb += pdb[blk * C + c];
    }
    if (dw) dw[c] = (T)sw;
    if (db) db[c] = (T)sb;
  }
}

void layernorm_forward(DType t, void* out, void* mean, void* rstd, const void* x, const void* w,
                       const void* b, int64_t N, int64_t C, double eps) {
  dispatch_float(t, "layer_norm", [&](auto tag) {
    using T = decltype(tag);
    layernorm_forward_kernel<T>(static_cast<T*>(out), static_cast<T*>(mean), static_cast<T*>(rstd),
                                static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(b),
                                N, C, eps);
  });
}

void layernorm_backward(DType t, void* dx, void* dw, void* db, const void* dy, const void* x,
                        const void* w, const void* mean, const void* rstd, int64_t N, int64_t C) {
  dispatch_float(t, "layer_norm backward", [&](auto tag) {
    using T = decltype(tag);
    layernorm_backward_kernel<T>(static_cast<T*>(dx), static_cast<T*>(dw), static_cast<T*>(db),
                                 static_cast<const T*>(dy), static_cast<const T*>(x), static_cast<const T*>(w),
                                 static_cast<const T*>(mean), static_cast<const T*>(rstd), N, C);
  });
}

}  // namespace bertlab::cpu
