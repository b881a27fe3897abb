// ops/optim.cpp — checks and the device switch for the optimizer kernels.
#include "ops/optim.h"

#include <cmath>
#include <limits>
#include <utility>

#include "cuda/cuda.h"
#include "cuda/optim.h"
#include "ops/check.h"
#include "ops/cpu/optim.h"
#include "ops/elementwise.h"

namespace bertlab {

void adamw_step_(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, double lr, double beta1,
                 double beta2, double eps, double weight_decay, int64_t step) {
  bump_version(p);
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

// The defined tensors of xs, checked (floating, one device); dev receives their device.
static std::vector<Tensor> norm_inputs(const std::vector<Tensor>& xs, Device& dev) {
  std::vector<Tensor> out;
  dev = Device::CPU;
  for (const Tensor& x : xs) {
    if (!x.defined()) continue;
    check_float("global_norm", x);
    if (!out.empty()) check_same_device("global_norm", out.front(), x);
    dev = x.device();
    out.push_back(x.contiguous());
  }
  return out;
}

// The GPU path: every tensor's sum of squares into its slot of `parts`, then one block adds
// them up and computes the clipping coefficient. Returns {norm, coef}, 0-dim float64.
static std::pair<Tensor, Tensor> norm_and_coef_cuda(const std::vector<Tensor>& xs, double max_norm) {
  Tensor parts = empty({(int64_t)xs.size()}, DType::Float64, Device::CUDA);
  for (size_t i = 0; i < xs.size(); ++i)
    cuda::sum_squares(xs[i].dtype(), xs[i].numel(), xs[i].raw_data(), parts.data<double>() + i);
  Tensor norm = empty({}, DType::Float64, Device::CUDA), coef = empty({}, DType::Float64, Device::CUDA);
  cuda::clip_coefficient(parts.data<double>(), (int64_t)xs.size(), max_norm, norm.data<double>(), coef.data<double>());
  return {norm, coef};
}

Tensor global_norm_tensor(const std::vector<Tensor>& xs) {
  Device dev;
  std::vector<Tensor> in = norm_inputs(xs, dev);
  if (dev == Device::CPU) return scalar_tensor(global_norm(in), DType::Float64);
  return norm_and_coef_cuda(in, std::numeric_limits<double>::infinity()).first;
}

Tensor clip_by_global_norm_(const std::vector<Tensor>& xs, double max_norm) {
  Device dev;
  std::vector<Tensor> in = norm_inputs(xs, dev);
  if (dev == Device::CPU) {
    const double norm = global_norm(in);
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0)
      for (const Tensor& x : xs)
        if (x.defined()) mul_(x, coef);
    return scalar_tensor(norm, DType::Float64);
  }
  auto [norm, coef] = norm_and_coef_cuda(in, max_norm);
  for (const Tensor& x : xs) {
    if (!x.defined()) continue;
    if (!x.is_contiguous()) fail("clip_by_global_norm_: tensors must be dense, got a strided " + shape_str(x.shape()));
    cuda::scale_by_device_scalar(x.dtype(), x.numel(), x.raw_data(), coef.data<double>());
  }
  return norm;
}

double global_norm(const std::vector<Tensor>& xs) {
  Device dev;
  std::vector<Tensor> in = norm_inputs(xs, dev);
  if (dev == Device::CUDA) return norm_and_coef_cuda(in, std::numeric_limits<double>::infinity()).first.item();
  double total = 0;
  for (const Tensor& c : in) total += cpu::sum_squares(c.dtype(), c.numel(), c.raw_data());
  return std::sqrt(total);
}

}  // namespace bertlab
