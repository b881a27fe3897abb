// cuda/copy.cu — layout-aware copies, fills, random fills and gradient accumulation.
//
// copy_strided is what Tensor::contiguous, to(dtype) and copy_ run on the GPU: one thread
// per destination element (grid-stride), each finding its source and destination offsets
// through StridedIndex (cuda/strided.cuh), converting the type on the way. A dense copy of
// one type is a plain cudaMemcpyAsync.
//
// fill_random draws element i from Philox counter offset + i (cuda/philox.h), computing in
// double exactly as the CPU loop in autograd/tensor.cpp does, then casting. The CPU build
// (g++ -O3 -march=native) contracts `a + b * z` into one fused multiply-add, so the kernel
// writes fma(b, z, a) explicitly: uniform and integer draws are then bit-identical to the
// CPU's. Normal draws go through log and cos, whose last bit may differ between glibc and
// CUDA's libdevice (CUDA's double log is within 1 ulp, cos within 2): float32 normals are
// identical unless the double lands within a few ulp of a float rounding boundary (about
// once in 10^8 draws); float64 normals agree to a few ulp.
#include "autograd/dispatch.h"
#include "cuda/common.cuh"
#include "cuda/copy.h"
#include "cuda/cuda.h"
#include "cuda/philox.h"
#include "cuda/strided.cuh"

namespace bertlab::cuda {

// ---------------------------------------------------------------------------------------
// copy and fill

// dst[ix(i)] = (D) src[ix(i)] for i < n; dst, src: any layout of the same shape (ix.shape)
template <typename D, typename S>
__global__ void copy_strided_kernel(D* dst, const S* src, StridedIndex<2> ix) {
  for (int64_t i = first_index(); i < ix.numel; i += grid_stride()) {
    int64_t off[2];
    ix.offsets(i, off);
    dst[off[0]] = (D)src[off[1]];
  }
}

void copy_strided(void* dst, DType dt, const Layout& dl, const void* src, DType st, const Layout& sl) {
  const Layout* layouts[2] = {&dl, &sl};
  StridedIndex<2> ix = make_strided_index<2>(layouts);
  if (ix.numel == 0) return;
  char* d = static_cast<char*>(dst);
  const char* s = static_cast<const char*>(src);
  if (dt == st && ix.all_contiguous()) {
    memcpy_d2d(d, s, (size_t)ix.numel * dtype_size(dt));
    return;
  }
  dispatch_storage(dt, "copy", [&](auto dtag) {
    using D = decltype(dtag);
    dispatch_storage(st, "copy", [&](auto stag) {
      using S = decltype(stag);
      copy_strided_kernel<D, S><<<grid_for(ix.numel), kThreads, 0, stream()>>>(
          reinterpret_cast<D*>(d), reinterpret_cast<const S*>(s), ix);
      CUDA_CHECK_LAUNCH();
    });
  });
}

// dst[ix(i)] = value; dst: any layout (ix.shape)
template <typename T>
__global__ void fill_kernel(T* dst, StridedIndex<1> ix, T value) {
  for (int64_t i = first_index(); i < ix.numel; i += grid_stride()) {
    int64_t off[1];
    ix.offsets(i, off);
    dst[off[0]] = value;
  }
}

void fill(void* dst, DType t, const Layout& l, double value) {
  const Layout* layouts[1] = {&l};
  StridedIndex<1> ix = make_strided_index<1>(layouts);
  if (ix.numel == 0) return;
  dispatch_storage(t, "fill", [&](auto tag) {
    using T = decltype(tag);
    fill_kernel<T><<<grid_for(ix.numel), kThreads, 0, stream()>>>(static_cast<T*>(dst), ix,
                                                                    (T)value);
    CUDA_CHECK_LAUNCH();
  });
}

// ---------------------------------------------------------------------------------------
// random fills

// dst[i] = draw number (offset + i) of `kind` under `seed`; dst is (n), dense.
//   Normal:  a + b * z,        z standard normal      (a = mean, b = std)
//   Uniform: a + (b - a) * u,  u uniform in [0, 1)
//   Integer: a + floor(u * (b - a)), clamped below b
template <typename T>
__global__ void fill_random_kernel(T* dst, int64_t n, uint64_t seed, uint64_t offset, RandomKind kind,
                                   double a, double b) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const uint64_t counter = offset + (uint64_t)i;
    switch (kind) {
      case RandomKind::Normal: dst[i] = (T)fma(b, philox::normal(seed, counter), a); break;
      case RandomKind::Uniform: {
        const double u = 1.0 - philox::uniform(seed, counter);  // (0, 1] -> [0, 1), exact
        dst[i] = (T)fma(b - a, u, a);
        break;
      }
      case RandomKind::Integer: {
        const int64_t span = (int64_t)b - (int64_t)a;
        int64_t v = (int64_t)floor((1.0 - philox::uniform(seed, counter)) * (double)span);
        if (v >= span) v = span - 1;
        dst[i] = (T)((int64_t)a + v);
        break;
      }
    }
  }
}

void fill_random(void* dst, DType t, int64_t n, uint64_t seed, uint64_t offset, RandomKind kind, double a,
                 double b) {
  if (n == 0) return;
  dispatch_storage(t, "random fill", [&](auto tag) {
    using T = decltype(tag);
    fill_random_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(static_cast<T*>(dst), n, seed, offset,
                                                                    kind, a, b);
    CUDA_CHECK_LAUNCH();
  });
}

// ---------------------------------------------------------------------------------------
// gradient accumulation

// dst[i] += src[i]; dst, src are (n), dense
template <typename T>
__global__ void accumulate_kernel(T* dst, const T* src, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    dst[i] += src[i];
}

void accumulate(void* dst, DType t, int64_t n, const void* src) {
  if (n == 0) return;
  dispatch_float(t, "gradient accumulation", [&](auto tag) {
    using T = decltype(tag);
    accumulate_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(static_cast<T*>(dst),
                                                                   static_cast<const T*>(src), n);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace bertlab::cuda
