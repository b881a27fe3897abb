// ops/reduce.cpp — sum / mean / max over dimensions, sum_to, argmax, topk.
//
// A reduction over a run of adjacent dimensions is one kernel call on the tensor seen as
// (outer, R, inner); dimensions that are not adjacent are reduced one run at a time, last
// first, so no transposing copy is ever needed.
#include "ops/reduce.h"

#include <algorithm>
#include <numeric>

#include "autograd/dispatch.h"
#include "autograd/graph.h"
#include "ops/check.h"
#include "ops/cpu/reduce.h"
#include "ops/elementwise.h"
#include "ops/shape.h"

namespace bertlab {

// sorted, unique, non-negative; empty means every dimension
static std::vector<int64_t> norm_dims(const char* op, std::vector<int64_t> dims, int64_t ndim) {
  if (dims.empty()) {
    dims.resize(ndim);
    std::iota(dims.begin(), dims.end(), 0);
    return dims;
  }
  for (auto& d : dims) d = wrap_dim(op, d, ndim);
  std::sort(dims.begin(), dims.end());
  if (std::adjacent_find(dims.begin(), dims.end()) != dims.end())
    fail(std::string(op) + ": a dimension is repeated in the list of dimensions to reduce");
  return dims;
}

static Shape reduced_shape(const Shape& s, const std::vector<int64_t>& dims, bool keepdim) {
  Shape out;
  for (int64_t i = 0; i < (int64_t)s.size(); ++i) {
    bool r = std::binary_search(dims.begin(), dims.end(), i);
    if (!r) out.push_back(s[i]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

// Reduces dims [d0, d1) of dense x in one call; the result keeps them as size 1.
static Tensor reduce_block(ReduceOp op, const Tensor& x, int64_t d0, int64_t d1, Tensor* idx) {
  const Shape& s = x.shape();
  int64_t outer = 1, R = 1, inner = 1;
  for (int64_t i = 0; i < d0; ++i) outer *= s[i];
  for (int64_t i = d0; i < d1; ++i) R *= s[i];
  for (int64_t i = d1; i < (int64_t)s.size(); ++i) inner *= s[i];
  Shape out_shape = s;
  for (int64_t i = d0; i < d1; ++i) out_shape[i] = 1;
  Tensor y = empty(out_shape, x.dtype(), x.device());
  int64_t* ip = nullptr;
  if (idx) {
    *idx = empty(out_shape, DType::Int64, x.device());
    ip = idx->data<int64_t>();
  }
  if (R == 0) {
    if (op == ReduceOp::Max) fail("max: cannot reduce an empty dimension (shape " + shape_str(s) + ")");
    fill_(y, 0.0);
    return y;
  }
  switch (x.device()) {
    case Device::CPU: cpu::reduce(op, x.dtype(), outer, R, inner, x.raw_data(), y.raw_data(), ip); break;
    case Device::CUDA: cuda::reduce(op, x.dtype(), outer, R, inner, x.raw_data(), y.raw_data(), ip); break;
  }
  return y;
}

// Runs of adjacent dimensions in a sorted list: {0,1,3} -> {[0,2), [3,4)}
static std::vector<std::pair<int64_t, int64_t>> runs(const std::vector<int64_t>& dims) {
  std::vector<std::pair<int64_t, int64_t>> r;
  for (int64_t d : dims) {
    if (!r.empty() && r.back().second == d) r.back().second = d + 1;
    else r.push_back({d, d + 1});
  }
  return r;
}

Tensor sum(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  check_defined("sum", x);
  dims = norm_dims("sum", std::move(dims), x.dim());
  Tensor y = x.contiguous();
  auto rs = runs(dims);
  for (auto it = rs.rbegin(); it != rs.rend(); ++it) y = reduce_block(ReduceOp::Sum, y, it->first, it->second, nullptr);
  Shape out = reduced_shape(x.shape(), dims, keepdim);
  y = make_view(y, out, contiguous_strides(out), y.offset());
  Shape kept = reduced_shape(x.shape(), dims, true);
  return record("sum", y, {x}, [xs = x.shape(), kept](const Tensor& dy, Grads& g) {
    g.add(0, expand(reshape(dy, kept), xs));
  });
}

Tensor mean(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  check_float("mean", x);
  auto nd = norm_dims("mean", dims, x.dim());
  int64_t count = 1;
  for (int64_t d : nd) count *= x.shape()[d];
  if (count == 0) fail("mean: reducing over an empty set of elements (shape " + shape_str(x.shape()) + ")");
  return mul(sum(x, nd, keepdim), 1.0 / (double)count);
}

Tensor max(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  check_defined("max", x);
  dims = norm_dims("max", std::move(dims), x.dim());
  if (runs(dims).size() > 1)
    fail("max: the dimensions to reduce must be adjacent (got " + shape_str(Shape(dims.begin(), dims.end())) +
         "); reduce one dimension at a time");
  Tensor xc = x.contiguous();
  Tensor idx;
  int64_t d0 = dims.empty() ? 0 : dims.front(), d1 = dims.empty() ? 0 : dims.back() + 1;
  Tensor y = dims.empty() ? xc.clone() : reduce_block(ReduceOp::Max, xc, d0, d1, &idx);
  Shape out = reduced_shape(x.shape(), dims, keepdim);
  y = make_view(y, out, contiguous_strides(out), y.offset());
  return record("max", y, {x}, [xs = x.shape(), idx, d0, d1](const Tensor& dy, Grads& g) {
    if (!idx.defined()) {
      g.add(0, reshape(dy, xs));
      return;
    }
    int64_t outer = 1, R = 1, inner = 1;
    for (int64_t i = 0; i < d0; ++i) outer *= xs[i];
    for (int64_t i = d0; i < d1; ++i) R *= xs[i];
    for (int64_t i = d1; i < (int64_t)xs.size(); ++i) inner *= xs[i];
    Tensor dyc = dy.contiguous();
    Tensor dx = zeros(xs, dy.dtype(), dy.device());
    switch (dx.device()) {
      case Device::CPU: cpu::reduce_max_backward(dx.dtype(), outer, R, inner, dyc.raw_data(), idx.data<int64_t>(), dx.raw_data()); break;
      case Device::CUDA: cuda::reduce_max_backward(dx.dtype(), outer, R, inner, dyc.raw_data(), idx.data<int64_t>(), dx.raw_data()); break;
    }
    g.add(0, dx);
  });
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const int64_t lead = g.dim() - (int64_t)shape.size();
  if (lead < 0)
    fail("sum_to: cannot reduce " + shape_str(g.shape()) + " to the larger shape " + shape_str(shape));
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < g.dim(); ++i) {
    if (i < lead) dims.push_back(i);
    else if (shape[i - lead] == 1 && g.shape()[i] != 1) dims.push_back(i);
    else if (shape[i - lead] != g.shape()[i])
      fail("sum_to: " + shape_str(g.shape()) + " does not broadcast from " + shape_str(shape));
  }
  if (dims.empty()) return reshape(g, shape);
  return reshape(sum(g, dims, true), shape);
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  check_defined("argmax", x);
  int64_t d = wrap_dim("argmax", dim, x.dim());
  if (x.dim() == 0) return zeros({}, DType::Int64, x.device());
  NoGradGuard ng;
  Tensor idx;
  reduce_block(ReduceOp::Max, x.contiguous(), d, d + 1, &idx);
  Shape out = reduced_shape(x.shape(), {d}, keepdim);
  return make_view(idx, out, contiguous_strides(out), idx.offset());
}

TopK topk(const Tensor& x, int64_t k) {
  check_min_dim("topk", x, 1);
  const int64_t n = x.size(-1);
  if (k < 0 || k > n)
    fail("topk: k = " + std::to_string(k) + " is out of range for a last dimension of " + std::to_string(n));
  Tensor xc = x.to(Device::CPU).contiguous();
  Shape out_shape = x.shape();
  out_shape.back() = k;
  TopK r{empty(out_shape, x.dtype()), empty(out_shape, DType::Int64)};
  const int64_t rows = n == 0 ? 0 : xc.numel() / n;
  dispatch_all(x.dtype(), "topk", [&](auto tag) {
    using T = decltype(tag);
    const T* p = xc.data<T>();
    T* v = r.values.data<T>();
    int64_t* ix = r.indices.data<int64_t>();
    std::vector<int64_t> order(n);
    for (int64_t row = 0; row < rows; ++row) {
      const T* rp = p + row * n;
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
        return rp[a] > rp[b] || (rp[a] == rp[b] && a < b);
      });
      for (int64_t j = 0; j < k; ++j) {
        v[row * k + j] = rp[order[j]];
        ix[row * k + j] = order[j];
      }
    }
  });
  r.values = r.values.to(x.device());
  r.indices = r.indices.to(x.device());
  return r;
}

}  // namespace bertlab
