// nn/optim.cpp — AdamW, SGD, clip_grad_norm, schedules.
#include "nn/optim.h"

#include <algorithm>
#include <cmath>

#include "autograd/graph.h"
#include "ops/elementwise.h"
#include "ops/optim.h"

namespace bertlab::nn {

static bool no_decay(const std::string& name) {
  auto ends_with = [&](const std::string& s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return ends_with("bias") || ends_with("LayerNorm.weight") || ends_with("LayerNorm.gamma") ||
         ends_with("LayerNorm.beta");
}

std::vector<ParamGroup> decay_groups(const Module& m, double weight_decay) {
  ParamGroup decay, plain;
  decay.weight_decay = weight_decay;
  for (auto& [name, p] : m.named_parameters()) {
    if (!p.requires_grad()) continue;
    ParamGroup& g = no_decay(name) ? plain : decay;
    g.params.push_back(p);
    g.names.push_back(name);
  }
  return {decay, plain};
}

void Optimizer::zero_grad() {
  for (auto& g : groups)
    for (auto& p : g.params) p.zero_grad();
}

static std::vector<std::vector<Tensor>> zeros_for(const std::vector<ParamGroup>& groups) {
  std::vector<std::vector<Tensor>> out;
  for (auto& g : groups) {
    out.emplace_back();
    for (auto& p : g.params) out.back().push_back(zeros_like(p));
  }
  return out;
}

static std::string state_name(const ParamGroup& g, size_t i, size_t gi) {
  return i < g.names.size() ? g.names[i] : "group" + std::to_string(gi) + "." + std::to_string(i);
}

// Moment tensors follow their parameter if the model moved device after construction.
static void follow_device(Tensor& s, const Tensor& p) {
  if (s.device() != p.device()) move_to_device_(s, p.device());
}

SGD::SGD(std::vector<ParamGroup> gs, double lr_, double mom) : momentum(mom) {
  groups = std::move(gs);
  lr = lr_;
  velocity_ = zeros_for(groups);
}

void SGD::step() {
  NoGradGuard ng;
  ++steps_taken;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    auto& g = groups[gi];
    for (size_t i = 0; i < g.params.size(); ++i) {
      Tensor& p = g.params[i];
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (g.weight_decay != 0) grad = grad + p * g.weight_decay;
      if (momentum != 0) {
        Tensor& v = velocity_[gi][i];
        follow_device(v, p);
        mul_(v, momentum);
        add_(v, grad);
        grad = v;
      }
      add_(p, grad, -lr);
    }
  }
}

NamedTensors SGD::state() const {
  NamedTensors out;
  for (size_t gi = 0; gi < groups.size(); ++gi)
    for (size_t i = 0; i < groups[gi].params.size(); ++i)
      out.emplace_back(state_name(groups[gi], i, gi) + ".momentum_buffer", velocity_[gi][i]);
  return out;
}

static void load_into(Tensor& dst, const std::map<std::string, Tensor>& s, const std::string& key) {
  auto it = s.find(key);
  if (it == s.end()) fail("optimizer state: missing '" + key + "'");
  if (it->second.shape() != dst.shape())
    fail("optimizer state: '" + key + "' has shape " + shape_str(it->second.shape()) + ", expected " +
         shape_str(dst.shape()));
  copy_(dst, it->second.to(dst.device()));
}

void SGD::load_state(const std::map<std::string, Tensor>& s) {
  for (size_t gi = 0; gi < groups.size(); ++gi)
    for (size_t i = 0; i < groups[gi].params.size(); ++i)
      load_into(velocity_[gi][i], s, state_name(groups[gi], i, gi) + ".momentum_buffer");
}

AdamW::AdamW(std::vector<ParamGroup> gs, double lr_, double b1, double b2, double e) : beta1(b1), beta2(b2), eps(e) {
  groups = std::move(gs);
  lr = lr_;
  if (lr < 0 || b1 < 0 || b1 >= 1 || b2 < 0 || b2 >= 1 || e < 0)
    fail("AdamW: invalid hyper-parameters (lr " + std::to_string(lr) + ", betas " + std::to_string(b1) + ", " +
         std::to_string(b2) + ", eps " + std::to_string(e) + ")");
  m_ = zeros_for(groups);
  v_ = zeros_for(groups);
}

void AdamW::check_whole(const char* what) const {
  for (const auto& g : m_)
    for (const Tensor& t : g)
      if (!t.defined())
        fail(std::string("AdamW::") + what + ": the moments are sharded over the ranks (ZeRO-1); the sharded optimizer " +
             "steps them, and gathers them before a checkpoint");
}

void AdamW::step() {
  check_whole("step");
  NoGradGuard ng;
  ++steps_taken;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    auto& g = groups[gi];
    for (size_t i = 0; i < g.params.size(); ++i) {
      Tensor& p = g.params[i];
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      follow_device(m_[gi][i], p);
      follow_device(v_[gi][i], p);
      adamw_step_(p, grad, m_[gi][i], v_[gi][i], lr, beta1, beta2, eps, g.weight_decay, steps_taken);
    }
  }
}

NamedTensors AdamW::state() const {
  check_whole("state");
  NamedTensors out;
  for (size_t gi = 0; gi < groups.size(); ++gi)
    for (size_t i = 0; i < groups[gi].params.size(); ++i) {
      out.emplace_back(state_name(groups[gi], i, gi) + ".exp_avg", m_[gi][i]);
      out.emplace_back(state_name(groups[gi], i, gi) + ".exp_avg_sq", v_[gi][i]);
    }
  return out;
}

void AdamW::load_state(const std::map<std::string, Tensor>& s) {
  check_whole("load_state");
  for (size_t gi = 0; gi < groups.size(); ++gi)
    for (size_t i = 0; i < groups[gi].params.size(); ++i) {
      load_into(m_[gi][i], s, state_name(groups[gi], i, gi) + ".exp_avg");
      load_into(v_[gi][i], s, state_name(groups[gi], i, gi) + ".exp_avg_sq");
    }
}

static std::vector<Tensor> grads_of(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  for (auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  return grads;
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  std::vector<Tensor> grads = grads_of(params);
  if (!grads.empty() && grads.front().device() == Device::CUDA)
    return clip_grad_norm_tensor(params, max_norm).item();  // the one wait, for the value returned
  const double norm = global_norm(grads);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    NoGradGuard ng;
    for (auto& g : grads) mul_(g, coef);
  }
  return norm;
}

Tensor clip_grad_norm_tensor(const std::vector<Tensor>& params, double max_norm) {
  NoGradGuard ng;
  return clip_by_global_norm_(grads_of(params), max_norm);
}

Schedule::Schedule(Optimizer& opt, double base_lr, std::function<double(int64_t)> factor)
    : opt_(opt), base_lr_(base_lr), factor_(std::move(factor)) {
  opt_.lr = lr();
}
double Schedule::lr() const { return base_lr_ * factor_(step_); }
void Schedule::step() {
  ++step_;
  opt_.lr = lr();
}
void Schedule::set_step(int64_t s) {
  step_ = s;
  opt_.lr = lr();
}

std::function<double(int64_t)> linear_warmup_decay(int64_t warmup, int64_t total) {
  if (warmup < 0 || total < 0) fail("linear_warmup_decay: negative step counts");
  return [warmup, total](int64_t step) {
    if (step < warmup) return (double)step / (double)std::max<int64_t>(1, warmup);
    return std::max(0.0, (double)(total - step) / (double)std::max<int64_t>(1, total - warmup));
  };
}

std::function<double(int64_t)> constant_warmup(int64_t warmup) {
  if (warmup < 0) fail("constant_warmup: negative warmup");
  return [warmup](int64_t step) {
    if (step < warmup) return (double)step / (double)std::max<int64_t>(1, warmup);
    return 1.0;
  };
}

}  // namespace bertlab::nn
