// ops/embedding.h — embedding lookup, as torch.nn.functional.embedding.
#pragma once

#include "autograd/tensor.h"

namespace bertlab {

// weight is (V,C); ids is int64 of any shape (...); out is (..., C).
//   out[..., :] = weight[ids[...], :]
// Backward scatter-adds into a dense (V,C) gradient (deterministic):
//   dweight[v, :] = sum over positions p with ids[p] == v of dout[p, :]
// With padding_idx >= 0, row padding_idx receives no gradient (dweight[padding_idx] = 0), as
// torch's padding_idx: BERT's word embeddings use it for [PAD].
// An id outside [0, V) throws, naming the id, its position and V.
Tensor embedding(const Tensor& weight, const Tensor& ids, int64_t padding_idx = -1);

}  // namespace bertlab
