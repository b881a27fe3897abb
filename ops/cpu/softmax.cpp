// ops/cpu/softmax.cpp — softmax and log-softmax over the last axis of an (N,C) block, forward
// and backward side by side. One row per loop iteration, rows split across OpenMP threads;
// each row is read twice (max, then exp and sum) and written once. Sums accumulate in double.
#include "ops/cpu/softmax.h"

#include <cmath>
#include <limits>

#include "autograd/dispatch.h"
#include "ops/cpu/vec_math.h"

namespace bertlab::cpu {

static constexpr int64_t kParallelMin = 1 << 14;  // elements; below this one thread is faster

// y is (N,C), x is (N,C)
template <typename T>
static void softmax_forward_kernel(T* y, const T* x, int64_t N, int64_t C, bool log) {
#pragma omp parallel for schedule(static) if (N > 1 && N * C >= kParallelMin)
  for (int64_t n = 0; n < N; ++n) {
    const T* xr = x + n * C;
    T* yr = y + n * C;
    T mx = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : mx)
    for (int64_t c = 0; c < C; ++c) mx = xr[c] > mx ? xr[c] : mx;
    double s = 0;
    if (log) {
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < C; ++c) s += (double)vexp(xr[c] - mx);
      const T ls = (T)std::log(s);
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) yr[c] = (xr[c] - mx) - ls;
    } else {
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < C; ++c) {
        T e = vexp(xr[c] - mx);
        yr[c] = e;
        s += (double)e;
      }
      const T inv = (T)(1.0 / s);
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) yr[c] *= inv;
    }
  }
}

// dx is (N,C), dy is (N,C), y is (N,C) (the forward's output)
template <typename T>
static void softmax_backward_kernel(T* dx, const T* dy, const T* y, int64_t N, int64_t C, bool log) {
#pragma omp parallel for schedule(static) if (N > 1 && N * C >= kParallelMin)
  for (int64_t n = 0; n < N; ++n) {
    const T* g = dy + n * C;
    const T* yr = y + n * C;
    T* d = dx + n * C;
    double s = 0;
    if (log) {
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < C; ++c) s += g[c];
      const T st = (T)s;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) d[c] = g[c] - vexp(yr[c]) * st;  // dy - exp(y) sum(dy)
    } else {
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < C; ++c) s += (double)g[c] * yr[c];
      const T st = (T)s;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) d[c] = yr[c] * (g[c] - st);  // y (dy - sum(dy y))
    }
  }
}

void softmax_forward(DType t, void* y, const void* x, int64_t N, int64_t C, bool log) {
  dispatch_float(t, log ? "log_softmax" : "softmax", [&](auto tag) {
    using T = decltype(tag);
    softmax_forward_kernel<T>(static_cast<T*>(y), static_cast<const T*>(x), N, C, log);
  });
}

void softmax_backward(DType t, void* dx, const void* dy, const void* y, int64_t N, int64_t C, bool log) {
  dispatch_float(t, log ? "log_softmax backward" : "softmax backward", [&](auto tag) {
    using T = decltype(tag);
    softmax_backward_kernel<T>(static_cast<T*>(dx), static_cast<const T*>(dy), static_cast<const T*>(y), N, C, log);
  });
}

}  // namespace bertlab::cpu
