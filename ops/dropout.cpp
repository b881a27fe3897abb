// ops/dropout.cpp — checks, the device switch and the autograd record of dropout. The
// kernel (ops/cpu/dropout.cpp, cuda/dropout.cu) serves forward and backward alike: both apply
// the mask regenerated from (seed, offset).
#include "ops/dropout.h"

#include <sstream>

#include "autograd/graph.h"
#include "cuda/dropout.h"
#include "ops/check.h"
#include "ops/cpu/dropout.h"

namespace bertlab {

// mask(seed, offset) * x / (1 - p), x dense
static Tensor dropout_kernel(const Tensor& x, double p, uint64_t seed, uint64_t offset) {
  Tensor y = empty(x.shape(), x.dtype(), x.device());
  switch (x.device()) {
    case Device::CPU: cpu::dropout_apply(x.dtype(), y.raw_data(), x.raw_data(), x.numel(), p, seed, offset); break;
    case Device::CUDA: cuda::dropout_apply(x.dtype(), y.raw_data(), x.raw_data(), x.numel(), p, seed, offset); break;
  }
  return y;
}

Tensor dropout(const Tensor& x, double p, bool train, Generator& gen) {
  check_float("dropout", x);
  if (!(p >= 0.0 && p <= 1.0)) {
    std::ostringstream m;
    m << "dropout: probability p must be in [0, 1], got " << p << " (input " << shape_str(x.shape()) << ")";
    fail(m.str());
  }
  if (!train || p == 0.0) return x;
  const uint64_t seed = gen.seed, offset = gen.advance(dropout_counters((uint64_t)x.numel()));
  Tensor y = dropout_kernel(x.detach().contiguous(), p, seed, offset);
  return record("dropout", y, {x}, [p, seed, offset](const Tensor& dy, Grads& g) {
    g.add(0, dropout_kernel(dy.contiguous(), p, seed, offset));
  });
}

Tensor dropout(const Tensor& x, double p, bool train) { return dropout(x, p, train, default_generator()); }

}  // namespace bertlab
