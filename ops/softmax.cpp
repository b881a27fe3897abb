// ops/softmax.cpp — checks, the device switch and the autograd record of softmax and
// log_softmax. The kernels (ops/cpu/softmax.cpp, cuda/softmax.cu) work on dense (N,C) rows;
// here a softmax along another dimension is moved to the last one and back.
#include "ops/softmax.h"

#include "autograd/graph.h"
#include "cuda/softmax.h"
#include "ops/check.h"
#include "ops/cpu/softmax.h"
#include "ops/shape.h"

namespace bertlab {

// x with dimension d moved last (a dense copy, or x itself when d is already last and x is dense)
static Tensor dim_last(const Tensor& x, int64_t d) {
  if (x.dim() == 0 || d == x.dim() - 1) return x.contiguous();
  return transpose(x, d, -1).contiguous();
}
// the inverse of dim_last, dense
static Tensor dim_back(const Tensor& y, int64_t d) {
  if (y.dim() == 0 || d == y.dim() - 1) return y;
  return transpose(y, d, -1).contiguous();
}

// y = softmax or log_softmax of x along d (no history)
static Tensor softmax_fwd(const Tensor& x, int64_t d, bool log) {
  Tensor xl = dim_last(x.detach(), d);
  const int64_t C = xl.dim() == 0 ? 1 : xl.size(-1);
  const int64_t N = C == 0 ? 0 : xl.numel() / C;
  Tensor yl = empty(xl.shape(), xl.dtype(), xl.device());
  if (N > 0) {
    switch (xl.device()) {
      case Device::CPU: cpu::softmax_forward(xl.dtype(), yl.raw_data(), xl.raw_data(), N, C, log); break;
      case Device::CUDA: cuda::softmax_forward(xl.dtype(), yl.raw_data(), xl.raw_data(), N, C, log); break;
    }
  }
  return dim_back(yl, d);
}

// dx from dy and the forward's output y, along d
static Tensor softmax_bwd(const Tensor& dy, const Tensor& y, int64_t d, bool log) {
  Tensor gl = dim_last(dy, d), yl = dim_last(y, d);
  const int64_t C = yl.dim() == 0 ? 1 : yl.size(-1);
  const int64_t N = C == 0 ? 0 : yl.numel() / C;
  Tensor dxl = empty(yl.shape(), yl.dtype(), yl.device());
  if (N > 0) {
    switch (yl.device()) {
      case Device::CPU: cpu::softmax_backward(yl.dtype(), dxl.raw_data(), gl.raw_data(), yl.raw_data(), N, C, log); break;
      case Device::CUDA: cuda::softmax_backward(yl.dtype(), dxl.raw_data(), gl.raw_data(), yl.raw_data(), N, C, log); break;
    }
  }
  return dim_back(dxl, d);
}

Tensor softmax(const Tensor& x, int64_t dim) {
  check_float("softmax", x);
  const int64_t d = wrap_dim("softmax", dim, x.dim());
  Tensor y = softmax_fwd(x, d, false);
  return record("softmax", y, {x}, [y = y.detach(), d](const Tensor& dy, Grads& g) {
    g.add(0, softmax_bwd(dy, y, d, false));  // y (dy - sum(dy y))
  });
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  check_float("log_softmax", x);
  const int64_t d = wrap_dim("log_softmax", dim, x.dim());
  Tensor y = softmax_fwd(x, d, true);
  return record("log_softmax", y, {x}, [y = y.detach(), d](const Tensor& dy, Grads& g) {
    g.add(0, softmax_bwd(dy, y, d, true));  // dy - exp(y) sum(dy)
  });
}

}  // namespace bertlab
