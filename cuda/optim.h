// cuda/optim.h — fused optimizer updates on the device (cuda/optim.cu); same signatures as
// ops/cpu/optim.h. All pointers are n contiguous elements of type t.
#pragma once

#include "autograd/dtype.h"

namespace bertlab::cuda {

// torch.optim.AdamW, one tensor:
//   p *= 1 - lr wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)      bc_k = 1 - b_k^step
void adamw_step(DType t, int64_t n, void* p, const void* g, void* m, void* v, double lr, double beta1,
                double beta2, double eps, double weight_decay, double bc1, double bc2);
// Sum of squares of n elements, accumulated in double, written to *out (a device double).
void sum_squares(DType t, int64_t n, const void* x, double* out_device);

// The device half of gradient clipping, so that the host never reads the norm (one block):
//   norm[0] = sqrt(sum of parts[0 .. n))
//   coef[0] = max_norm / (norm + 1e-6) where that is below 1, else 1 (also for a NaN norm, as
//             the CPU's `if (coef < 1)` leaves the gradients alone then)
// parts, norm and coef are device doubles.
void clip_coefficient(const double* parts, int64_t n, double max_norm, double* norm, double* coef);
// x[i] *= (T)coef[0] for n contiguous elements; coef is a device double.
void scale_by_device_scalar(DType t, int64_t n, void* x, const double* coef);

}  // namespace bertlab::cuda
