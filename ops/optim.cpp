// ops/optim.cpp — checks and the device switch for the optimizer kernels.
#include "ops/optim.h"

#include <cmath>

#include "cuda/cuda.h"
#include "cuda/optim.h"
#include "ops/check.h"
#include "ops/cpu/optim.h"

namespace bertlab {

void adamw_step_(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, double lr, double beta1,
                 double beta2, double eps, double weight_decay, int64_t step) {
  for (const Tensor* t : {&g, &m, &v}) {
    check_same_device("adamw", p, *t);
    check_same_dtype("adamw", p, *t);
    if (t->shape() != p.shape())
      fail("adamw: parameter " + shape_str(p.shape()) + " and its state " + shape_str(t->shape()) + " differ in shape");
  }
  if (!p.is_contiguous() || !m.is_contiguous() || !v.is_contiguous())
    fail("adamw: parameters and moments must be dense");
  if (step < 1) fail("adamw: step counts from 1, got " + std::to_string(step));
  Tensor gc = g.contiguous();
  const double bc1 = 1.0 - std::pow(beta1, (double)step), bc2 = 1.0 - std::pow(beta2, (double)step);
  switch (p.device()) {
    case Device::CPU:
      cpu::adamw_step(p.dtype(), p.numel(), p.raw_data(), gc.raw_data(), m.raw_data(), v.raw_data(), lr, beta1, beta2,
                      eps, weight_decay, bc1, bc2);
      break;
    case Device::CUDA:
      cuda::adamw_step(p.dtype(), p.numel(), p.raw_data(), gc.raw_data(), m.raw_data(), v.raw_data(), lr, beta1,
                       beta2, eps, weight_decay, bc1, bc2);
      break;
  }
}

double global_norm(const std::vector<Tensor>& xs) {
  double total = 0;
  std::vector<Tensor> parts;  // on the GPU: one double per tensor, summed on the host at the end
  for (const Tensor& x : xs) {
    if (!x.defined()) continue;
    check_float("global_norm", x);
    Tensor c = x.contiguous();
    if (c.device() == Device::CPU) {
      total += cpu::sum_squares(c.dtype(), c.numel(), c.raw_data());
    } else {
      Tensor out = empty({1}, DType::Float64, Device::CUDA);
      cuda::sum_squares(c.dtype(), c.numel(), c.raw_data(), out.data<double>());
      parts.push_back(out);
    }
  }
  for (const Tensor& p : parts) total += p.item();
  return std::sqrt(total);
}

}  // namespace bertlab
