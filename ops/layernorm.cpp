// ops/layernorm.cpp — checks, the device switch and the autograd record of layer_norm. The
// fused kernels (ops/cpu/layernorm.cpp, cuda/layernorm.cu) follow llm.c: the forward saves
// mean and rstd per row, the backward computes dx, dweight and dbias in one pass.
#include "ops/layernorm.h"

#include "autograd/graph.h"
#include "cuda/layernorm.h"
#include "ops/check.h"
#include "ops/cpu/layernorm.h"

namespace bertlab {

static void check_param(const Tensor& x, const Tensor& p, const char* what) {
  if (!p.defined()) return;
  check_same_device("layer_norm", x, p);
  check_same_dtype("layer_norm", x, p);
  if (p.dim() != 1 || p.size(0) != x.size(-1))
    fail(std::string("layer_norm: ") + what + " " + shape_str(p.shape()) + " does not match the last dimension of input " +
         shape_str(x.shape()) + " (expected [" + std::to_string(x.size(-1)) + "])");
}

static const void* data_or_null(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  check_float("layer_norm", x);
  check_min_dim("layer_norm", x, 1);
  check_param(x, weight, "weight");
  check_param(x, bias, "bias");
  if (!(eps >= 0)) fail("layer_norm: eps must be >= 0, got " + std::to_string(eps));
  const int64_t C = x.size(-1), N = C == 0 ? 0 : x.numel() / C;
  Tensor xc = x.detach().contiguous();
  Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
  Tensor y = empty(x.shape(), x.dtype(), x.device());
  Tensor mean = empty({N}, x.dtype(), x.device()), rstd = empty({N}, x.dtype(), x.device());
  switch (x.device()) {
    case Device::CPU:
      cpu::layernorm_forward(x.dtype(), y.raw_data(), mean.raw_data(), rstd.raw_data(), xc.raw_data(), data_or_null(w),
                             data_or_null(b), N, C, eps);
      break;
    case Device::CUDA:
      cuda::layernorm_forward(x.dtype(), y.raw_data(), mean.raw_data(), rstd.raw_data(), xc.raw_data(), data_or_null(w),
                              data_or_null(b), N, C, eps);
      break;
  }
  return record("layer_norm", y, {x, weight, bias}, [xc, w, mean, rstd, N, C](const Tensor& dy, Grads& g) {
    Tensor d = dy.contiguous();
    Tensor dx = g.needs(0) ? empty(xc.shape(), xc.dtype(), xc.device()) : Tensor();
    Tensor dw = g.needs(1) ? empty({C}, xc.dtype(), xc.device()) : Tensor();
    Tensor db = g.needs(2) ? empty({C}, xc.dtype(), xc.device()) : Tensor();
    void *pdx = dx.defined() ? dx.raw_data() : nullptr, *pdw = dw.defined() ? dw.raw_data() : nullptr,
         *pdb = db.defined() ? db.raw_data() : nullptr;
    switch (xc.device()) {
      case Device::CPU:
        cpu::layernorm_backward(xc.dtype(), pdx, pdw, pdb, d.raw_data(), xc.raw_data(), data_or_null(w),
                                mean.raw_data(), rstd.raw_data(), N, C);
        break;
      case Device::CUDA:
        cuda::layernorm_backward(xc.dtype(), pdx, pdw, pdb, d.raw_data(), xc.raw_data(), data_or_null(w),
                                 mean.raw_data(), rstd.raw_data(), N, C);
        break;
    }
    g.add(0, dx);  // undefined gradients are skipped
    g.add(1, dw);
    g.add(2, db);
  });
}

}  // namespace bertlab
