// autograd/dispatch.h — pick the C++ element type for a DType, once, at the top of an op.
//
//   dispatch_float(x.dtype(), "softmax", [&](auto tag) { using T = decltype(tag); ... });
//
// The lambda is instantiated for each type the dispatcher allows; any other dtype throws
// an error naming the op.
#pragma once

#include "autograd/bfloat16.h"
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
    default: break;
  }
  fail(std::string(op) + ": expected a float32, float64 or int64 tensor, got " + dtype_name(t));
}

// Every dtype a tensor can hold, bfloat16 included: for what only moves or converts elements
// (copies, fills, random fills). bfloat16 converts through float (exact) and rounds on the way
// back to nearest-even; arithmetic ops use the dispatchers above.
template <typename F>
decltype(auto) dispatch_storage(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Int64: return f(int64_t{});
    case DType::BFloat16: return f(bfloat16{});
  }
  fail(std::string(op) + ": unknown dtype");
}

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }
template <> constexpr DType dtype_of<bfloat16>() { return DType::BFloat16; }

}  // namespace bertlab
