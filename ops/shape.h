// ops/shape.h — views and copies that change how elements are arranged.
//
// reshape/view, permute, transpose, expand, narrow/slice, squeeze/unsqueeze return views
// over the same storage when the layout allows (reshape copies a non-contiguous input);
// their backward routes the gradient back through the inverse arrangement.
#pragma once

#include <vector>

#include "autograd/tensor.h"

namespace bertlab {

Tensor reshape(const Tensor& x, Shape shape);  // one entry may be -1 (inferred)
Tensor view(const Tensor& x, Shape shape);     // like reshape, but never copies (throws)
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor permute(const Tensor& x, std::vector<int64_t> dims);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);
// Broadcasts x to `shape` without copying (stride 0); -1 keeps a dimension.
Tensor expand(const Tensor& x, Shape shape);
// Elements start .. start+length-1 of dimension `dim` (a view).
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
// Python-style x[..., start:end, ...] on one dimension (negative start/end count from the end).
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end);
// x[..., index, ...]: removes dimension `dim`.
Tensor select(const Tensor& x, int64_t dim, int64_t index);
// A dense copy when x is a strided view; x itself (with its history) when already dense.
Tensor contiguous(const Tensor& x);

// Joins tensors of equal shape except along `dim`.
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);
// Stacks tensors of equal shape along a new dimension `dim`.
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);

}  // namespace bertlab
