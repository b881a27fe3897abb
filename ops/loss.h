// ops/loss.h — losses: cross-entropy (fused log-softmax + negative log-likelihood) and mean
// squared error.
#pragma once

#include "autograd/tensor.h"

namespace bertlab {

enum class Reduction { Mean, Sum, None };

// logits is (..., C) — the classes on the LAST dimension (the layout of BERT's heads, e.g.
// (B,T,num_labels); not PyTorch's (N,C,d1,...)) — and targets is int64 with logits' shape
// minus the last dimension (...). Per position p with target t = targets[p]:
//   loss[p] = logsumexp(logits[p, :]) - logits[p, t]         (0 where t == ignore_index)
// Mean: sum(loss) / (number of targets != ignore_index), and 0 (not NaN) when every target is
//       ignored; Sum: sum(loss); None: loss, with targets' shape.
// Backward: dlogits[p, :] = scale_p * (softmax(logits[p, :]) - onehot(t)), 0 on ignored
// positions (scale_p = dloss / count, dloss, or dloss[p]).
// A target outside [0, C) that is not ignore_index throws, naming its position, value and C.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -100,
                     Reduction reduction = Reduction::Mean);

// a and b have the same shape:  mean((a - b)^2), composed from sub, mul and mean.
Tensor mse_loss(const Tensor& a, const Tensor& b);

}  // namespace bertlab
