// ops/matmul.h — matrix products (OpenBLAS on the CPU, cuBLAS on CUDA).
#pragma once

#include "autograd/tensor.h"

namespace bertlab {

// a @ b with NumPy semantics: 1-D operands are promoted to matrices and the added dimension
// removed; leading (batch) dimensions broadcast. a is (..., M, K), b is (..., K, N).
// alpha scales the product inside the GEMM (attention's 1/sqrt(d) costs no extra pass).
// Backward: da = alpha dy b^T, db = alpha a^T dy, each summed over the batch dimensions it was
// broadcast on.
Tensor matmul(const Tensor& a, const Tensor& b, double alpha = 1.0);

// y = x W^T + b, as torch.nn.functional.linear: x is (..., in), W is (out, in) (Hugging Face
// layout), b is (out) or undefined. One GEMM forward, three in backward (dx, dW, db).
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = Tensor());

}  // namespace bertlab
