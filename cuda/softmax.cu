// cuda/softmax.cu — softmax and log-softmax over the last axis of an (N,C) block, forward and
// backward side by side.
//
// One row group (a warp for rows up to 1024 wide, else a block; cuda/common.cuh) owns a row:
// it finds the row's maximum, sums exp(x - max), and writes the row, reading it from memory
// twice and writing it once (llm.c's softmax_forward_kernel has the same shape). The
// arithmetic is the CPU's (ops/cpu/softmax.cpp) step for step: exp in the element type,
// sums accumulated in double, so the two devices differ only in the last bits of exp/log
// and in the order of the double additions.
#include <limits>

#include "autograd/dispatch.h"
#include "cuda/common.cuh"
#include "cuda/softmax.h"

namespace bertlab::cuda {

// y is (N,C), x is (N,C); one row per row group G.
//   softmax:     y = exp(x - max) / sum(exp(x - max))
//   log_softmax: y = (x - max) - log(sum(exp(x - max)))
template <typename G, typename T>
__global__ void softmax_forward_kernel(T* y, const T* x, int64_t N, int64_t C, bool log) {
  G g;
  const int64_t n = g.row();
  if (n >= N) return;  // the whole group leaves together
  const T* xr = x + n * C;
  T* yr = y + n * C;
  T mx = -std::numeric_limits<T>::infinity();
  for (int64_t c = g.lane(); c < C; c += g.size()) mx = xr[c] > mx ? xr[c] : mx;
  mx = g.max(mx);
  double s = 0;
  for (int64_t c = g.lane(); c < C; c += g.size()) s += (double)std::exp(xr[c] - mx);
  s = g.sum(s);
  if (log) {
    const T ls = (T)std::log(s);
    for (int64_t c = g.lane(); c < C; c += g.size()) yr[c] = (xr[c] - mx) - ls;
  } else {
    const T inv = (T)(1.0 / s);
    for (int64_t c = g.lane(); c < C; c += g.size()) yr[c] = std::exp(xr[c] - mx) * inv;
  }
}

// dx, dy, y are (N,C); y is the forward's output. One row per row group G.
//   softmax:     dx = y * (dy - sum(dy * y))
//   log_softmax: dx = dy - exp(y) * sum(dy)
template <typename G, typename T>
__global__ void softmax_backward_kernel(T* dx, const T* dy, const T* y, int64_t N, int64_t C, bool log) {
  G g;
  const int64_t n = g.row();
  if (n >= N) return;
  const T* dyr = dy + n * C;
  const T* yr = y + n * C;
  T* dxr = dx + n * C;
  double s = 0;
  if (log) {
    for (int64_t c = g.lane(); c < C; c += g.size()) s += (double)dyr[c];
  } else {
    for (int64_t c = g.lane(); c < C; c += g.size()) s += (double)dyr[c] * yr[c];
  }
  const T st = (T)g.sum(s);
  if (log) {
    for (int64_t c = g.lane(); c < C; c += g.size()) dxr[c] = dyr[c] - std::exp(yr[c]) * st;
  } else {
    for (int64_t c = g.lane(); c < C; c += g.size()) dxr[c] = yr[c] * (dyr[c] - st);
  }
}

void softmax_forward(DType t, void* y, const void* x, int64_t N, int64_t C, bool log) {
  if (N == 0 || C == 0) return;
  dispatch_float(t, log ? "log_softmax" : "softmax", [&](auto tag) {
    using T = decltype(tag);
    launch_rows(N, C, [&](auto group, dim3 grid, dim3 block) {
      softmax_forward_kernel<decltype(group), T>
          <<<grid, block, 0, stream()>>>(static_cast<T*>(y), static_cast<const T*>(x), N, C, log);
    });
    CUDA_CHECK_LAUNCH();
  });
}

void softmax_backward(DType t, void* dx, const void* dy, const void* y, int64_t N, int64_t C, bool log) {
  if (N == 0 || C == 0) return;
  dispatch_float(t, log ? "log_softmax backward" : "softmax backward", [&](auto tag) {
    using T = decltype(tag);
    launch_rows(N, C, [&](auto group, dim3 grid, dim3 block) {
      softmax_backward_kernel<decltype(group), T><<<grid, block, 0, stream()>>>(
          static_cast<T*>(dx), static_cast<const T*>(dy), static_cast<const T*>(y), N, C, log);
    });
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace bertlab::cuda
