// ops/check.h — argument checks shared by the ops. Each throws bertlab::Error with a message
// that names the op and shows the offending shapes, dtypes or values.
#pragma once

#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace bertlab {

void check_defined(const char* op, const Tensor& x, const char* what = "input");
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b);
void check_float(const char* op, const Tensor& x, const char* what = "input");
void check_dtype(const char* op, const Tensor& x, DType t, const char* what = "input");
void check_dim(const char* op, const Tensor& x, int64_t ndim, const char* what = "input");
void check_min_dim(const char* op, const Tensor& x, int64_t ndim, const char* what = "input");
// Normalises a possibly negative dimension index against `ndim`, or throws.
int64_t wrap_dim(const char* op, int64_t d, int64_t ndim);
// NumPy broadcasting of two shapes, or throws naming both.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);
// Strides that read x as if it had shape `to` (x's shape must broadcast to it).
Shape broadcast_strides(const Tensor& x, const Shape& to);
// "op: message (shape [..] and [..])"
std::string describe(const Tensor& x);  // "float32 [2, 3] on cpu"

}  // namespace bertlab
