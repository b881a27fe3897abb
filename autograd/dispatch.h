// autograd/dispatch.h — pick the C++ element type for a DType, once, at the top of an op.
//
//   dispatch_float(x.dtype(), "softmax", [&](auto tag) { using T = decltype(tag); ... });
//
// The lambda is instantiated for each type the dispatcher allows; any other dtype throws
// an error naming the op.
#pragma once

#include "autograd/tensor.h"

namespace bertlab {

template <typename F>
decltype(auto) dispatch_float(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    default: break;
  }
  fail(std::string(op) + ": expected a float32 or float64 tensor, got " + dtype_name(t));
}

template <typename F>
decltype(auto) dispatch_all(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Int64: return f(int64_t{});
  }
  fail(std::string(op) + ": unknown dtype");
}

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }

}  // namespace bertlab
