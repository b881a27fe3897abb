// ops/layernorm.h — Layer normalisation over the last dimension (Ba, Kiros, Hinton, 2016),
// as torch.nn.functional.layer_norm with normalized_shape = (C).
#pragma once

#include "autograd/tensor.h"

namespace bertlab {

// x is (..., C); weight and bias are (C), or undefined (taken as 1 and 0); y has x's shape.
//   mean = sum_c x / C,   rstd = 1 / sqrt(sum_c (x - mean)^2 / C + eps)   (biased variance)
//   y = (x - mean) * rstd * weight + bias
// Backward, with norm = (x - mean) * rstd and g = weight * dy, per row:
//   dx = (g - mean_c(g) - norm * mean_c(g * norm)) * rstd
//   dweight = sum over rows of dy * norm,   dbias = sum over rows of dy
// eps defaults to BERT's layer_norm_eps.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-12);

}  // namespace bertlab
