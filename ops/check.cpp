// ops/check.cpp — argument checks shared by the ops.
#include "ops/check.h"

namespace bertlab {

std::string describe(const Tensor& x) {
  if (!x.defined()) return "undefined tensor";
  return std::string(dtype_name(x.dtype())) + " " + shape_str(x.shape()) + " on " +
         device_name(x.device());
}

void check_defined(const char* op, const Tensor& x, const char* what) {
  if (!x.defined()) fail(std::string(op) + ": " + what + " is an undefined tensor");
}
void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  if (a.device() != b.device())
    fail(std::string(op) + ": tensors on different devices: " + describe(a) + " and " + describe(b));
}
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype())
    fail(std::string(op) + ": dtype mismatch: " + describe(a) + " and " + describe(b));
}
void check_float(const char* op, const Tensor& x, const char* what) {
  check_defined(op, x, what);
  if (!is_floating(x.dtype()))
    fail(std::string(op) + ": " + what + " must be float32 or float64, got " + describe(x));
}
void check_dtype(const char* op, const Tensor& x, DType t, const char* what) {
  check_defined(op, x, what);
  if (x.dtype() != t)
    fail(std::string(op) + ": " + what + " must be " + dtype_name(t) + ", got " + describe(x));
}
void check_dim(const char* op, const Tensor& x, int64_t ndim, const char* what) {
  check_defined(op, x, what);
  if (x.dim() != ndim)
    fail(std::string(op) + ": " + what + " must have " + std::to_string(ndim) +
         " dimensions, got " + describe(x));
}
void check_min_dim(const char* op, const Tensor& x, int64_t ndim, const char* what) {
  check_defined(op, x, what);
  if (x.dim() < ndim)
    fail(std::string(op) + ": " + what + " must have at least " + std::to_string(ndim) +
         " dimensions, got " + describe(x));
}
int64_t wrap_dim(const char* op, int64_t d, int64_t ndim) {
  int64_t n = ndim == 0 ? 1 : ndim;
  if (d < -n || d >= n)
    fail(std::string(op) + ": dimension " + std::to_string(d) + " is out of range for a " +
         std::to_string(ndim) + "-d tensor");
  return d < 0 ? d + n : d;
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      fail(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
           " cannot be broadcast together (dimension " + std::to_string(i) + ": " +
           std::to_string(da) + " vs " + std::to_string(db) + ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Shape broadcast_strides(const Tensor& x, const Shape& to) {
  const Shape& s = x.shape();
  const Shape& st = x.strides();
  size_t lead = to.size() - s.size();
  Shape out(to.size(), 0);
  for (size_t i = 0; i < s.size(); ++i) out[lead + i] = (s[i] == 1 && to[lead + i] != 1) ? 0 : st[i];
  return out;
}

}  // namespace bertlab
