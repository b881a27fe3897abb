// cuda/strided.cuh — walking strided and broadcast tensors on the GPU (private to cuda/).
//
// The GPU twin of autograd/strided.h. StridedIndex<N> describes N operands that share one
// shape but have their own strides (0 on a broadcast dimension). make_strided_index first
// drops size-1 dimensions and merges neighbours that are contiguous for every operand, so a
// dense tensor becomes one dimension and its kernel does no index division at all. A kernel
// then maps the flat row-major index i of the shape to one element offset per operand:
//
//   int64_t off[N];  ix.offsets(i, off);   // off[k]: offset of element i in operand k
//
// Layout::offset is not read: the pointers handed to a launcher already include it
// (autograd/tensor.cpp, layout_of), as on the CPU.
#pragma once

#include <cstdint>

#include "autograd/dtype.h"

namespace bertlab::cuda {

// Division of 32-bit n < 2^31 by a divisor fixed at launch, as a multiply and a shift
// ("Division by invariant integers using multiplication", Granlund and Montgomery 1994; the
// form PyTorch's IntDivider uses): with s = ceil(log2 d) and m = floor(2^32 (2^s - d) / d) + 1,
//   n / d = (umulhi(n, m) + n) >> s.
// A 64-bit division is a long software routine on the GPU; this is two instructions.
struct FastDiv {
  uint32_t d = 1, m = 1, s = 0;
  FastDiv() = default;
  explicit FastDiv(uint32_t divisor) : d(divisor) {
    while ((uint64_t(1) << s) < d) ++s;
    m = (uint32_t)(((uint64_t(1) << 32) * ((uint64_t(1) << s) - d)) / d + 1);
  }
  __device__ __forceinline__ uint32_t div(uint32_t n) const { return (__umulhi(n, m) + n) >> s; }
};

template <int N>
struct StridedIndex {
  int ndim = 0;
  int64_t numel = 1;
  int64_t shape[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};
  bool small = false;         // numel < 2^31: the index splits with FastDiv
  FastDiv div[kMaxDims];      // by shape[d]

  // Offsets of flat element i (row-major over `shape`) in each operand. The outermost
  // dimension needs no division: i is already below its size.
  __device__ __forceinline__ void offsets(int64_t i, int64_t (&off)[N]) const {
    for (int k = 0; k < N; ++k) off[k] = 0;
    if (small) {
      uint32_t u = (uint32_t)i;
      for (int d = ndim - 1; d > 0; --d) {
        const uint32_t q = div[d].div(u), r = u - q * div[d].d;
        for (int k = 0; k < N; ++k) off[k] += (int64_t)r * strides[k][d];
        u = q;
      }
      if (ndim > 0)
        for (int k = 0; k < N; ++k) off[k] += (int64_t)u * strides[k][0];
      return;
    }
    for (int d = ndim - 1; d > 0; --d) {
      const int64_t q = i / shape[d], r = i - q * shape[d];
      for (int k = 0; k < N; ++k) off[k] += r * strides[k][d];
      i = q;
    }
    if (ndim > 0)
      for (int k = 0; k < N; ++k) off[k] += i * strides[k][0];
  }
  // Every operand is dense and in the same order (then offset == i for all of them).
  bool all_contiguous() const {
    if (ndim == 0) return true;
    if (ndim > 1) return false;
    for (int k = 0; k < N; ++k)
      if (strides[k][0] != 1) return false;
    return true;
  }
};

// The shape is layouts[0]'s; every layout must have the same shape (the caller broadcast
// them already: stride 0 on the broadcast dimensions).
template <int N>
StridedIndex<N> make_strided_index(const Layout* const (&layouts)[N]) {
  StridedIndex<N> ix;
  const Layout& l0 = *layouts[0];
  for (int d = 0; d < l0.ndim; ++d) {
    const int64_t n = l0.shape[d];
    ix.numel *= n;
    if (n == 1) continue;
    if (ix.ndim > 0) {
      bool merge = true;  // dims (last kept, d) walk memory as one dimension for every operand
      for (int k = 0; k < N; ++k)
        if (layouts[k]->strides[d] * n != ix.strides[k][ix.ndim - 1]) merge = false;
      if (merge) {
        ix.shape[ix.ndim - 1] *= n;
        for (int k = 0; k < N; ++k) ix.strides[k][ix.ndim - 1] = layouts[k]->strides[d];
        continue;
      }
    }
    ix.shape[ix.ndim] = n;
    for (int k = 0; k < N; ++k) ix.strides[k][ix.ndim] = layouts[k]->strides[d];
    ++ix.ndim;
  }
  ix.small = ix.numel < (int64_t(1) << 31);
  if (ix.small)
    for (int d = 0; d < ix.ndim; ++d) ix.div[d] = FastDiv((uint32_t)ix.shape[d]);
  return ix;
}

}  // namespace bertlab::cuda
