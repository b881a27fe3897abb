// autograd/dtype.h — element types, devices and shapes: the vocabulary every layer shares.
//
// Plain enums with no dependencies, so cuda/ can use them in its plain-C++ launchers too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bertlab {

// BFloat16: 16-bit storage (autograd/bfloat16.h); copies, fills, random fills, safetensors and
// the bf16 GEMM (ops/cpu/gemm_bf16.h) take it, other ops compute in float32 (see docs/precision.md).
enum class DType : uint8_t { Float32, Float64, Int64, BFloat16 };
enum class Device : uint8_t { CPU, CUDA };

size_t dtype_size(DType t);
const char* dtype_name(DType t);    // "float32", "float64", "int64", "bfloat16"
const char* device_name(Device d);  // "cpu", "cuda"
inline bool is_floating(DType t) { return t != DType::Int64; }

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);  // "[2, 3]"
// The number of elements of a shape. Throws if a dimension is negative or the product does
// not fit in int64 (shape_numel names no op; checked_numel names `op` in its message).
int64_t shape_numel(const Shape& s);
// Sizes come from files and flags, so every product that decides an allocation or an offset
// goes through these: they throw "op: ..." naming the shape instead of wrapping past 2^63.
// checked_numel also refuses a shape whose non-zero dimensions multiply past int64 (an
// empty [0, 2^62, 4] would still overflow its strides).
int64_t checked_numel(const Shape& s, const char* op);
int64_t checked_mul(int64_t a, int64_t b, const std::string& what);  // a, b >= 0
int64_t checked_add(int64_t a, int64_t b, const std::string& what);  // a, b >= 0
Shape contiguous_strides(const Shape& s);

// A view's layout, in elements: what a kernel needs to walk a strided or broadcast tensor.
constexpr int kMaxDims = 8;
struct Layout {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
  int64_t offset = 0;
};

}  // namespace bertlab
