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
//
// Under bfloat16 autocast on the CPU x may be bfloat16 (w float32) when no gradient is being
// recorded: an activation already rounded (autocast_operand, linear_gelu's bfloat16 output),
// which the AMX kernel reads in place.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = Tensor());

// gelu(linear(x, w, b)) (the exact, erf GELU), as BERT's intermediate layer computes it. Under
// bfloat16 autocast on the CPU, with no gradient recorded, it is one GEMM whose epilogue adds
// the bias and applies GELU as each block of the product is written (ops/cpu/gemm_bf16.h), so
// the (rows x out) output is written once and never re-read; elsewhere it is the two ops. out:
// the result's dtype: the weight's (the default for float32 weights) or BFloat16 (inference only: throws when a gradient would be recorded)
// stores GELU's float32 result rounded, for a next linear to read without packing.
Tensor linear_gelu(const Tensor& x, const Tensor& w, const Tensor& b, DType out = DType::Float32);

// The dtype an inference-only activation can be handed to the next linear in: BFloat16 when
// bfloat16 autocast is on, no gradient is being recorded (grad mode off), x is on the CPU and
// the bf16 GEMM is a bfloat16 kernel (AMX / AVX512-BF16); else x's own dtype.
DType autocast_activation_dtype(const Tensor& x);

// x rounded to bfloat16 once when autocast_activation_dtype(x) is BFloat16, else x itself: for
// an input several linears read (attention's q, k and v projections share one copy, which the
// AMX kernel reads in place instead of each GEMM packing the float32 rows again).
Tensor autocast_operand(const Tensor& x);

}  // namespace bertlab
