// cuda/layernorm.cu — LayerNorm over the last axis of an (N,C) block, forward and backward
// side by side, after llm.c's layernorm_forward / layernorm_backward.
//
// Ba, Kiros, Hinton, "Layer Normalization" (2016). The forward keeps only mean and rstd per
// row. The backward splits in two, as the work does:
//   dx      per row: a row group (cuda/common.cuh) computes the row's two means and writes dx;
//   dw, db  per column, summed over rows: 32 x 8 blocks over 32 columns each, rows cut into
//           `splits` chunks; each block writes partial sums (splits, C) and a second kernel
//           adds the partials in chunk order. No atomics, so the result is the same run to
//           run (llm.c uses atomics here; we keep the order fixed like the CPU does).
// The arithmetic follows the CPU kernels (ops/cpu/layernorm.cpp) step for step: statistics
// and the parameter sums accumulate in double, the per-element work is in the element type.
#include <algorithm>
#include <cmath>

#include "autograd/dispatch.h"
#include "cuda/common.cuh"
#include "cuda/layernorm.h"

namespace bertlab::cuda {

// out is (N,C), mean and rstd are (N), x is (N,C), w and b are (C) or null (1 and 0).
//   mean = sum(x) / C,  rstd = 1 / sqrt(sum((x - mean)^2) / C + eps)
//   out  = (x - mean) * rstd * w + b
template <typename G, typename T>
__global__ void layernorm_forward_kernel(T* out, T* mean, T* rstd, const T* x, const T* w, const T* b,
                                         int64_t N, int64_t C, double eps) {
  G g;
  const int64_t n = g.row();
  if (n >= N) return;
  const T* xr = x + n * C;
  T* o = out + n * C;
  double m = 0;
  for (int64_t c = g.lane(); c < C; c += g.size()) m += xr[c];
  m = g.sum(m) / (double)C;
  double v = 0;
  for (int64_t c = g.lane(); c < C; c += g.size()) {
    const double d = xr[c] - m;
    v += d * d;
  }
  v = g.sum(v) / (double)C;
  const T mt = (T)m, rs = (T)(1.0 / sqrt(v + eps));
  for (int64_t c = g.lane(); c < C; c += g.size()) {
    const T norm = (xr[c] - mt) * rs;
    o[c] = norm * (w ? w[c] : (T)1) + (b ? b[c] : (T)0);
  }
  if (g.lane() == 0) {
    mean[n] = mt;
    rstd[n] = rs;
  }
}

// dx is (N,C), dy and x are (N,C), w is (C) or null, mean and rstd are (N).
// With norm = (x - mean) * rstd and wg = w * dy:
//   dx = (wg - mean_c(wg) - norm * mean_c(wg * norm)) * rstd
template <typename G, typename T>
__global__ void layernorm_backward_dx_kernel(T* dx, const T* dy, const T* x, const T* w, const T* mean,
                                             const T* rstd, int64_t N, int64_t C) {
  G g;
  const int64_t n = g.row();
  if (n >= N) return;
  const T* dyr = dy + n * C;
  const T* xr = x + n * C;
  T* d = dx + n * C;
  const T m = mean[n], rs = rstd[n];
  double gm = 0, gnm = 0;  // sum(wg), sum(wg * norm)
  for (int64_t c = g.lane(); c < C; c += g.size()) {
    const T norm = (xr[c] - m) * rs;
    const T wg = (w ? w[c] : (T)1) * dyr[c];
    gm += wg;
    gnm += (double)wg * norm;
  }
  gm = g.sum(gm);
  gnm = g.sum(gnm);
  const T gmt = (T)(gm / (double)C), gnmt = (T)(gnm / (double)C);
  for (int64_t c = g.lane(); c < C; c += g.size()) {
    const T norm = (xr[c] - m) * rs;
    const T wg = (w ? w[c] : (T)1) * dyr[c];
    d[c] = (wg - gmt - norm * gnmt) * rs;
  }
}

// Partial parameter gradients of one chunk of rows:
//   pdw[s, c] = sum over rows n of chunk s of dy[n, c] * norm[n, c],   pdb[s, c] = sum of dy[n, c]
// pdw and pdb are (splits, C) doubles; dy and x are (N,C); mean and rstd are (N).
// Block (32, 8) covers 32 columns: threadIdx.y walks the chunk's rows 8 apart, and the 8
// partial sums of a column are added in shared memory in a fixed order.
constexpr int kColsX = 32, kColsY = 8;
template <typename T>
__global__ void layernorm_backward_params_kernel(double* pdw, double* pdb, const T* dy, const T* x, const T* mean,
                                                 const T* rstd, int64_t N, int64_t C, int64_t chunk) {
  __shared__ double sw[kColsY][kColsX], sb[kColsY][kColsX];
  const int64_t c = blockIdx.x * (int64_t)kColsX + threadIdx.x;
  const int64_t s = blockIdx.y, n0 = s * chunk, n1 = min(N, n0 + chunk);
  double aw = 0, ab = 0;
  if (c < C)
    for (int64_t n = n0 + threadIdx.y; n < n1; n += kColsY) {
      const T norm = (x[n * C + c] - mean[n]) * rstd[n];
      const T gy = dy[n * C + c];
      aw += (double)gy * norm;
      ab += gy;
    }
  sw[threadIdx.y][threadIdx.x] = aw;
  sb[threadIdx.y][threadIdx.x] = ab;
  __syncthreads();
  if (threadIdx.y == 0 && c < C) {
    double tw = 0, tb = 0;
    for (int k = 0; k < kColsY; ++k) {
      tw += sw[k][threadIdx.x];
      tb += sb[k][threadIdx.x];
    }
    pdw[s * C + c] = tw;
    pdb[s * C + c] = tb;
  }
}

// dw[c] = sum over s of pdw[s, c], db likewise (in increasing s); dw, db are (C) or null.
template <typename T>
__global__ void layernorm_backward_params_finish_kernel(T* dw, T* db, const double* pdw, const double* pdb,
                                                        int64_t splits, int64_t C) {
  for (int64_t c = first_index(); c < C; c += grid_stride()) {
    double tw = 0, tb = 0;
    for (int64_t s = 0; s < splits; ++s) {
      tw += pdw[s * C + c];
      tb += pdb[s * C + c];
    }
    if (dw) dw[c] = (T)tw;
    if (db) db[c] = (T)tb;
  }
}

void layernorm_forward(DType t, void* out, void* mean, void* rstd, const void* x, const void* w,
                       const void* b, int64_t N, int64_t C, double eps) {
  if (N == 0 || C == 0) return;
  dispatch_float(t, "layer_norm", [&](auto tag) {
    using T = decltype(tag);
    launch_rows(N, C, [&](auto group, dim3 grid, dim3 block) {
      layernorm_forward_kernel<decltype(group), T><<<grid, block, 0, stream()>>>(
          static_cast<T*>(out), static_cast<T*>(mean), static_cast<T*>(rstd), static_cast<const T*>(x),
          static_cast<const T*>(w), static_cast<const T*>(b), N, C, eps);
    });
    CUDA_CHECK_LAUNCH();
  });
}

void layernorm_backward(DType t, void* dx, void* dw, void* db, const void* dy, const void* x,
                        const void* w, const void* mean, const void* rstd, int64_t N, int64_t C) {
  if (C == 0) return;
  dispatch_float(t, "layer_norm backward", [&](auto tag) {
    using T = decltype(tag);
    const T* dyp = static_cast<const T*>(dy);
    const T* xp = static_cast<const T*>(x);
    const T* mp = static_cast<const T*>(mean);
    const T* rp = static_cast<const T*>(rstd);
    if (dx && N > 0) {
      launch_rows(N, C, [&](auto group, dim3 grid, dim3 block) {
        layernorm_backward_dx_kernel<decltype(group), T><<<grid, block, 0, stream()>>>(
            static_cast<T*>(dx), dyp, xp, static_cast<const T*>(w), mp, rp, N, C);
      });
      CUDA_CHECK_LAUNCH();
    }
    if (!dw && !db) return;
    if (N == 0) {  // no rows: the sums are 0
      if (dw) memset_zero(dw, (size_t)C * sizeof(T));
      if (db) memset_zero(db, (size_t)C * sizeof(T));
      return;
    }
    // enough chunks of rows (at least 64 rows each) for about 4 blocks per SM
    const int64_t tiles = (C + kColsX - 1) / kColsX;
    const int64_t splits = std::clamp<int64_t>(4 * (int64_t)num_sms() / tiles, 1, std::min<int64_t>(1024, (N + 63) / 64));
    const int64_t chunk = (N + splits - 1) / splits;
    DeviceBuffer pdw((size_t)(splits * C) * sizeof(double)), pdb((size_t)(splits * C) * sizeof(double));
    layernorm_backward_params_kernel<T><<<dim3((unsigned)tiles, (unsigned)splits), dim3(kColsX, kColsY), 0, stream()>>>(
        pdw.as<double>(), pdb.as<double>(), dyp, xp, mp, rp, N, C, chunk);
    CUDA_CHECK_LAUNCH();
    layernorm_backward_params_finish_kernel<T><<<grid_for(C), kThreads, 0, stream()>>>(
        static_cast<T*>(dw), static_cast<T*>(db), pdw.as<double>(), pdb.as<double>(), splits, C);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace bertlab::cuda
