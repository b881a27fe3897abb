// nn/layers.h — the layers BERT is made of: Linear, Embedding, LayerNorm, Dropout,
// ModuleList. Each forward() just calls a functional op from ops/.
#pragma once

#include <memory>
#include <vector>

#include "autograd/tensor.h"
#include "nn/module.h"

namespace bertlab::nn {

// While a SkipInitGuard lives, new layers leave their parameters uninitialised (the memory
// is allocated but not written): for counting parameters of a large model, or when every
// value will be loaded from a checkpoint next.
class SkipInitGuard {
 public:
  SkipInitGuard();
  ~SkipInitGuard();
  SkipInitGuard(const SkipInitGuard&) = delete;
  SkipInitGuard& operator=(const SkipInitGuard&) = delete;
  static bool active();

 private:
  bool prev_;
};

// y = x W^T + b; W is (out, in) as in PyTorch and Hugging Face checkpoints.
// Default init as torch.nn.Linear: W, b ~ U(-1/sqrt(in), 1/sqrt(in)).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true, Generator& g = default_generator());
  Tensor forward(const Tensor& x) const;  // x (..., in) -> (..., out)
  Tensor weight, bias;                    // (out, in), (out) or undefined
  int64_t in_features, out_features;
};

// Row lookup: ids (any shape, int64) -> (..., dim). Default init N(0, 1) as torch.
// With padding_idx >= 0 that row gets no gradient (torch.nn.Embedding's padding_idx).
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t dim, Generator& g = default_generator(), int64_t padding_idx = -1);
  Tensor forward(const Tensor& ids) const;
  Tensor weight;  // (num_embeddings, dim)
  int64_t padding_idx;
};

// Normalises the last dimension: (x - mean) / sqrt(var + eps) * weight + bias.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-12);
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;  // (dim): ones, zeros
  double eps;
};

// Inverted dropout in training mode, identity in eval mode. Draws its masks from `gen`
// (the default generator unless set), so a run's masks follow from the seed.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.1, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) const;
  double p;
  Generator* gen;
};

// An ordered list of submodules named "0", "1", ...
template <typename M>
class ModuleList : public Module {
 public:
  void push_back(std::shared_ptr<M> m) {
    register_module(std::to_string(items_.size()), m);
    items_.push_back(std::move(m));
  }
  size_t size() const { return items_.size(); }
  const std::shared_ptr<M>& operator[](size_t i) const { return items_.at(i); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<std::shared_ptr<M>> items_;
};

}  // namespace bertlab::nn
