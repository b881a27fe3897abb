// nn/optim.h — optimizers, learning-rate schedules and gradient clipping.
//
// AdamW and SGD follow torch.optim step for step (same formulas, same order), so a model
// trained here tracks the same model trained in PyTorch to rounding; the schedules are
// transformers' get_linear_schedule_with_warmup and get_constant_schedule_with_warmup.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "nn/module.h"

namespace bertlab::nn {

// Parameters that share hyper-parameters (weight decay).
struct ParamGroup {
  std::vector<Tensor> params;
  double weight_decay = 0.0;
  std::vector<std::string> names;  // for messages and checkpoints
};

// The grouping Hugging Face's scripts use: weight decay on every weight except biases and
// LayerNorm weights, which get none. Frozen parameters are left out.
std::vector<ParamGroup> decay_groups(const Module& m, double weight_decay);

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  void zero_grad();
  double lr = 1e-3;  // the current learning rate (a schedule sets it)
  std::vector<ParamGroup> groups;
  int64_t steps_taken = 0;
  // Optimizer state as named tensors ("<param name>.exp_avg", ...) plus scalars, for
  // checkpoints; load_state restores it.
  virtual NamedTensors state() const = 0;
  virtual void load_state(const std::map<std::string, Tensor>& s) = 0;
};

// p <- p - lr (g + wd p) with momentum: v <- mu v + g', p <- p - lr v (torch.optim.SGD).
class SGD : public Optimizer {
 public:
  SGD(std::vector<ParamGroup> groups, double lr, double momentum = 0.0);
  void step() override;
  NamedTensors state() const override;
  void load_state(const std::map<std::string, Tensor>& s) override;
  double momentum;

 private:
  std::vector<std::vector<Tensor>> velocity_;
};

// Adam with decoupled weight decay (Loshchilov and Hutter, 2019) and bias correction:
// torch.optim.AdamW. Default eps 1e-8 as in BERT fine-tuning (REFERENCE.md).
class AdamW : public Optimizer {
 public:
  AdamW(std::vector<ParamGroup> groups, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8);
  void step() override;
  NamedTensors state() const override;
  void load_state(const std::map<std::string, Tensor>& s) override;
  double beta1, beta2, eps;

  // The moments of parameter i of group gi. ZeRO-1 (bert/train/distributed.h) keeps only a
  // shard of them on each rank: it takes them over and leaves these undefined, and puts the
  // whole back on rank 0 for as long as a checkpoint is written. step() and state() need them.
  Tensor& exp_avg(size_t gi, size_t i) { return m_[gi][i]; }
  Tensor& exp_avg_sq(size_t gi, size_t i) { return v_[gi][i]; }

 private:
  void check_whole(const char* what) const;
  std::vector<std::vector<Tensor>> m_, v_;
};

// Global L2 norm of the gradients of `params`; when above max_norm, every gradient is scaled
// by max_norm / (norm + 1e-6) (torch.nn.utils.clip_grad_norm_). Returns the norm before
// clipping.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);
// The same, returning the norm as a 0-dim float64 tensor on the gradients' device instead of
// a host value (torch's clip_grad_norm_ returns a tensor too): on the GPU the norm and the
// scaling stay there and the host does not wait. Read it (.item()) only where it is printed;
// clip_grad_norm above is this plus that read.
Tensor clip_grad_norm_tensor(const std::vector<Tensor>& params, double max_norm);

// Learning rate as a function of the step, times the base rate (torch LambdaLR).
class Schedule {
 public:
  Schedule(Optimizer& opt, double base_lr, std::function<double(int64_t)> factor);
  void step();             // advances one step and sets opt.lr
  int64_t last_step() const { return step_; }
  void set_step(int64_t s);  // for resuming
  double lr() const;

 private:
  Optimizer& opt_;
  double base_lr_;
  std::function<double(int64_t)> factor_;
  int64_t step_ = 0;
};
// transformers.get_linear_schedule_with_warmup: step/warmup, then linear decay to 0 at total.
std::function<double(int64_t)> linear_warmup_decay(int64_t warmup_steps, int64_t total_steps);
// transformers.get_constant_schedule_with_warmup: step/warmup, then 1.
std::function<double(int64_t)> constant_warmup(int64_t warmup_steps);

}  // namespace bertlab::nn
