// autograd/tensor.cpp — storage, layout, creation, copies, random fills and printing.
#include "autograd/tensor.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <climits>
#include <malloc.h>
#include <ostream>
#include <sstream>

#include "autograd/dispatch.h"
#include "autograd/graph.h"
#include "autograd/strided.h"
#include "cuda/copy.h"
#include "cuda/cuda.h"
#include "cuda/philox.h"

namespace bertlab {

[[noreturn]] void fail(const std::string& msg) { throw Error(msg); }

size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
    case DType::BFloat16: return 2;
  }
  return 0;
}
const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::BFloat16: return "bfloat16";
  }
  return "?";
}
const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}
int64_t checked_numel(const Shape& s, const char* op) {
  // span is the product of the non-zero dimensions: the largest stride plus one. When it
  // fits, the element count (0 or span) fits too.
  int64_t span = 1;
  bool empty = false;
  for (int64_t v : s) {
    if (v < 0) fail(std::string(op) + ": negative dimension in shape " + shape_str(s));
    if (v == 0) empty = true;
    else if (__builtin_mul_overflow(span, v, &span))
      fail(std::string(op) + ": shape " + shape_str(s) +
           " has more elements than a 64-bit size can count");
  }
  return empty ? 0 : span;
}
int64_t shape_numel(const Shape& s) { return checked_numel(s, "tensor size"); }
int64_t checked_mul(int64_t a, int64_t b, const std::string& what) {
  int64_t r = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r))
    fail(what + ": size " + std::to_string(a) + " x " + std::to_string(b) +
         (a < 0 || b < 0 ? " has a negative factor" : " overflows a 64-bit size"));
  return r;
}
int64_t checked_add(int64_t a, int64_t b, const std::string& what) {
  int64_t r = 0;
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &r))
    fail(what + ": size " + std::to_string(a) + " + " + std::to_string(b) +
         (a < 0 || b < 0 ? " has a negative term" : " overflows a 64-bit size"));
  return r;
}
Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (int64_t i = (int64_t)s.size() - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

// ---------------------------------------------------------------------------------------
// Storage
//
// Host memory: glibc's malloc serves large blocks with mmap and returns them to the kernel
// on free, so every activation of a forward pass would be fresh pages, each paying a page
// fault and the kernel's zeroing on first touch. Raising the mmap and trim thresholds keeps
// freed blocks in the process for the next op of the same size (what PyTorch gets from its
// caching allocators). Done once, before the first tensor.

static void tune_host_malloc() {
  static const bool done = [] {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);  // blocks below 1 GiB come from the heap
    mallopt(M_TRIM_THRESHOLD, INT_MAX);  // and freed heap memory stays for reuse
    return true;
  }();
  (void)done;
}

Storage::Storage(size_t n, Device d) : nbytes(n), device(d) {
  if (d == Device::CPU) {
    tune_host_malloc();
    size_t rounded = ((n ? n : 1) + 63) / 64 * 64;  // 64-byte aligned for SIMD
    data = std::aligned_alloc(64, rounded);
    if (!data) fail("out of host memory allocating " + std::to_string(n) + " bytes");
  } else {
    data = cuda::malloc(n ? n : 1);
  }
}
Storage::~Storage() {
  if (device == Device::CPU) std::free(data);
  else cuda::free(data);
}

// ---------------------------------------------------------------------------------------
// Tensor accessors

static TensorImpl& need(const std::shared_ptr<TensorImpl>& p) {
  if (!p) fail("use of an undefined tensor");
  return *p;
}

const Shape& Tensor::shape() const { return need(impl_).shape; }
const Shape& Tensor::strides() const { return need(impl_).strides; }
int64_t Tensor::size(int64_t d) const {
  int64_t n = dim();
  if (d < -n || d >= n)
    fail("size: dimension " + std::to_string(d) + " out of range for shape " + shape_str(shape()));
  return shape()[d < 0 ? d + n : d];
}
int64_t Tensor::numel() const { return shape_numel(shape()); }
DType Tensor::dtype() const { return need(impl_).dtype; }
Device Tensor::device() const { return need(impl_).storage->device; }
int64_t Tensor::offset() const { return need(impl_).offset; }
bool Tensor::is_contiguous() const {
  const auto& sh = shape();
  const auto& st = strides();
  int64_t acc = 1;
  for (int64_t i = (int64_t)sh.size() - 1; i >= 0; --i) {
    if (sh[i] != 1 && st[i] != acc) return false;
    acc *= sh[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  auto& t = need(impl_);
  return static_cast<char*>(t.storage->data) + t.offset * (int64_t)dtype_size(t.dtype);
}
template <typename T>
T* Tensor::data() const {
  if (dtype() != dtype_of<T>())
    fail(std::string("data<") + dtype_name(dtype_of<T>()) + ">() on a " + dtype_name(dtype()) +
         " tensor of shape " + shape_str(shape()));
  return static_cast<T*>(raw_data());
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template int64_t* Tensor::data<int64_t>() const;
template bfloat16* Tensor::data<bfloat16>() const;

double Tensor::item() const {
  if (numel() != 1)
    fail("item(): the tensor has " + std::to_string(numel()) + " elements (shape " +
         shape_str(shape()) + "), expected 1");
  Tensor h = to(Device::CPU).to(DType::Float64).contiguous();
  return *h.data<double>();
}
int64_t Tensor::item_int() const {
  if (numel() != 1)
    fail("item_int(): the tensor has " + std::to_string(numel()) + " elements (shape " +
         shape_str(shape()) + "), expected 1");
  if (dtype() != DType::Int64) return (int64_t)item();
  Tensor h = to(Device::CPU).contiguous();
  return *h.data<int64_t>();
}

Layout layout_of(const Tensor& t) {
  Layout l;
  if (t.dim() > kMaxDims)
    fail("tensor of shape " + shape_str(t.shape()) + " has more than " +
         std::to_string(kMaxDims) + " dimensions");
  l.ndim = (int)t.dim();
  for (int i = 0; i < l.ndim; ++i) {
    l.shape[i] = t.shape()[i];
    l.strides[i] = t.strides()[i];
  }
  l.offset = 0;  // pointers passed to kernels already include the offset
  return l;
}

void bump_version(const Tensor& x) {
  if (x.defined() && x.impl()->storage) ++x.impl()->storage->version;
}

void copy_(const Tensor& dst, const Tensor& src) {
  if (dst.shape() != src.shape())
    fail("copy_: shape mismatch, destination " + shape_str(dst.shape()) + " vs source " +
         shape_str(src.shape()));
  bump_version(dst);
  if (dst.device() == Device::CPU && src.device() == Device::CPU) {
    dispatch_storage(dst.dtype(), "copy_", [&](auto dt) {
      using D = decltype(dt);
      dispatch_storage(src.dtype(), "copy_", [&](auto st) {
        using S = decltype(st);
        D* d = static_cast<D*>(dst.raw_data());
        const S* s = static_cast<const S*>(src.raw_data());
        strided_rows<2>(dst.shape(), {&dst.strides(), &src.strides()}, {0, 0},
                        [&](std::array<int64_t, 2> o, int64_t n, std::array<int64_t, 2> k) {
                          D* dp = d + o[0];
                          const S* sp = s + o[1];
                          if (k[0] == 1 && k[1] == 1 && std::is_same_v<D, S>) {
                            std::memcpy(dp, sp, n * sizeof(D));
                          } else {
                            for (int64_t i = 0; i < n; ++i) dp[i * k[0]] = (D)sp[i * k[1]];
                          }
                        });
      });
    });
    return;
  }
  if (dst.device() == Device::CUDA && src.device() == Device::CUDA) {
    cuda::copy_strided(dst.raw_data(), dst.dtype(), layout_of(dst), src.raw_data(), src.dtype(),
                       layout_of(src));
    return;
  }
  // Across devices: make a dense copy of src in dst's dtype on src's side, move the bytes,
  // then place them (strided) on dst's side.
  Tensor s = src.to(dst.dtype()).contiguous();
  if (dst.is_contiguous()) {
    size_t nb = dst.numel() * dtype_size(dst.dtype());
    if (dst.device() == Device::CUDA) cuda::memcpy_h2d(dst.raw_data(), s.raw_data(), nb);
    else cuda::memcpy_d2h(dst.raw_data(), s.raw_data(), nb);
    return;
  }
  Tensor staged = empty(dst.shape(), dst.dtype(), dst.device());
  copy_(staged, s);
  copy_(dst, staged);
}

void fill_(const Tensor& x, double value) {
  bump_version(x);
  if (x.device() == Device::CUDA) {
    cuda::fill(x.raw_data(), x.dtype(), layout_of(x), value);
    return;
  }
  dispatch_storage(x.dtype(), "fill_", [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(x.raw_data());
    T v = (T)value;
    strided_rows<1>(x.shape(), {&x.strides()}, {0},
                    [&](std::array<int64_t, 1> o, int64_t n, std::array<int64_t, 1> k) {
                      for (int64_t i = 0; i < n; ++i) p[o[0] + i * k[0]] = v;
                    });
  });
}

Tensor Tensor::to(Device d) const {
  if (device() == d) return *this;
  if (d == Device::CUDA) cuda::require("to(cuda)");
  Tensor out = empty(shape(), dtype(), d);
  copy_(out, *this);
  return out;
}
Tensor Tensor::to(DType t) const {
  if (dtype() == t) return *this;
  Tensor out = empty(shape(), t, device());
  copy_(out, *this);
  return out;
}
Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}
Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  copy_(out, *this);
  return out;
}

template <typename T>
std::vector<T> Tensor::tolist() const {
  Tensor h = to(Device::CPU).to(dtype_of<T>()).contiguous();
  const T* p = h.data<T>();
  return std::vector<T>(p, p + h.numel());
}
template std::vector<float> Tensor::tolist<float>() const;
template std::vector<double> Tensor::tolist<double>() const;
template std::vector<int64_t> Tensor::tolist<int64_t>() const;

// ---------------------------------------------------------------------------------------
// autograd fields

bool Tensor::requires_grad() const { return need(impl_).requires_grad; }
Tensor& Tensor::set_requires_grad(bool r) {
  auto& t = need(impl_);
  if (t.grad_fn)
    fail("set_requires_grad: only leaf tensors can change requires_grad (this one was made by '" +
         node_name(*t.grad_fn) + "'); use detach() first");
  if (r && !is_floating(t.dtype))
    fail(std::string("set_requires_grad: only floating-point tensors can require gradients, got ") +
         dtype_name(t.dtype));
  t.requires_grad = r;
  return *this;
}
Tensor Tensor::grad() const {
  auto& t = need(impl_);
  return t.grad ? Tensor(t.grad) : Tensor();
}
void Tensor::set_grad(const Tensor& g) {
  auto& t = need(impl_);
  if (g.defined() && g.shape() != t.shape)
    fail("set_grad: gradient shape " + shape_str(g.shape()) + " does not match tensor shape " +
         shape_str(t.shape));
  t.grad = g.defined() ? g.impl_ptr() : nullptr;
}
void Tensor::zero_grad() { need(impl_).grad.reset(); }
void Tensor::retain_grad() {
  auto& t = need(impl_);
  if (!t.requires_grad) fail("retain_grad: the tensor does not require grad");
  t.retains_grad = true;
}
bool Tensor::is_leaf() const { return need(impl_).grad_fn == nullptr; }
const std::shared_ptr<Node>& Tensor::grad_fn() const { return need(impl_).grad_fn; }
Tensor Tensor::detach() const {
  auto& t = need(impl_);
  auto d = std::make_shared<TensorImpl>();
  d->storage = t.storage;
  d->offset = t.offset;
  d->shape = t.shape;
  d->strides = t.strides;
  d->dtype = t.dtype;
  return Tensor(d);
}
void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  run_backward(*this, grad, retain_graph);
}

Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  auto d = std::make_shared<TensorImpl>();
  d->storage = base.impl()->storage;
  d->offset = offset;
  d->shape = std::move(shape);
  d->strides = std::move(strides);
  d->dtype = base.dtype();
  return Tensor(d);
}

// ---------------------------------------------------------------------------------------
// creation

// The element count of a new tensor of shape s, checked (see checked_numel).
static int64_t check_shape(const Shape& s, const char* op) {
  if ((int64_t)s.size() > kMaxDims)
    fail(std::string(op) + ": shape " + shape_str(s) + " has more than " +
         std::to_string(kMaxDims) + " dimensions");
  return checked_numel(s, op);
}

Tensor empty(const Shape& shape, DType t, Device d) {
  const int64_t n = check_shape(shape, "empty");
  const int64_t nbytes = checked_mul(n, (int64_t)dtype_size(t),
                                     "empty: bytes of shape " + shape_str(shape));
  if (d == Device::CUDA) cuda::require("creating a CUDA tensor");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>((size_t)nbytes, d);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = t;
  return Tensor(impl);
}
Tensor full(const Shape& shape, double value, DType t, Device d) {
  Tensor x = empty(shape, t, d);
  fill_(x, value);
  return x;
}
Tensor zeros(const Shape& shape, DType t, Device d) {
  Tensor x = empty(shape, t, d);
  if (d == Device::CPU) std::memset(x.raw_data(), 0, x.numel() * dtype_size(t));
  else cuda::memset_zero(x.raw_data(), x.numel() * dtype_size(t));
  return x;
}
Tensor ones(const Shape& shape, DType t, Device d) { return full(shape, 1.0, t, d); }
Tensor scalar_tensor(double value, DType t, Device d) { return full({}, value, t, d); }
Tensor zeros_like(const Tensor& x) { return zeros(x.shape(), x.dtype(), x.device()); }
Tensor ones_like(const Tensor& x) { return ones(x.shape(), x.dtype(), x.device()); }
Tensor empty_like(const Tensor& x) { return empty(x.shape(), x.dtype(), x.device()); }

Tensor arange(int64_t n, DType t, Device d) {
  if (n < 0) fail("arange: negative length " + std::to_string(n));
  Tensor x = empty({n}, t, Device::CPU);
  dispatch_all(t, "arange", [&](auto tag) {
    using T = decltype(tag);
    T* p = x.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = (T)i;
  });
  return x.to(d);
}

template <typename T>
static Tensor from_host(const std::vector<T>& data, const Shape& shape, Device d) {
  const int64_t n = check_shape(shape, "from_vector");
  if ((int64_t)data.size() != n)
    fail("from_vector: " + std::to_string(data.size()) + " values do not fill shape " +
         shape_str(shape) + " (" + std::to_string(n) + " elements)");
  Tensor x = empty(shape, dtype_of<T>(), Device::CPU);
  if (!data.empty()) std::memcpy(x.raw_data(), data.data(), data.size() * sizeof(T));
  return x.to(d);
}
Tensor from_vector(const std::vector<float>& v, const Shape& s, Device d) { return from_host(v, s, d); }
Tensor from_vector(const std::vector<double>& v, const Shape& s, Device d) { return from_host(v, s, d); }
Tensor from_vector(const std::vector<int64_t>& v, const Shape& s, Device d) { return from_host(v, s, d); }

// ---------------------------------------------------------------------------------------
// random

Generator& default_generator() {
  static Generator g(0);
  return g;
}
void manual_seed(uint64_t seed) {
  default_generator().seed = seed;
  default_generator().offset = 0;
}

static void fill_random(const Tensor& x, Generator& g, cuda::RandomKind kind, double a, double b) {
  if (!x.is_contiguous()) {
    Tensor tmp = empty(x.shape(), x.dtype(), x.device());
    fill_random(tmp, g, kind, a, b);
    copy_(x, tmp);
    return;
  }
  bump_version(x);
  const int64_t n = x.numel();
  const uint64_t base = g.advance((uint64_t)n);
  if (x.device() == Device::CUDA) {
    cuda::fill_random(x.raw_data(), x.dtype(), n, g.seed, base, kind, a, b);
    return;
  }
  dispatch_storage(x.dtype(), "random fill", [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(x.raw_data());
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) {
      switch (kind) {
        case cuda::RandomKind::Normal: p[i] = (T)std::fma(b, philox::normal(g.seed, base + i), a); break;
        case cuda::RandomKind::Uniform: p[i] = (T)std::fma(b - a, 1.0 - philox::uniform(g.seed, base + i), a); break;
        case cuda::RandomKind::Integer: {
          int64_t span = (int64_t)b - (int64_t)a;
          int64_t v = (int64_t)std::floor((1.0 - philox::uniform(g.seed, base + i)) * (double)span);
          if (v >= span) v = span - 1;
          p[i] = (T)((int64_t)a + v);
          break;
        }
      }
    }
  });
}

void normal_(const Tensor& x, Generator& g, double mean, double std) {
  if (!is_floating(x.dtype())) fail("normal_: needs a floating-point tensor");
  fill_random(x, g, cuda::RandomKind::Normal, mean, std);
}
void uniform_(const Tensor& x, Generator& g, double lo, double hi) {
  if (!is_floating(x.dtype())) fail("uniform_: needs a floating-point tensor");
  fill_random(x, g, cuda::RandomKind::Uniform, lo, hi);
}
Tensor randn(const Shape& shape, Generator& g, double mean, double std, DType t, Device d) {
  Tensor x = empty(shape, t, d);
  normal_(x, g, mean, std);
  return x;
}
Tensor rand(const Shape& shape, Generator& g, double lo, double hi, DType t, Device d) {
  Tensor x = empty(shape, t, d);
  uniform_(x, g, lo, hi);
  return x;
}
Tensor randint(const Shape& shape, Generator& g, int64_t lo, int64_t hi, Device d) {
  if (hi <= lo) fail("randint: empty range [" + std::to_string(lo) + ", " + std::to_string(hi) + ")");
  Tensor x = empty(shape, DType::Int64, d);
  fill_random(x, g, cuda::RandomKind::Integer, (double)lo, (double)hi);
  return x;
}

// ---------------------------------------------------------------------------------------
// printing, in PyTorch's shape: tensor([[1.0000, 2.0000], [3.0000, 4.0000]])

static void print_rec(std::ostringstream& os, const std::vector<double>& v, const Shape& s,
                      size_t d, int64_t& i, bool integer, int indent) {
  if (d == s.size()) {
    if (integer) os << (int64_t)v[i++];
    else os << std::fixed << std::setprecision(4) << v[i++];
    return;
  }
  os << "[";
  const int64_t n = s[d];
  const bool elide = n > 8;
  for (int64_t k = 0; k < n; ++k) {
    if (elide && k == 3) {
      os << "...";
      // skip the middle
      int64_t per = 1;
      for (size_t e = d + 1; e < s.size(); ++e) per *= s[e];
      i += per * (n - 6);
      k = n - 3;
      os << (d + 1 == s.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
    }
    print_rec(os, v, s, d + 1, i, integer, indent + 1);
    if (k + 1 < n) os << (d + 1 == s.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
  }
  os << "]";
}

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::vector<double> v = tolist<double>();
  std::ostringstream os;
  os << "tensor(";
  int64_t i = 0;
  print_rec(os, v, shape(), 0, i, dtype() == DType::Int64, 7);
  if (dtype() != DType::Float32) os << ", dtype=" << dtype_name(dtype());
  if (device() != Device::CPU) os << ", device=" << device_name(device());
  if (grad_fn()) os << ", grad_fn=<" << node_name(*grad_fn()) << ">";
  else if (requires_grad()) os << ", requires_grad=True";
  os << ")";
  return os.str();
}
std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace bertlab
