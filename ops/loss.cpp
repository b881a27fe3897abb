// ops/loss.cpp — cross_entropy (checks, the device switch, the reduction and the autograd
// record around the fused kernels of ops/cpu/cross_entropy.cpp and cuda/cross_entropy.cu)
// and mse_loss (composed from primitives).
#include "ops/loss.h"

#include "autograd/graph.h"
#include "cuda/cross_entropy.h"
#include "ops/check.h"
#include "ops/check_index.h"
#include "ops/cpu/cross_entropy.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace bertlab {

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index, Reduction reduction) {
  check_float("cross_entropy", logits, "logits");
  check_min_dim("cross_entropy", logits, 1, "logits");
  check_dtype("cross_entropy", targets, DType::Int64, "targets");
  check_same_device("cross_entropy", logits, targets);
  const Shape batch(logits.shape().begin(), logits.shape().end() - 1);
  if (targets.shape() != batch)
    fail("cross_entropy: targets " + shape_str(targets.shape()) + " do not match logits " + shape_str(logits.shape()) +
         " (expected targets " + shape_str(batch) + ": one class index per row of logits, classes on the last dimension)");
  const int64_t C = logits.size(-1), N = targets.numel();
  if (C == 0 && N > 0) fail("cross_entropy: logits " + shape_str(logits.shape()) + " have no classes");
  check_index(targets, C, ignore_index, [C, ls = logits.shape(), ignore_index](const BadIndex& bad) {
    return "cross_entropy: target " + std::to_string(bad.value) + " at position " + bad.position +
           " is out of range [0, " + std::to_string(C) + ") for C = " + std::to_string(C) + " classes (logits " +
           shape_str(ls) + ") and is not ignore_index " + std::to_string(ignore_index);
  });

  Tensor x = logits.detach().contiguous(), t = targets.contiguous();
  Tensor losses = empty({N}, x.dtype(), x.device()), lse = empty({N}, x.dtype(), x.device());
  switch (x.device()) {
    case Device::CPU:
      cpu::cross_entropy_forward(x.dtype(), losses.raw_data(), lse.raw_data(), x.raw_data(), t.data<int64_t>(), N, C,
                                 ignore_index);
      break;
    case Device::CUDA:
      cuda::cross_entropy_forward(x.dtype(), losses.raw_data(), lse.raw_data(), x.raw_data(), t.data<int64_t>(), N, C,
                                  ignore_index);
      break;
  }
  // the reduction (on the detached per-row losses; the record below covers the whole op)
  double scale = 1.0;
  Tensor scale_t;  // on the GPU, the mean's scale as a 0-dim tensor there (no host read)
  Tensor out;
  {
    NoGradGuard ng;
    if (reduction == Reduction::None) {
      out = reshape(losses, batch);
    } else if (reduction == Reduction::Mean && x.device() == Device::CUDA) {
      // count the targets that are not ignored on the device and divide there: reading the
      // count back would make the host wait for the whole forward pass. scale = 1 / max(count, 1)
      // in float64, rounded to the logits' dtype as a double scalar would be (count 0: every
      // loss is 0, so the loss and its gradient are 0 as on the CPU).
      Tensor ignored = sum(eq(t, full({}, (double)ignore_index, DType::Int64, t.device()))).to(DType::Float64);
      Tensor count = rsub((double)N, ignored);
      scale_t = rdiv(1.0, maximum(count, full({}, 1.0, DType::Float64, t.device()))).to(x.dtype());
      out = mul(sum(losses), scale_t);
    } else {
      if (reduction == Reduction::Mean) {
        const int64_t ignored = N == 0 ? 0 : sum(eq(t, full({}, (double)ignore_index, DType::Int64, t.device()))).item_int();
        const int64_t count = N - ignored;
        scale = count > 0 ? 1.0 / (double)count : 0.0;  // every target ignored: loss 0, gradient 0
      }
      out = mul(sum(losses), scale);
    }
  }
  return record("cross_entropy", out, {logits}, [x, t, lse, scale, scale_t, reduction, N, C, ignore_index](const Tensor& dy, Grads& g) {
    // the gradient of each row's loss: (N)
    Tensor dl = reduction == Reduction::None ? reshape(dy, {N}).contiguous()
                : scale_t.defined()          ? expand(reshape(mul(dy, scale_t), {1}), {N}).contiguous()
                                             : expand(reshape(mul(dy, scale), {1}), {N}).contiguous();
    Tensor dx = empty(x.shape(), x.dtype(), x.device());
    switch (x.device()) {
      case Device::CPU:
        cpu::cross_entropy_backward(x.dtype(), dx.raw_data(), dl.raw_data(), x.raw_data(), lse.raw_data(),
                                    t.data<int64_t>(), N, C, ignore_index);
        break;
      case Device::CUDA:
        cuda::cross_entropy_backward(x.dtype(), dx.raw_data(), dl.raw_data(), x.raw_data(), lse.raw_data(),
                                     t.data<int64_t>(), N, C, ignore_index);
        break;
    }
    g.add(0, dx);
  });
}

Tensor mse_loss(const Tensor& a, const Tensor& b) {
  check_float("mse_loss", a, "input");
  check_float("mse_loss", b, "target");
  if (a.shape() != b.shape())
    fail("mse_loss: input " + shape_str(a.shape()) + " and target " + shape_str(b.shape()) +
         " must have the same shape (reshape one of them; broadcasting here is almost always a bug)");
  if (a.numel() == 0) fail("mse_loss: empty input " + shape_str(a.shape()));
  Tensor d = sub(a, b);
  return mean(mul(d, d));
}

}  // namespace bertlab
