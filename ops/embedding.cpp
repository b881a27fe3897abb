// ops/embedding.cpp — checks, the device switch and the autograd record of embedding. The
// kernels are in ops/cpu/embedding.cpp and cuda/embedding.cu.
#include "ops/embedding.h"

#include "autograd/graph.h"
#include "cuda/embedding.h"
#include "ops/check.h"
#include "ops/check_index.h"
#include "ops/cpu/embedding.h"

namespace bertlab {

// row r of a dense (V,C) matrix, as a view
static Tensor select_row(const Tensor& m, int64_t r) {
  return make_view(m, {m.size(1)}, {1}, m.offset() + r * m.size(1));
}

Tensor embedding(const Tensor& weight, const Tensor& ids, int64_t padding_idx) {
  check_float("embedding", weight, "weight");
  check_dim("embedding", weight, 2, "weight");
  check_dtype("embedding", ids, DType::Int64, "ids");
  check_same_device("embedding", weight, ids);
  const int64_t V = weight.size(0), C = weight.size(1), n = ids.numel();
  check_index(ids, V, std::nullopt, [V, is = ids.shape(), ws = weight.shape()](const BadIndex& bad) {
    return "embedding: id " + std::to_string(bad.value) + " at position " + bad.position + " of ids " + shape_str(is) +
           " is out of range [0, " + std::to_string(V) + ") for weight " + shape_str(ws) + " (V = " +
           std::to_string(V) + ")";
  });
  if (padding_idx >= V)
    fail("embedding: padding_idx " + std::to_string(padding_idx) + " is out of range for weight " + shape_str(weight.shape()));
  Tensor ic = ids.contiguous(), w = weight.detach().contiguous();
  Shape out_shape = ids.shape();
  out_shape.push_back(C);
  Tensor out = empty(out_shape, weight.dtype(), weight.device());
  switch (w.device()) {
    case Device::CPU: cpu::embedding_forward(w.dtype(), out.raw_data(), ic.data<int64_t>(), w.raw_data(), n, V, C); break;
    case Device::CUDA: cuda::embedding_forward(w.dtype(), out.raw_data(), ic.data<int64_t>(), w.raw_data(), n, V, C); break;
  }
  return record("embedding", out, {weight}, [ic, n, V, C, padding_idx](const Tensor& dy, Grads& g) {
    Tensor d = dy.contiguous();
    Tensor dw = empty({V, C}, d.dtype(), d.device());
    switch (d.device()) {
      case Device::CPU: cpu::embedding_backward(d.dtype(), dw.raw_data(), ic.data<int64_t>(), d.raw_data(), n, V, C); break;
      case Device::CUDA: cuda::embedding_backward(d.dtype(), dw.raw_data(), ic.data<int64_t>(), d.raw_data(), n, V, C); break;
    }
    if (padding_idx >= 0) fill_(select_row(dw, padding_idx), 0.0);  // [PAD] is not trained
    g.add(0, dw);
  });
}

}  // namespace bertlab
