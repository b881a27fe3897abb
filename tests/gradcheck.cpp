// tests/gradcheck.cpp — see gradcheck.h.
#include "tests/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <unordered_set>

#include "autograd/graph.h"
#include "ops/ops.h"

namespace bertlab::testing {

std::set<std::string> graph_ops(const Tensor& t) {
  std::set<std::string> names;
  if (!t.defined() || !t.grad_fn()) return names;
  std::vector<Node*> stack{t.grad_fn().get()};
  std::unordered_set<Node*> seen{t.grad_fn().get()};
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    names.insert(n->name);
    for (auto& e : n->inputs)
      if (e.fn && seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
  }
  return names;
}

Tensor rand64(const Shape& shape, uint64_t seed, double lo, double hi, bool requires_grad) {
  Generator g(seed);
  Tensor x = rand(shape, g, lo, hi, DType::Float64);
  if (requires_grad) x.set_requires_grad(true);
  return x;
}

static double weighted_sum(const Tensor& y, const Tensor& w) {
  std::vector<double> a = y.tolist<double>(), b = w.tolist<double>();
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

GradcheckResult gradcheck(const Fn& f, const std::vector<Tensor>& inputs, GradcheckOptions opt) {
  GradcheckResult res;
  for (const auto& x : inputs)
    if (x.defined() && x.requires_grad() && x.dtype() != DType::Float64) {
      res.ok = false;
      res.message = "gradcheck needs float64 inputs";
      return res;
    }
  if (std::none_of(inputs.begin(), inputs.end(), [](const Tensor& x) { return x.defined() && x.requires_grad(); })) {
    res.ok = false;  // a check of nothing would pass whatever backward does
    res.message = "no input requires grad, so nothing was checked";
    return res;
  }
  for (const auto& x : inputs)
    if (x.defined()) x.impl()->grad.reset();

  Tensor y = f(inputs);
  res.ops = graph_ops(y);
  Generator g(opt.seed);
  Tensor w = rand(y.shape(), g, 0.5, 1.5, DType::Float64, y.device());  // a fixed weighting of the output
  if (!y.requires_grad()) {
    res.ok = false;
    res.message = "the output does not require grad";
    return res;
  }
  y.backward(w.to(y.dtype()));

  std::ostringstream msg;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    Tensor analytic = x.grad();
    if (analytic.defined() && analytic.shape() != x.shape()) {
      res.ok = false;
      msg << "input " << k << " " << shape_str(x.shape()) << ": backward gave a gradient of shape "
          << shape_str(analytic.shape()) << "; ";
      continue;
    }
    std::vector<double> an = analytic.defined() ? analytic.tolist<double>() : std::vector<double>(x.numel(), 0.0);
    // perturb through a dense host copy that the function sees as the same leaf
    bool bad = false;
    double worst = -INFINITY;  // the largest excess over the tolerance; a NaN counts as +inf
    int64_t worst_i = -1;
    double worst_a = 0, worst_n = 0;
    for (int64_t j = 0; j < x.numel(); ++j) {
      NoGradGuard ng;
      double* p = x.data<double>();  // leaves made by rand64 are dense
      const double orig = p[j];
      p[j] = orig + opt.eps;
      double lp = weighted_sum(f(inputs), w);
      p[j] = orig - opt.eps;
      double lm = weighted_sum(f(inputs), w);
      p[j] = orig;
      double numeric = (lp - lm) / (2 * opt.eps);
      const double diff = std::fabs(an[j] - numeric), tol = opt.atol + opt.rtol * std::fabs(numeric);
      // written so that a NaN (or an infinity) in either gradient fails: NaN <= tol is false
      const bool close = diff <= tol;
      const double excess = close ? diff - tol : (std::isnan(diff - tol) ? INFINITY : diff - tol);
      if (!close) bad = true;
      if (worst_i < 0 || excess > worst) {
        worst = excess;
        worst_i = j;
        worst_a = an[j];
        worst_n = numeric;
      }
    }
    if (bad) {
      res.ok = false;
      msg << "input " << k << " " << shape_str(x.shape()) << ": element " << worst_i << " analytic "
          << worst_a << " vs numeric " << worst_n << "; ";
    }
  }
  res.message = msg.str();
  return res;
}

CloseResult allclose(const Tensor& got, const Tensor& ref, double atol, double rtol) {
  CloseResult r;
  if (got.shape() != ref.shape()) {
    r.ok = false;
    r.message = "shape " + shape_str(got.shape()) + " vs reference " + shape_str(ref.shape());
    return r;
  }
  std::vector<double> a = got.tolist<double>(), b = ref.tolist<double>();
  double worst = 0;
  int64_t wi = -1;
  for (size_t i = 0; i < a.size(); ++i) {
    double d = std::fabs(a[i] - b[i]);
    r.max_abs_diff = std::max(r.max_abs_diff, std::isnan(d) ? INFINITY : d);
    // Written so that NaN fails: a NaN anywhere is never close (not even to a NaN), an
    // infinity only to the same infinity (|inf - inf| would be NaN, rtol |inf| would be inf).
    bool close;
    if (std::isfinite(a[i]) && std::isfinite(b[i])) close = d <= atol + rtol * std::fabs(b[i]);
    else close = a[i] == b[i];
    if (close) continue;
    double excess = std::isfinite(d) ? d - (atol + rtol * std::fabs(b[i])) : INFINITY;
    if (wi < 0 || excess > worst) {
      worst = excess;
      wi = (int64_t)i;
    }
  }
  if (wi >= 0) {
    r.ok = false;
    std::ostringstream m;
    m << "element " << wi << ": got " << a[wi] << ", reference " << b[wi] << " (max |diff| " << r.max_abs_diff
      << ", atol " << atol << ", rtol " << rtol << ")";
    r.message = m.str();
  }
  return r;
}

}  // namespace bertlab::testing
