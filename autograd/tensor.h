// autograd/tensor.h — the Tensor handle: a cheap, shallow-copy view over shared storage.
//
// A Tensor is a shared pointer to a TensorImpl (shape, strides, offset, dtype, autograd
// fields) that points at a Storage (one block of memory on one device). Copying a Tensor
// copies the pointer, as in flashlight's Variable or PyTorch's at::Tensor; views (reshape,
// permute, narrow, expand) make a new TensorImpl over the same Storage.
//
// This header knows no ops: arithmetic, reductions and shape ops live in ops/ as free
// functions (`add(a, b)`, `sum(x, {1})`), found by argument-dependent lookup.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/bfloat16.h"
#include "autograd/dtype.h"

namespace bertlab {

// One block of memory on one device. Freed (or handed back to the CUDA caching allocator)
// when the last TensorImpl that uses it goes away.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device = Device::CPU;
  // Counts in-place writes made through the framework (copy_, fill_, the random fills, add_,
  // mul_, the optimizer step): caches of values derived from a tensor (autocast's bfloat16
  // copies of the weights, autograd/autocast.h) compare it to know when to rebuild. Code that
  // writes through data<T>() itself calls bump_version.
  uint64_t version = 0;
  Storage(size_t nbytes, Device device);  // uninitialised memory
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct Node;  // a recorded op in the autograd graph (autograd/graph.h)

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements, from storage->data
  Shape shape;
  Shape strides;  // in elements; 0 for a broadcast (expanded) dimension
  DType dtype = DType::Float32;

  // autograd
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // accumulated gradient of a leaf (or a retained non-leaf)
  std::shared_ptr<Node> grad_fn;     // the op that made this tensor; null for leaves
  bool retains_grad = false;         // a non-leaf that keeps its .grad (retain_grad())
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  const Shape& strides() const;
  int64_t dim() const { return (int64_t)shape().size(); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  int64_t offset() const;
  bool is_contiguous() const;

  // Pointer to the first element (storage base + offset). Checks dtype against T.
  template <typename T> T* data() const;
  void* raw_data() const;  // base + offset, untyped

  // The value of a one-element tensor (copied to the host if needed).
  double item() const;
  int64_t item_int() const;

  // Copies: to another device/dtype (a no-op returning *this when nothing changes),
  // a dense copy of a strided view, a deep copy.
  Tensor to(Device d) const;
  Tensor to(DType t) const;
  Tensor contiguous() const;
  Tensor clone() const;

  // The values as a flat host vector (any device, any layout).
  template <typename T> std::vector<T> tolist() const;

  // autograd
  bool requires_grad() const;
  Tensor& set_requires_grad(bool r = true);  // leaves only
  Tensor grad() const;                       // undefined when none
  void set_grad(const Tensor& g);
  void zero_grad();                          // drops .grad
  void retain_grad();                        // a non-leaf keeps its gradient after backward
  bool is_leaf() const;
  const std::shared_ptr<Node>& grad_fn() const;
  Tensor detach() const;  // same storage, no history
  // Reverse-mode differentiation from this tensor. With no gradient it must hold one element.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  std::string str() const;  // shape, dtype, device and values, as PyTorch prints them

 private:
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// The layout a kernel needs (shape and strides; offset 0 since raw_data() includes it).
Layout layout_of(const Tensor& t);

// A new tensor over `storage` with the given layout (no copy, no history).
Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset);

// ---------------------------------------------------------------------------------------
// Creation. Default dtype float32, default device CPU.
Tensor empty(const Shape& shape, DType t = DType::Float32, Device d = Device::CPU);
Tensor zeros(const Shape& shape, DType t = DType::Float32, Device d = Device::CPU);
Tensor ones(const Shape& shape, DType t = DType::Float32, Device d = Device::CPU);
Tensor full(const Shape& shape, double value, DType t = DType::Float32, Device d = Device::CPU);
Tensor scalar_tensor(double value, DType t = DType::Float32, Device d = Device::CPU);
Tensor arange(int64_t n, DType t = DType::Int64, Device d = Device::CPU);  // 0 .. n-1
Tensor zeros_like(const Tensor& x);
Tensor ones_like(const Tensor& x);
Tensor empty_like(const Tensor& x);

// From host values; `data.size()` must equal the product of `shape`.
Tensor from_vector(const std::vector<float>& data, const Shape& shape, Device d = Device::CPU);
Tensor from_vector(const std::vector<double>& data, const Shape& shape, Device d = Device::CPU);
Tensor from_vector(const std::vector<int64_t>& data, const Shape& shape, Device d = Device::CPU);

// Marks x's storage as written (Storage::version).
void bump_version(const Tensor& x);

// Fills every element of a tensor (in place, no history). Works on views.
void fill_(const Tensor& x, double value);
// Copies src into dst elementwise (same shape; dtype converted; views allowed; no history).
void copy_(const Tensor& dst, const Tensor& src);

// ---------------------------------------------------------------------------------------
// Random numbers: a counter-based generator (Philox4x32-10, Salmon et al. 2011, as cuRAND
// and PyTorch's CUDA RNG use). Element i of a draw uses counter (offset + i), so the numbers
// do not depend on the thread count or the device, and a seed gives the same numbers on
// every run. Each draw advances the offset past what it used.
struct Generator {
  uint64_t seed = 0;
  uint64_t offset = 0;
  explicit Generator(uint64_t seed = 0) : seed(seed) {}
  // Reserves `n` counters and returns the first.
  uint64_t advance(uint64_t n) {
    uint64_t o = offset;
    offset += n;
    return o;
  }
};
Generator& default_generator();
void manual_seed(uint64_t seed);  // reseeds default_generator()

Tensor randn(const Shape& shape, Generator& g, double mean = 0.0, double std = 1.0,
             DType t = DType::Float32, Device d = Device::CPU);
Tensor rand(const Shape& shape, Generator& g, double lo = 0.0, double hi = 1.0,
            DType t = DType::Float32, Device d = Device::CPU);
// Integers uniform in [lo, hi), int64.
Tensor randint(const Shape& shape, Generator& g, int64_t lo, int64_t hi, Device d = Device::CPU);
// Fills x in place (no history): the normal / uniform draws above.
void normal_(const Tensor& x, Generator& g, double mean, double std);
void uniform_(const Tensor& x, Generator& g, double lo, double hi);

// The error type the framework throws: a message naming the op and what was wrong.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void fail(const std::string& msg);

}  // namespace bertlab
