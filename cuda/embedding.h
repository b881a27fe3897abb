// cuda/embedding.h — launchers for the embedding lookup and its scatter-add backward
// (cuda/embedding.cu); same signatures as ops/cpu/embedding.h.
#pragma once

#include "autograd/dtype.h"

namespace bertlab::cuda {

// out is (n,C), ids is (n), weight is (V,C); all dense. ids are already checked to lie in
// [0, V).   out[i, :] = weight[ids[i], :]
void embedding_forward(DType t, void* out, const int64_t* ids, const void* weight, int64_t n,
                       int64_t V, int64_t C);
// dweight is (V,C), ids is (n), dout is (n,C); all dense. dweight is overwritten:
//   dweight[v, :] = sum over i with ids[i] == v of dout[i, :]   (0 for ids never seen)
// Deterministic: each row of dweight sums its contributions in increasing i.
void embedding_backward(DType t, void* dweight, const int64_t* ids, const void* dout, int64_t n,
                        int64_t V, int64_t C);

}  // namespace bertlab::cuda
