// ops/cpu/optim.cpp — AdamW in one pass over each parameter, and the sum of squares that
// gradient-norm clipping needs. The arithmetic follows torch.optim.AdamW step for step, so
// parameters match PyTorch's to rounding.
#include "ops/cpu/optim.h"

#include <cmath>

#include "autograd/dispatch.h"

namespace bertlab::cpu {

void adamw_step(DType t, int64_t n, void* p_, const void* g_, void* m_, void* v_, double lr, double beta1,
                double beta2, double eps, double weight_decay, double bc1, double bc2) {
  dispatch_float(t, "adamw", [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(p_);
    const T* g = static_cast<const T*>(g_);
    T* m = static_cast<T*>(m_);
    T* v = static_cast<T*>(v_);
    const T decay = (T)(1.0 - lr * weight_decay), b1 = (T)beta1, b2 = (T)beta2;
    const T step_size = (T)(lr / bc1), sqrt_bc2 = (T)std::sqrt(bc2), e = (T)eps;
#pragma omp parallel for simd schedule(static) if (n >= (1 << 15))
    for (int64_t i = 0; i < n; ++i) {
      T pi = p[i] * decay;
      T mi = b1 * m[i] + ((T)1 - b1) * g[i];
      T vi = b2 * v[i] + ((T)1 - b2) * g[i] * g[i];
      p[i] = pi - step_size * mi / (std::sqrt(vi) / sqrt_bc2 + e);
      m[i] = mi;
      v[i] = vi;
    }
  });
}

double sum_squares(DType t, int64_t n, const void* x_) {
  return dispatch_float(t, "sum_squares", [&](auto tag) {
    using T = decltype(tag);
    const T* x = static_cast<const T*>(x_);
    double s = 0;
#pragma omp parallel for simd reduction(+ : s) schedule(static) if (n >= (1 << 15))
    for (int64_t i = 0; i < n; ++i) s += (double)x[i] * (double)x[i];
    return s;
  });
}

}  // namespace bertlab::cpu
