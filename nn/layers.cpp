// nn/layers.cpp — Linear, Embedding, LayerNorm, Dropout.
#include "nn/layers.h"

#include <cmath>

#include "ops/dropout.h"
#include "ops/embedding.h"
#include "ops/layernorm.h"
#include "ops/matmul.h"

namespace bertlab::nn {

static thread_local bool g_skip_init = false;
SkipInitGuard::SkipInitGuard() : prev_(g_skip_init) { g_skip_init = true; }
SkipInitGuard::~SkipInitGuard() { g_skip_init = prev_; }
bool SkipInitGuard::active() { return g_skip_init; }

static Tensor uniform_init(const Shape& s, Generator& g, double k) { return g_skip_init ? empty(s) : rand(s, g, -k, k); }

Linear::Linear(int64_t in, int64_t out, bool has_bias, Generator& g) : in_features(in), out_features(out) {
  if (in <= 0 || out <= 0)
    fail("Linear: features must be positive, got in " + std::to_string(in) + ", out " + std::to_string(out));
  const double k = 1.0 / std::sqrt((double)in);
  weight = register_parameter("weight", uniform_init({out, in}, g, k));
  if (has_bias) bias = register_parameter("bias", uniform_init({out}, g, k));
}
Tensor Linear::forward(const Tensor& x) const { return linear(x, weight, bias); }

Embedding::Embedding(int64_t n, int64_t dim, Generator& g, int64_t pad) : padding_idx(pad) {
  if (n <= 0 || dim <= 0)
    fail("Embedding: sizes must be positive, got " + std::to_string(n) + " x " + std::to_string(dim));
  weight = register_parameter("weight", g_skip_init ? empty({n, dim}) : randn({n, dim}, g));
}
Tensor Embedding::forward(const Tensor& ids) const { return embedding(weight, ids, padding_idx); }

LayerNorm::LayerNorm(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", ones({dim}));
  bias = register_parameter("bias", zeros({dim}));
}
Tensor LayerNorm::forward(const Tensor& x) const { return layer_norm(x, weight, bias, eps); }

Dropout::Dropout(double p_, Generator* g) : p(p_), gen(g) {
  if (p < 0 || p > 1) fail("Dropout: p must be in [0, 1], got " + std::to_string(p));
}
Tensor Dropout::forward(const Tensor& x) const {
  return dropout(x, p, is_training(), gen ? *gen : default_generator());
}

}  // namespace bertlab::nn
