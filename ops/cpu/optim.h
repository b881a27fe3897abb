// ops/cpu/optim.h — fused optimizer updates on the CPU (same signatures as cuda/optim.h).
#pragma once

#include "autograd/dtype.h"

namespace bertlab::cpu {

void adamw_step(DType t, int64_t n, void* p, const void* g, void* m, void* v, double lr, double beta1,
                double beta2, double eps, double weight_decay, double bc1, double bc2);
double sum_squares(DType t, int64_t n, const void* x);

}  // namespace bertlab::cpu
