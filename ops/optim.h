// ops/optim.h — in-place parameter updates (no autograd history): the fused kernels behind
// nn/optim.h.
#pragma once

#include <vector>

#include "autograd/tensor.h"

namespace bertlab {

// One AdamW step on one parameter p with gradient g and moments m, v (same shape, dense,
// same device). `step` counts from 1. Formulas: cuda/optim.h (torch.optim.AdamW).
void adamw_step_(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, double lr, double beta1,
                 double beta2, double eps, double weight_decay, int64_t step);

// sqrt(sum over tensors of sum of squares), accumulated in double: the global L2 norm that
// clip_grad_norm uses. The result is a host value, so on the GPU this synchronises.
double global_norm(const std::vector<Tensor>& xs);

}  // namespace bertlab
