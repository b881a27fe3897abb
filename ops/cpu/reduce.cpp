// ops/cpu/reduce.cpp — sums and maxima over the middle axis of an (outer, R, inner) block.
//
// Sums accumulate in double whatever the element type, so a float32 sum over millions of
// elements loses no more than rounding the result. inner == 1 is a row reduction (rows in
// parallel); otherwise columns are walked in tiles so that every read is sequential.
#include "ops/cpu/reduce.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "autograd/dispatch.h"

namespace bertlab::cpu {

template <typename T>
static void sum_kernel(int64_t outer, int64_t R, int64_t inner, const T* x, T* y) {
  using Acc = std::conditional_t<std::is_same_v<T, int64_t>, int64_t, double>;
  if (inner == 1) {
    if (outer == 1) {
      Acc s = 0;
#pragma omp parallel for simd reduction(+ : s) schedule(static) if (R >= (1 << 16))
      for (int64_t r = 0; r < R; ++r) s += (Acc)x[r];
      y[0] = (T)s;
      return;
    }
#pragma omp parallel for schedule(static) if (outer * R >= (1 << 15))
    for (int64_t o = 0; o < outer; ++o) {
      const T* row = x + o * R;
      Acc s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t r = 0; r < R; ++r) s += (Acc)row[r];
      y[o] = (T)s;
    }
    return;
  }
  constexpr int64_t kTile = 256;
  const int64_t tiles = (inner + kTile - 1) / kTile;
#pragma omp parallel for schedule(static) if (outer * R * inner >= (1 << 15))
  for (int64_t job = 0; job < outer * tiles; ++job) {
    const int64_t o = job / tiles, i0 = (job % tiles) * kTile, i1 = std::min(inner, i0 + kTile);
    Acc acc[kTile] = {};
    for (int64_t r = 0; r < R; ++r) {
      const T* p = x + (o * R + r) * inner;
#pragma omp simd
      for (int64_t i = i0; i < i1; ++i) acc[i - i0] += (Acc)p[i];
    }
    for (int64_t i = i0; i < i1; ++i) y[o * inner + i] = (T)acc[i - i0];
  }
}

template <typename T>
static void max_kernel(int64_t outer, int64_t R, int64_t inner, const T* x, T* y, int64_t* idx) {
#pragma omp parallel for schedule(static) if (outer * R * inner >= (1 << 15))
  for (int64_t oi = 0; oi < outer * inner; ++oi) {
    const int64_t o = oi / inner, i = oi % inner;
    const T* p = x + o * R * inner + i;
    T best = p[0];
    int64_t arg = 0;
    for (int64_t r = 1; r < R; ++r) {
      T v = p[r * inner];
      if (v > best || (v != v && best == best)) {  // NaN wins, as in PyTorch
        best = v;
        arg = r;
      }
    }
    y[oi] = best;
    if (idx) idx[oi] = arg;
  }
}

void reduce(ReduceOp op, DType t, int64_t outer, int64_t R, int64_t inner, const void* x, void* y,
            int64_t* idx) {
  dispatch_all(t, "reduce", [&](auto tag) {
    using T = decltype(tag);
    if (op == ReduceOp::Sum) sum_kernel<T>(outer, R, inner, static_cast<const T*>(x), static_cast<T*>(y));
    else max_kernel<T>(outer, R, inner, static_cast<const T*>(x), static_cast<T*>(y), idx);
  });
}

void reduce_max_backward(DType t, int64_t outer, int64_t R, int64_t inner, const void* dy,
                         const int64_t* idx, void* dx) {
  dispatch_float(t, "max backward", [&](auto tag) {
    using T = decltype(tag);
    const T* g = static_cast<const T*>(dy);
    T* d = static_cast<T*>(dx);
    for (int64_t oi = 0; oi < outer * inner; ++oi) {
      const int64_t o = oi / inner, i = oi % inner;
      d[(o * R + idx[oi]) * inner + i] = g[oi];
    }
  });
}

}  // namespace bertlab::cpu
