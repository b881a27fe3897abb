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
// clip_grad_norm uses. The result is a host value, so on the GPU this synchronises (once).
double global_norm(const std::vector<Tensor>& xs);
// The same as a 0-dim float64 tensor on the tensors' device (all on one device), computed
// there: on the GPU nothing waits for it.
Tensor global_norm_tensor(const std::vector<Tensor>& xs);

// Gradient clipping by the global norm, in place and without history:
//   norm = global_norm(xs);  coef = max_norm / (norm + 1e-6);  if coef < 1: x *= coef for each x
// Returns norm as a 0-dim float64 tensor on the tensors' device. On the GPU the coefficient is
// computed and applied there (as torch.nn.utils.clip_grad_norm_ does), so the host never
// waits; on the CPU this is the host arithmetic of clip_grad_norm. Undefined entries are skipped.
Tensor clip_by_global_norm_(const std::vector<Tensor>& xs, double max_norm);

}  // namespace bertlab
