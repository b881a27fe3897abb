// ops/cpu/index.cpp — indexing kernels on the CPU: the index check, index_select and gather
// (forward gather, backward scatter-add, side by side), and where.
//
// The scatter-adds are deterministic without atomics: work is split so that every
// destination element is owned by one iteration, which sums its contributions in increasing
// index position (index_select: tiles of the inner axis; gather: columns of the index).
#include "ops/cpu/index.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "autograd/dispatch.h"
#include "autograd/strided.h"

namespace bertlab::cpu {

static constexpr int64_t kParallelMin = 1 << 14;  // elements

int64_t first_bad_index(const int64_t* idx, int64_t n, int64_t bound, bool skip_ignore, int64_t ignore) {
  int64_t first = n;
#pragma omp parallel for reduction(min : first) schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = idx[i];
    if ((v < 0 || v >= bound) && !(skip_ignore && v == ignore)) first = std::min(first, i);
  }
  return first == n ? -1 : first;
}

// ---------------------------------------------------------------------------------------
// index_select: x (outer, D, inner) -> out (outer, n, inner)

void index_select_forward(DType t, void* out, const void* x, const int64_t* index, int64_t outer, int64_t D,
                          int64_t n, int64_t inner) {
  const size_t row = (size_t)inner * dtype_size(t);  // bytes per selected slice: a plain copy
  char* o = static_cast<char*>(out);
  const char* xp = static_cast<const char*>(x);
#pragma omp parallel for schedule(static) if (outer * n > 1 && outer * n * inner >= kParallelMin)
  for (int64_t oj = 0; oj < outer * n; ++oj) {
    const int64_t b = oj / n, j = oj % n;
    std::memcpy(o + oj * row, xp + (b * D + index[j]) * row, row);
  }
}

// dx is (outer, D, inner), dout is (outer, n, inner), index is (n)
template <typename T>
static void index_select_backward_kernel(T* dx, const T* dout, const int64_t* index, int64_t outer, int64_t D,
                                         int64_t n, int64_t inner) {
  std::fill(dx, dx + outer * D * inner, (T)0);
  constexpr int64_t kTile = 512;
  const int64_t tiles = (inner + kTile - 1) / kTile;
#pragma omp parallel for schedule(static) if (outer * tiles > 1 && outer * n * inner >= kParallelMin)
  for (int64_t job = 0; job < outer * tiles; ++job) {
    const int64_t b = job / tiles, i0 = (job % tiles) * kTile, i1 = std::min(inner, i0 + kTile);
    for (int64_t j = 0; j < n; ++j) {
      T* d = dx + (b * D + index[j]) * inner;
      const T* g = dout + (b * n + j) * inner;
#pragma omp simd
      for (int64_t i = i0; i < i1; ++i) d[i] += g[i];
    }
  }
}

void index_select_backward(DType t, void* dx, const void* dout, const int64_t* index, int64_t outer, int64_t D,
                           int64_t n, int64_t inner) {
  dispatch_float(t, "index_select backward", [&](auto tag) {
    using T = decltype(tag);
    index_select_backward_kernel<T>(static_cast<T*>(dx), static_cast<const T*>(dout), index, outer, D, n, inner);
  });
}

// ---------------------------------------------------------------------------------------
// gather: the index (and out) seen as (outer, n, inner) around `dim`; one column (o, i) walks
// the n entries along dim.

struct GatherShape {
  int64_t outer = 1, n = 1, inner = 1;
};
static GatherShape gather_shape(const Layout& li, int dim) {
  GatherShape s;
  for (int d = 0; d < dim; ++d) s.outer *= li.shape[d];
  s.n = li.shape[dim];
  for (int d = dim + 1; d < li.ndim; ++d) s.inner *= li.shape[d];
  return s;
}

// offset in x of column (o, i) at position 0 along dim
static int64_t column_offset(const Layout& li, const Layout& lx, int dim, int64_t o, int64_t i) {
  int64_t off = 0;
  for (int d = li.ndim - 1; d > dim; --d) {
    off += (i % li.shape[d]) * lx.strides[d];
    i /= li.shape[d];
  }
  for (int d = dim - 1; d >= 0; --d) {
    off += (o % li.shape[d]) * lx.strides[d];
    o /= li.shape[d];
  }
  return off;
}

void gather_forward(DType t, void* out, const void* x, const Layout& lx, const int64_t* index, const Layout& li,
                    int dim) {
  dispatch_all(t, "gather", [&](auto tag) {
    using T = decltype(tag);
    T* o = static_cast<T*>(out);
    const T* xp = static_cast<const T*>(x);
    const GatherShape s = gather_shape(li, dim);
    const int64_t step = lx.strides[dim];
#pragma omp parallel for schedule(static) if (s.outer * s.inner > 1 && s.outer * s.n * s.inner >= kParallelMin)
    for (int64_t col = 0; col < s.outer * s.inner; ++col) {
      const int64_t b = col / s.inner, i = col % s.inner;
      const int64_t base = column_offset(li, lx, dim, b, i);
      for (int64_t j = 0; j < s.n; ++j) {
        const int64_t p = (b * s.n + j) * s.inner + i;
        o[p] = xp[base + index[p] * step];
      }
    }
  });
}

void gather_backward(DType t, void* dx, const Layout& lx, const void* dout, const int64_t* index, const Layout& li,
                     int dim) {
  dispatch_float(t, "gather backward", [&](auto tag) {
    using T = decltype(tag);
    T* d = static_cast<T*>(dx);
    const T* g = static_cast<const T*>(dout);
    const GatherShape s = gather_shape(li, dim);
    const int64_t step = lx.strides[dim];
    // distinct columns land on distinct elements of dx (they differ outside dim): no races
#pragma omp parallel for schedule(static) if (s.outer * s.inner > 1 && s.outer * s.n * s.inner >= kParallelMin)
    for (int64_t col = 0; col < s.outer * s.inner; ++col) {
      const int64_t b = col / s.inner, i = col % s.inner;
      const int64_t base = column_offset(li, lx, dim, b, i);
      for (int64_t j = 0; j < s.n; ++j) {
        const int64_t p = (b * s.n + j) * s.inner + i;
        d[base + index[p] * step] += g[p];
      }
    }
  });
}

// ---------------------------------------------------------------------------------------
// where

void where(DType t, const Layout& ly, void* y, const void* cond, const Layout& lc, const void* a, const Layout& la,
           const void* b, const Layout& lb) {
  dispatch_all(t, "where", [&](auto tag) {
    using T = decltype(tag);
    T* yp = static_cast<T*>(y);
    const T* cp = static_cast<const T*>(cond);
    const T* ap = static_cast<const T*>(a);
    const T* bp = static_cast<const T*>(b);
    Shape shape(ly.shape, ly.shape + ly.ndim), sy(ly.strides, ly.strides + ly.ndim),
        sc(lc.strides, lc.strides + lc.ndim), sa(la.strides, la.strides + la.ndim), sb(lb.strides, lb.strides + lb.ndim);
    strided_rows<4>(shape, {&sy, &sc, &sa, &sb}, {0, 0, 0, 0},
                    [&](std::array<int64_t, 4> o, int64_t n, std::array<int64_t, 4> k) {
                      for (int64_t i = 0; i < n; ++i)
                        yp[o[0] + i * k[0]] = cp[o[1] + i * k[1]] != (T)0 ? ap[o[2] + i * k[2]] : bp[o[3] + i * k[3]];
                    });
  });
}

}  // namespace bertlab::cpu
