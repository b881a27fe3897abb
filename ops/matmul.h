// ops/matmul.h — matrix products (OpenBLAS on the CPU, cuBLAS on CUDA).
#pragma once

#include "autograd/tensor.h"

namespace bertlab {

// a @ b with NumPy semantics: 1-D operands are promoted to matrices and the added dimension
// removed; leading (batch) dimensions broadcast. a is (..., M, K), b is (..., K, N).
// Backward: da = dy b^T, db = a^T dy, each summed over the batch dimensions it was broadcast on.
Tensor matmul(const Tensor& a, const Tensor& b);

// y = x W^T + b, as torch.nn.functional.linear: x is (..., in), W is (out, in) (Hugging Face
// layout), b is (out) or undefined. One GEMM forward, three in backward (dx, dW, db).
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = Tensor());

}  // namespace bertlab
