// cuda/optim.cu — the fused AdamW update and the sum of squares behind gradient clipping.
//
// adamw_step is one elementwise kernel with the CPU's arithmetic (ops/cpu/optim.cpp, which
// follows torch.optim.AdamW) line for line. sum_squares is a two-pass reduction in double:
// each block sums its grid-stride share into a partial, and one block adds the partials in
// block order, so the result does not vary run to run (an atomicAdd of doubles would).
#include <cmath>

#include "autograd/dispatch.h"
#include "cuda/common.cuh"
#include "cuda/optim.h"

namespace bertlab::cuda {

// p, g, m, v are (n), dense. Loshchilov & Hutter, "Decoupled Weight Decay Regularization":
//   p *= 1 - lr wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
template <typename T>
__global__ void adamw_kernel(T* p, const T* g, T* m, T* v, int64_t n, T decay, T b1, T b2, T step_size, T sqrt_bc2,
                             T e) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    T pi = p[i] * decay;
    T mi = b1 * m[i] + ((T)1 - b1) * g[i];
    T vi = b2 * v[i] + ((T)1 - b2) * g[i] * g[i];
    p[i] = pi - step_size * mi / (std::sqrt(vi) / sqrt_bc2 + e);
    m[i] = mi;
    v[i] = vi;
  }
}

void adamw_step(DType t, int64_t n, void* p, const void* g, void* m, void* v, double lr, double beta1, double beta2,
                double eps, double weight_decay, double bc1, double bc2) {
  if (n == 0) return;
  dispatch_float(t, "adamw", [&](auto tag) {
    using T = decltype(tag);
    const T decay = (T)(1.0 - lr * weight_decay), b1 = (T)beta1, b2 = (T)beta2;
    const T step_size = (T)(lr / bc1), sqrt_bc2 = (T)std::sqrt(bc2), e = (T)eps;
    adamw_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(static_cast<T*>(p), static_cast<const T*>(g),
                                                             static_cast<T*>(m), static_cast<T*>(v), n, decay, b1, b2,
                                                             step_size, sqrt_bc2, e);
    CUDA_CHECK_LAUNCH();
  });
}

// partial[block] = sum of x[i]^2 over the block's grid-stride share; x is (n)
template <typename T>
__global__ void sum_squares_kernel(double* partial, const T* x, int64_t n) {
  double s = 0;
  for (int64_t i = first_index(); i < n; i += grid_stride()) s += (double)x[i] * (double)x[i];
  s = block_sum(s);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// *out = sum of partial[0 .. count), added by one block
__global__ void sum_partials_kernel(double* out, const double* partial, int64_t count) {
  double s = 0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) s += partial[i];
  s = block_sum(s);
  if (threadIdx.x == 0) *out = s;
}

void sum_squares(DType t, int64_t n, const void* x, double* out_device) {
  if (n == 0) {
    memset_zero(out_device, sizeof(double));
    return;
  }
  dispatch_float(t, "sum_squares", [&](auto tag) {
    using T = decltype(tag);
    const unsigned blocks = grid_for(n);
    DeviceBuffer partial(blocks * sizeof(double));
    sum_squares_kernel<T><<<blocks, kThreads, 0, stream()>>>(partial.as<double>(), static_cast<const T*>(x), n);
    CUDA_CHECK_LAUNCH();
    sum_partials_kernel<<<1, kThreads, 0, stream()>>>(out_device, partial.as<double>(), blocks);
    CUDA_CHECK_LAUNCH();
  });
}

// norm[0] = sqrt(sum of parts[0 .. n)), coef[0] = the clipping coefficient; one block
__global__ void clip_coefficient_kernel(const double* parts, int64_t n, double max_norm, double* norm, double* coef) {
  double s = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += parts[i];
  s = block_sum(s);
  if (threadIdx.x == 0) {
    const double nrm = std::sqrt(s);
    const double c = max_norm / (nrm + 1e-6);
    *norm = nrm;
    *coef = c < 1.0 ? c : 1.0;
  }
}

void clip_coefficient(const double* parts, int64_t n, double max_norm, double* norm, double* coef) {
  clip_coefficient_kernel<<<1, kThreads, 0, stream()>>>(parts, n, max_norm, norm, coef);
  CUDA_CHECK_LAUNCH();
}

// x[i] *= (T)coef[0]; x is (n)
template <typename T>
__global__ void scale_by_device_scalar_kernel(T* x, int64_t n, const double* coef) {
  const T c = (T)*coef;
  for (int64_t i = first_index(); i < n; i += grid_stride()) x[i] *= c;
}

void scale_by_device_scalar(DType t, int64_t n, void* x, const double* coef) {
  if (n == 0) return;
  dispatch_float(t, "scale_by_device_scalar", [&](auto tag) {
    using T = decltype(tag);
    scale_by_device_scalar_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(static_cast<T*>(x), n, coef);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace bertlab::cuda
