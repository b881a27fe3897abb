// autograd/dtype.h — element types, devices and shapes: the vocabulary every layer shares.
//
// Plain enums with no dependencies, so cuda/ can use them in its plain-C++ launchers too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bertlab {

enum class DType : uint8_t { Float32, Float64, Int64 };
enum class Device : uint8_t { CPU, CUDA };

size_t dtype_size(DType t);
const char* dtype_name(DType t);    // "float32", "float64", "int64"
const char* device_name(Device d);  // "cpu", "cuda"
inline bool is_floating(DType t) { return t != DType::Int64; }

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);  // "[2, 3]"
int64_t shape_numel(const Shape& s);
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
