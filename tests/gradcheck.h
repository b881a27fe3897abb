// tests/gradcheck.h — float64 central-difference gradient checks and tolerance compares.
//
// gradcheck(f, inputs) checks the vector-Jacobian product that backward computes against
// finite differences: with a fixed random weighting w of the output, L(x) = sum(w * f(x)),
// every element x_j of every floating input that requires grad is nudged by +-eps and
//   dL/dx_j ~= (L(x + eps e_j) - L(x - eps e_j)) / (2 eps)
// is compared with the analytic gradient: |analytic - numeric| <= atol + rtol |numeric|,
// PyTorch's gradcheck tolerances (eps 1e-6, atol 1e-5, rtol 1e-3). On failure the message
// names the input, the worst element and both values.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace bertlab::testing {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  uint64_t seed = 1234;
};

struct GradcheckResult {
  bool ok = true;
  std::string message;          // empty when ok
  std::set<std::string> ops;    // names of the graph nodes the function recorded
};

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

GradcheckResult gradcheck(const Fn& f, const std::vector<Tensor>& inputs, GradcheckOptions opt = {});

// |got - ref| <= atol + rtol |ref| elementwise (shapes must match); the message names the
// worst element and its flat index.
struct CloseResult {
  bool ok = true;
  std::string message;
  double max_abs_diff = 0;
};
CloseResult allclose(const Tensor& got, const Tensor& ref, double atol, double rtol);

// Random float64 tensor requiring grad (values in [lo, hi)).
Tensor rand64(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0, bool requires_grad = true);

// Every node name in the graph behind t.
std::set<std::string> graph_ops(const Tensor& t);

}  // namespace bertlab::testing
