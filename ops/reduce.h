// ops/reduce.h — reductions over dimensions.
//
// `dims` lists the dimensions to reduce (negative counts from the end; empty = all);
// `keepdim` keeps them with size 1. The backward of sum broadcasts the gradient back;
// mean divides it by the count; max sends it to the first position of the maximum.
#pragma once

#include <vector>

#include "autograd/tensor.h"

namespace bertlab {

Tensor sum(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor max(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);

// Sums g over the dimensions that broadcasting stretched, giving a tensor of `shape`
// (the backward of every broadcasting op).
Tensor sum_to(const Tensor& g, const Shape& shape);

// Indices of the maximum along `dim` (int64, no gradient; first index on ties).
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
// The k largest values along the last dimension and their indices, largest first
// (no gradient).
struct TopK {
  Tensor values, indices;
};
TopK topk(const Tensor& x, int64_t k);

}  // namespace bertlab
