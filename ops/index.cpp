// ops/index.cpp — checks, the device switch and the autograd records of index_select, gather
// and where; masked_fill is where() with a scalar. Kernels: ops/cpu/index.cpp, cuda/index.cu.
#include "ops/index.h"

#include "autograd/graph.h"
#include "cuda/index.h"
#include "ops/check.h"
#include "ops/check_index.h"
#include "ops/cpu/index.h"
#include "ops/reduce.h"

namespace bertlab {

// ---------------------------------------------------------------------------------------
// index_select: x seen as (outer, D, inner) around dim

struct Around {
  int64_t outer = 1, D = 1, inner = 1;
};
static Around around(const Shape& s, int64_t d) {
  Around a;
  for (int64_t i = 0; i < d; ++i) a.outer *= s[i];
  a.D = s.empty() ? 1 : s[d];
  for (int64_t i = d + 1; i < (int64_t)s.size(); ++i) a.inner *= s[i];
  return a;
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  check_defined("index_select", x);
  check_min_dim("index_select", x, 1);
  check_dtype("index_select", index, DType::Int64, "index");
  check_dim("index_select", index, 1, "index");
  check_same_device("index_select", x, index);
  const int64_t d = wrap_dim("index_select", dim, x.dim());
  const Around a = around(x.shape(), d);
  check_index(index, a.D, std::nullopt, [d, D = a.D, xs = x.shape()](const BadIndex& bad) {
    return "index_select: index " + std::to_string(bad.value) + " at position " + bad.position +
           " is out of range for dimension " + std::to_string(d) + " of size " + std::to_string(D) + " (input " +
           shape_str(xs) + ")";
  });
  const int64_t n = index.numel();
  Tensor xc = x.detach().contiguous(), ic = index.contiguous();
  Shape out_shape = x.shape();
  out_shape[d] = n;
  Tensor y = empty(out_shape, x.dtype(), x.device());
  switch (x.device()) {
    case Device::CPU: cpu::index_select_forward(x.dtype(), y.raw_data(), xc.raw_data(), ic.data<int64_t>(), a.outer, a.D, n, a.inner); break;
    case Device::CUDA: cuda::index_select_forward(x.dtype(), y.raw_data(), xc.raw_data(), ic.data<int64_t>(), a.outer, a.D, n, a.inner); break;
  }
  return record("index_select", y, {x}, [ic, a, n, xs = x.shape()](const Tensor& dy, Grads& g) {
    Tensor d = dy.contiguous();
    Tensor dx = empty(xs, d.dtype(), d.device());
    switch (d.device()) {
      case Device::CPU: cpu::index_select_backward(d.dtype(), dx.raw_data(), d.raw_data(), ic.data<int64_t>(), a.outer, a.D, n, a.inner); break;
      case Device::CUDA: cuda::index_select_backward(d.dtype(), dx.raw_data(), d.raw_data(), ic.data<int64_t>(), a.outer, a.D, n, a.inner); break;
    }
    g.add(0, dx);
  });
}

// ---------------------------------------------------------------------------------------
// gather

// layouts for the kernels: li = index's shape; lx = x's (dense) strides and x's size along dim
static void gather_layouts(const Shape& xs, const Shape& is, Layout& lx, Layout& li) {
  const Shape xst = contiguous_strides(xs);
  lx.ndim = li.ndim = (int)is.size();
  for (size_t k = 0; k < is.size(); ++k) {
    li.shape[k] = is[k];
    lx.shape[k] = xs[k];
    lx.strides[k] = xst[k];
  }
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  check_defined("gather", x);
  check_min_dim("gather", x, 1);
  check_dtype("gather", index, DType::Int64, "index");
  check_same_device("gather", x, index);
  const int64_t d = wrap_dim("gather", dim, x.dim());
  if (x.dim() > kMaxDims) fail("gather: at most " + std::to_string(kMaxDims) + " dimensions, got " + describe(x));
  bool ok = index.dim() == x.dim();
  for (int64_t k = 0; ok && k < x.dim(); ++k)
    if (k != d && index.size(k) > x.size(k)) ok = false;
  if (!ok)
    fail("gather: index " + shape_str(index.shape()) + " does not fit input " + shape_str(x.shape()) + " along dim " +
         std::to_string(d) + " (same number of dimensions, and no larger outside dim)");
  check_index(index, x.size(d), std::nullopt, [d, D = x.size(d), xs = x.shape()](const BadIndex& bad) {
    return "gather: index " + std::to_string(bad.value) + " at position " + bad.position +
           " is out of range for dimension " + std::to_string(d) + " of size " + std::to_string(D) + " (input " +
           shape_str(xs) + ")";
  });
  Tensor xc = x.detach().contiguous(), ic = index.contiguous();
  Layout lx, li;
  gather_layouts(x.shape(), index.shape(), lx, li);
  Tensor y = empty(index.shape(), x.dtype(), x.device());
  if (y.numel() > 0) {
    switch (x.device()) {
      case Device::CPU: cpu::gather_forward(x.dtype(), y.raw_data(), xc.raw_data(), lx, ic.data<int64_t>(), li, (int)d); break;
      case Device::CUDA: cuda::gather_forward(x.dtype(), y.raw_data(), xc.raw_data(), lx, ic.data<int64_t>(), li, (int)d); break;
    }
  }
  return record("gather", y, {x}, [ic, lx, li, d, xs = x.shape()](const Tensor& dy, Grads& g) {
    Tensor dc = dy.contiguous();
    Tensor dx = zeros(xs, dc.dtype(), dc.device());
    if (dc.numel() > 0) {
      switch (dc.device()) {
        case Device::CPU: cpu::gather_backward(dc.dtype(), dx.raw_data(), lx, dc.raw_data(), ic.data<int64_t>(), li, (int)d); break;
        case Device::CUDA: cuda::gather_backward(dc.dtype(), dx.raw_data(), lx, dc.raw_data(), ic.data<int64_t>(), li, (int)d); break;
      }
    }
    g.add(0, dx);
  });
}

// ---------------------------------------------------------------------------------------
// where / masked_fill

// y = cond ? a : b over the broadcast shape (no history); cond is converted to a's dtype
static Tensor where_kernel(const Tensor& cond, const Tensor& a, const Tensor& b) {
  Tensor c = cond.to(a.dtype());
  Shape shape = broadcast_shapes("where", broadcast_shapes("where", c.shape(), a.shape()), b.shape());
  if ((int64_t)shape.size() > kMaxDims) fail("where: at most " + std::to_string(kMaxDims) + " dimensions, got " + shape_str(shape));
  Tensor y = empty(shape, a.dtype(), a.device());
  Layout ly = layout_of(y), lc = ly, la = ly, lb = ly;
  Shape sc = broadcast_strides(c, shape), sa = broadcast_strides(a, shape), sb = broadcast_strides(b, shape);
  for (int i = 0; i < ly.ndim; ++i) {
    lc.strides[i] = sc[i];
    la.strides[i] = sa[i];
    lb.strides[i] = sb[i];
  }
  switch (y.device()) {
    case Device::CPU: cpu::where(y.dtype(), ly, y.raw_data(), c.raw_data(), lc, a.raw_data(), la, b.raw_data(), lb); break;
    case Device::CUDA: cuda::where(y.dtype(), ly, y.raw_data(), c.raw_data(), lc, a.raw_data(), la, b.raw_data(), lb); break;
  }
  return y;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined("where", cond, "condition");
  check_defined("where", a, "first value");
  check_defined("where", b, "second value");
  check_same_device("where", cond, a);
  check_same_device("where", a, b);
  check_same_dtype("where", a, b);
  Tensor y = where_kernel(cond, a.detach(), b.detach());
  return record("where", y, {a, b}, [c = cond.detach(), sa = a.shape(), sb = b.shape()](const Tensor& dy, Grads& g) {
    Tensor zero = zeros({}, dy.dtype(), dy.device());
    if (g.needs(0)) g.add(0, sum_to(where_kernel(c, dy, zero), sa));  // cond ? dy : 0
    if (g.needs(1)) g.add(1, sum_to(where_kernel(c, zero, dy), sb));  // cond ? 0 : dy
  });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  check_defined("masked_fill", x);
  check_defined("masked_fill", mask, "mask");
  check_same_device("masked_fill", x, mask);
  if (broadcast_shapes("masked_fill", mask.shape(), x.shape()) != x.shape())
    fail("masked_fill: mask " + shape_str(mask.shape()) + " does not broadcast to input " + shape_str(x.shape()));
  return where(mask, full({}, value, x.dtype(), x.device()), x);
}

}  // namespace bertlab
