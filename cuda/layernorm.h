// cuda/layernorm.h — launchers for the fused LayerNorm kernels over the last axis
// (cuda/layernorm.cu); same signatures as ops/cpu/layernorm.h.
//
// Ba, Kiros, Hinton, "Layer Normalization" (2016); the kernels follow llm.c's
// layernorm_forward / layernorm_backward: the forward keeps only mean and rstd per row.
#pragma once

#include "autograd/dtype.h"

namespace bertlab::cuda {

// out is (N,C), mean and rstd are (N), x is (N,C), w and b are (C); all dense.
//   mean = sum(x) / C,  rstd = 1 / sqrt(sum((x - mean)^2) / C + eps)
//   out  = (x - mean) * rstd * w + b
// w or b may be null (taken as 1 or 0).
void layernorm_forward(DType t, void* out, void* mean, void* rstd, const void* x, const void* w,
                       const void* b, int64_t N, int64_t C, double eps);
// dx is (N,C), dw and db are (C), dy and x are (N,C), w is (C), mean and rstd are (N).
// With norm = (x - mean) * rstd and g = w * dy:
//   dx = (g - mean_c(g) - norm * mean_c(g * norm)) * rstd
//   dw = sum over rows of dy * norm,   db = sum over rows of dy
// Outputs are overwritten (not accumulated); any of dx, dw, db may be null (not needed);
// w may be null (taken as 1). dw and db sum rows in a fixed order, whatever the thread count.
void layernorm_backward(DType t, void* dx, void* dw, void* db, const void* dy, const void* x,
                        const void* w, const void* mean, const void* rstd, int64_t N, int64_t C);

}  // namespace bertlab::cuda
