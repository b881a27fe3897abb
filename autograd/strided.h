// autograd/strided.h — walking strided and broadcast tensors on the CPU.
//
// strided_rows<N>(shape, layouts, f) visits every element of `shape` in row-major order for
// N operands that each have their own strides (0 where an operand is broadcast). It first
// merges dimensions that are contiguous for every operand, so a dense tensor becomes one
// long row, then hands f one row at a time:
//
//   f(offsets, n, steps)   // offsets[k]: element offset of operand k at the row's start;
//                          // steps[k]: its stride along the row; n: the row's length
//
// Rows are split across OpenMP threads when there is enough work.
#pragma once

#include <array>
#include <cstdint>

#include "autograd/dtype.h"

namespace bertlab {

template <int N>
struct StridedPlan {
  int ndim = 0;
  int64_t shape[kMaxDims];
  int64_t strides[N][kMaxDims];
};

template <int N>
StridedPlan<N> plan_strided(const Shape& shape, const std::array<const Shape*, N>& strides) {
  StridedPlan<N> p;
  // drop size-1 dims, then merge neighbours that are contiguous for every operand
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (p.ndim > 0) {
      bool merge = true;
      for (int k = 0; k < N; ++k)
        if ((*strides[k])[d] * shape[d] != p.strides[k][p.ndim - 1]) merge = false;
      if (merge) {
        p.shape[p.ndim - 1] *= shape[d];
        for (int k = 0; k < N; ++k) p.strides[k][p.ndim - 1] = (*strides[k])[d];
        continue;
      }
    }
    p.shape[p.ndim] = shape[d];
    for (int k = 0; k < N; ++k) p.strides[k][p.ndim] = (*strides[k])[d];
    ++p.ndim;
  }
  return p;
}

template <int N, typename F>
void strided_rows(const Shape& shape, const std::array<const Shape*, N>& strides,
                  const std::array<int64_t, N>& base, F&& f) {
  StridedPlan<N> p = plan_strided<N>(shape, strides);
  for (int64_t s : shape)
    if (s == 0) return;
  if (p.ndim == 0) {
    std::array<int64_t, N> step{};
    f(base, int64_t(1), step);
    return;
  }
  const int inner = p.ndim - 1;
  const int64_t n = p.shape[inner];
  std::array<int64_t, N> step;
  for (int k = 0; k < N; ++k) step[k] = p.strides[k][inner];
  int64_t rows = 1;
  for (int d = 0; d < inner; ++d) rows *= p.shape[d];
  const bool parallel = rows > 1 && rows * n >= 32768;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t r = 0; r < rows; ++r) {
    std::array<int64_t, N> off = base;
    int64_t rem = r;
    for (int d = inner - 1; d >= 0; --d) {
      int64_t i = rem % p.shape[d];
      rem /= p.shape[d];
      for (int k = 0; k < N; ++k) off[k] += i * p.strides[k][d];
    }
    f(off, n, step);
  }
}

}  // namespace bertlab
