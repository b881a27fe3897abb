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

}  // namespace bertlab::cuda
