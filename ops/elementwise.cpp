// ops/elementwise.cpp — checks, the device switch and the autograd record of the
// elementwise ops. The arithmetic itself is in ops/cpu/elementwise.cpp and
// cuda/elementwise.cu, from the shared formulas in cuda/elementwise_math.h.
#include "ops/elementwise.h"

#include <cmath>
#include <string>

#include "autograd/graph.h"
#include "cuda/elementwise.h"
#include "ops/check.h"
#include "ops/cpu/elementwise.h"
#include "ops/reduce.h"

namespace bertlab {

// ---------------------------------------------------------------------------------------
// kernels behind one switch on the device

static Tensor unary_kernel(const char* name, UnaryOp op, const Tensor& x, double alpha = 0) {
  check_float(name, x);
  Tensor xc = x.contiguous();
  Tensor y = empty(xc.shape(), xc.dtype(), xc.device());
  switch (xc.device()) {
    case Device::CPU: cpu::unary(op, xc.dtype(), xc.numel(), xc.raw_data(), y.raw_data(), alpha); break;
    case Device::CUDA: cuda::unary(op, xc.dtype(), xc.numel(), xc.raw_data(), y.raw_data(), alpha); break;
  }
  return y;
}

// dx = g(dy, v): v is the saved input or output of the op
static Tensor unary_back_kernel(UnaryBackOp op, const Tensor& dy, const Tensor& v, double alpha = 0) {
  Tensor d = dy.contiguous(), vc = v.contiguous();
  Tensor dx = empty(vc.shape(), vc.dtype(), vc.device());
  switch (vc.device()) {
    case Device::CPU: cpu::unary_backward(op, vc.dtype(), vc.numel(), d.raw_data(), vc.raw_data(), dx.raw_data(), alpha); break;
    case Device::CUDA: cuda::unary_backward(op, vc.dtype(), vc.numel(), d.raw_data(), vc.raw_data(), dx.raw_data(), alpha); break;
  }
  return dx;
}

static Tensor binary_kernel(const char* name, BinaryOp op, const Tensor& a, const Tensor& b,
                            bool allow_int = false) {
  check_defined(name, a, "first operand");
  check_defined(name, b, "second operand");
  check_same_device(name, a, b);
  check_same_dtype(name, a, b);
  if (!allow_int) check_float(name, a, "first operand");
  Shape shape = broadcast_shapes(name, a.shape(), b.shape());
  Tensor y = empty(shape, a.dtype(), a.device());
  Layout ly = layout_of(y), la = ly, lb = ly;
  Shape sa = broadcast_strides(a, shape), sb = broadcast_strides(b, shape);
  for (int i = 0; i < ly.ndim; ++i) {
    la.strides[i] = sa[i];
    lb.strides[i] = sb[i];
  }
  switch (y.device()) {
    case Device::CPU: cpu::binary(op, y.dtype(), ly, y.raw_data(), a.raw_data(), la, b.raw_data(), lb); break;
    case Device::CUDA: cuda::binary(op, y.dtype(), ly, y.raw_data(), a.raw_data(), la, b.raw_data(), lb); break;
  }
  return y;
}

// ---------------------------------------------------------------------------------------
// binary ops with broadcasting

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = binary_kernel("add", BinaryOp::Add, a, b, true);
  return record("add", y, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& dy, Grads& g) {
    if (g.needs(0)) g.add(0, sum_to(dy, sa));
    if (g.needs(1)) g.add(1, sum_to(dy, sb));
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = binary_kernel("sub", BinaryOp::Sub, a, b, true);
  return record("sub", y, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& dy, Grads& g) {
    if (g.needs(0)) g.add(0, sum_to(dy, sa));
    if (g.needs(1)) g.add(1, sum_to(neg(dy), sb));
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = binary_kernel("mul", BinaryOp::Mul, a, b, true);
  return record("mul", y, {a, b}, [a = a.detach(), b = b.detach()](const Tensor& dy, Grads& g) {
    if (g.needs(0)) g.add(0, sum_to(mul(dy, b), a.shape()));  // d(ab)/da = b
    if (g.needs(1)) g.add(1, sum_to(mul(dy, a), b.shape()));  // d(ab)/db = a
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = binary_kernel("div", BinaryOp::Div, a, b);
  return record("div", y, {a, b}, [a = a.detach(), b = b.detach()](const Tensor& dy, Grads& g) {
    if (g.needs(0)) g.add(0, sum_to(div(dy, b), a.shape()));                    // 1/b
    if (g.needs(1)) g.add(1, sum_to(neg(div(mul(dy, a), mul(b, b))), b.shape()));  // -a/b^2
  });
}

Tensor gt(const Tensor& a, const Tensor& b) { return binary_kernel("gt", BinaryOp::Gt, a, b, true); }
Tensor eq(const Tensor& a, const Tensor& b) { return binary_kernel("eq", BinaryOp::Eq, a, b, true); }

// da = dy ([a wins] + 0.5 [a == b]), db = dy - da; `a_wins` is gt(a, b) for maximum and
// gt(b, a) for minimum. Both masks are in the output's (broadcast) shape.
static void min_max_backward(const Tensor& dy, const Tensor& a_wins, const Tensor& tie, const Shape& sa,
                             const Shape& sb, Grads& g) {
  Tensor wa = add(a_wins, mul(tie, 0.5));  // 1, 1/2 or 0
  Tensor da = mul(dy, wa);
  if (g.needs(0)) g.add(0, sum_to(da, sa));
  if (g.needs(1)) g.add(1, sum_to(sub(dy, da), sb));
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor y = binary_kernel("maximum", BinaryOp::Maximum, a, b, true);
  return record("maximum", y, {a, b}, [a = a.detach(), b = b.detach()](const Tensor& dy, Grads& g) {
    min_max_backward(dy, gt(a, b), eq(a, b), a.shape(), b.shape(), g);
  });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor y = binary_kernel("minimum", BinaryOp::Minimum, a, b, true);
  return record("minimum", y, {a, b}, [a = a.detach(), b = b.detach()](const Tensor& dy, Grads& g) {
    min_max_backward(dy, gt(b, a), eq(a, b), a.shape(), b.shape(), g);
  });
}

// Forward: max with a 0-d tensor holding lo, then min with one holding hi (the binary kernels
// broadcast them with stride 0, on any device and dtype). Backward: the mask of lo <= x <= hi,
// written 1 - [lo > x] and 1 - [x > hi] from the comparison we have.
Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  check_defined("clamp", x);
  if (!lo && !hi) fail("clamp: give at least one of min and max");
  if ((lo && std::isnan(*lo)) || (hi && std::isnan(*hi))) fail("clamp: a bound is NaN");
  if (lo && hi && !(*lo <= *hi))
    fail("clamp: min " + std::to_string(*lo) + " is greater than max " + std::to_string(*hi));
  Tensor lo_t = lo ? full({}, *lo, x.dtype(), x.device()) : Tensor();
  Tensor hi_t = hi ? full({}, *hi, x.dtype(), x.device()) : Tensor();
  Tensor y = x;
  if (lo) y = binary_kernel("clamp", BinaryOp::Maximum, y, lo_t, true);
  if (hi) y = binary_kernel("clamp", BinaryOp::Minimum, y, hi_t, true);
  return record("clamp", y, {x}, [x = x.detach(), lo_t, hi_t](const Tensor& dy, Grads& g) {
    Tensor dx = dy;
    if (lo_t.defined()) dx = mul(dx, rsub(1.0, gt(lo_t, x)));  // [lo <= x]
    if (hi_t.defined()) dx = mul(dx, rsub(1.0, gt(x, hi_t)));  // [x <= hi]
    g.add(0, dx);
  });
}

// ---------------------------------------------------------------------------------------
// with a scalar

Tensor add(const Tensor& x, double s) {
  Tensor y = unary_kernel("add", UnaryOp::AddScalar, x, s);
  return record("add_scalar", y, {x}, [](const Tensor& dy, Grads& g) { g.add(0, dy); });
}
Tensor mul(const Tensor& x, double s) {
  Tensor y = unary_kernel("mul", UnaryOp::MulScalar, x, s);
  return record("mul_scalar", y, {x}, [s](const Tensor& dy, Grads& g) { g.add(0, mul(dy, s)); });
}
Tensor rsub(double s, const Tensor& x) {
  Tensor y = unary_kernel("rsub", UnaryOp::RSubScalar, x, s);
  return record("rsub_scalar", y, {x}, [](const Tensor& dy, Grads& g) { g.add(0, neg(dy)); });
}
Tensor rdiv(double s, const Tensor& x) {
  Tensor y = unary_kernel("rdiv", UnaryOp::RDivScalar, x, s);
  return record("rdiv_scalar", y, {x}, [s, x = x.detach()](const Tensor& dy, Grads& g) {
    g.add(0, unary_back_kernel(UnaryBackOp::RDivBack, dy, x, s));  // -s/x^2
  });
}

// ---------------------------------------------------------------------------------------
// pointwise functions

Tensor neg(const Tensor& x) {
  Tensor y = unary_kernel("neg", UnaryOp::Neg, x);
  return record("neg", y, {x}, [](const Tensor& dy, Grads& g) { g.add(0, neg(dy)); });
}
Tensor exp(const Tensor& x) {
  Tensor y = unary_kernel("exp", UnaryOp::Exp, x);
  return record("exp", y, {x}, [y = y.detach()](const Tensor& dy, Grads& g) {
    g.add(0, unary_back_kernel(UnaryBackOp::ExpBack, dy, y));
  });
}
Tensor log(const Tensor& x) {
  Tensor y = unary_kernel("log", UnaryOp::Log, x);
  return record("log", y, {x}, [x = x.detach()](const Tensor& dy, Grads& g) {
    g.add(0, unary_back_kernel(UnaryBackOp::LogBack, dy, x));
  });
}
Tensor sqrt(const Tensor& x) {
  Tensor y = unary_kernel("sqrt", UnaryOp::Sqrt, x);
  return record("sqrt", y, {x}, [y = y.detach()](const Tensor& dy, Grads& g) {
    g.add(0, unary_back_kernel(UnaryBackOp::SqrtBack, dy, y));
  });
}
Tensor pow(const Tensor& x, double p) {
  Tensor y = unary_kernel("pow", UnaryOp::Pow, x, p);
  return record("pow", y, {x}, [x = x.detach(), p](const Tensor& dy, Grads& g) {
    g.add(0, unary_back_kernel(UnaryBackOp::PowBack, dy, x, p));
  });
}
Tensor tanh(const Tensor& x) {
  Tensor y = unary_kernel("tanh", UnaryOp::Tanh, x);
  return record("tanh", y, {x}, [y = y.detach()](const Tensor& dy, Grads& g) {
    g.add(0, unary_back_kernel(UnaryBackOp::TanhBack, dy, y));
  });
}
Tensor sigmoid(const Tensor& x) {
  Tensor y = unary_kernel("sigmoid", UnaryOp::Sigmoid, x);
  return record("sigmoid", y, {x}, [y = y.detach()](const Tensor& dy, Grads& g) {
    g.add(0, unary_back_kernel(UnaryBackOp::SigmoidBack, dy, y));
  });
}
Tensor relu(const Tensor& x) {
  Tensor y = unary_kernel("relu", UnaryOp::Relu, x);
  return record("relu", y, {x}, [x = x.detach()](const Tensor& dy, Grads& g) {
    g.add(0, unary_back_kernel(UnaryBackOp::ReluBack, dy, x));
  });
}
Tensor gelu(const Tensor& x, GeluApprox approx) {
  const bool t = approx == GeluApprox::Tanh;
  Tensor y = unary_kernel("gelu", t ? UnaryOp::GeluTanh : UnaryOp::GeluErf, x);
  return record(t ? "gelu_tanh" : "gelu", y, {x}, [x = x.detach(), t](const Tensor& dy, Grads& g) {
    g.add(0, unary_back_kernel(t ? UnaryBackOp::GeluTanhBack : UnaryBackOp::GeluErfBack, dy, x));
  });
}

// ---------------------------------------------------------------------------------------
// in place, no history

void add_(const Tensor& x, const Tensor& y, double alpha) {
  bump_version(x);
  check_same_device("add_", x, y);
  check_same_dtype("add_", x, y);
  if (x.requires_grad() && grad_enabled() && x.is_leaf())
    fail("add_: in-place update of a leaf that requires grad; use NoGradGuard");
  Tensor src = alpha == 1.0 ? y : unary_kernel("add_", UnaryOp::MulScalar, y, alpha);
  Shape shape = broadcast_shapes("add_", x.shape(), src.shape());
  if (shape != x.shape())
    fail("add_: " + shape_str(src.shape()) + " does not broadcast to the destination " +
         shape_str(x.shape()));
  Layout lx = layout_of(x), ls = lx;
  Shape ss = broadcast_strides(src, shape);
  for (int i = 0; i < ls.ndim; ++i) ls.strides[i] = ss[i];
  switch (x.device()) {
    case Device::CPU: cpu::binary(BinaryOp::Add, x.dtype(), lx, x.raw_data(), x.raw_data(), lx, src.raw_data(), ls); break;
    case Device::CUDA: cuda::binary(BinaryOp::Add, x.dtype(), lx, x.raw_data(), x.raw_data(), lx, src.raw_data(), ls); break;
  }
}

void mul_(const Tensor& x, double s) {
  bump_version(x);
  if (x.requires_grad() && grad_enabled() && x.is_leaf())
    fail("mul_: in-place update of a leaf that requires grad; use NoGradGuard");
  Tensor c = scalar_tensor(s, x.dtype(), x.device());
  Layout lx = layout_of(x), lc = lx;
  for (int i = 0; i < lc.ndim; ++i) lc.strides[i] = 0;
  switch (x.device()) {
    case Device::CPU: cpu::binary(BinaryOp::Mul, x.dtype(), lx, x.raw_data(), x.raw_data(), lx, c.raw_data(), lc); break;
    case Device::CUDA: cuda::binary(BinaryOp::Mul, x.dtype(), lx, x.raw_data(), x.raw_data(), lx, c.raw_data(), lc); break;
  }
}

}  // namespace bertlab
