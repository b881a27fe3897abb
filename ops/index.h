// ops/index.h — selecting elements by index or by condition: index_select, gather, where,
// masked_fill (PyTorch semantics). Backward of the index ops scatter-adds, deterministically.
#pragma once

#include "autograd/tensor.h"

namespace bertlab {

// x is (..., D, ...) with D along dim; index is int64 (n), values in [0, D); out is x's shape
// with n along dim.
//   out[..., j, ...] = x[..., index[j], ...]
//   dx[..., d, ...] = sum over j with index[j] == d of dout[..., j, ...]
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);

// torch.gather: index is int64 with x's number of dimensions, index.size(k) <= x.size(k) for
// k != dim, values in [0, x.size(dim)); out has index's shape.
//   out[p] = x[p with p[dim] replaced by index[p]]
//   dx[p with p[dim] = index[p]] += dout[p]   (0 where no index points)
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);

// cond, a and b broadcast together (NumPy rules); cond may have any dtype (nonzero = true);
// a and b share a dtype.
//   y = cond ? a : b,   da = sum_to(cond ? dy : 0, a's shape),   db = sum_to(cond ? 0 : dy, b's shape)
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// mask (any dtype, nonzero = true) broadcasts to x's shape; y has x's shape.
//   y = mask ? value : x,   dx = mask ? 0 : dy          (where(mask, value, x))
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

}  // namespace bertlab
