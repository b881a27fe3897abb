// cuda/gemm.h — matrix multiply through cuBLAS (cuda/gemm.cu); same signature as
// ops/cpu/gemm.h.
#pragma once

#include "autograd/dtype.h"

namespace bertlab::cuda {

// For b < batch, row-major:  C_b = alpha * op(A_b) * op(B_b) + beta * C_b
// where op(X) is X or X^T, A_b = A + b * stride_a (M x K after op), B_b is K x N after op,
// C_b is M x N with leading dimension ldc. Strides and leading dimensions are in elements.
void gemm(DType t, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
          const void* A, int64_t lda, int64_t stride_a, const void* B, int64_t ldb, int64_t stride_b,
          double beta, void* C, int64_t ldc, int64_t stride_c, int64_t batch);

// The matrices of a batch at any strides (the heads of a (B, T, H, D) activation read as
// (B, H, T, D), say), which one stride cannot walk: batch index i, row-major over sizes[0..nd),
// starts at sum_k idx_k * a[k] in A and sum_k idx_k * b[k] in B; C_i starts at i * stride_c.
// Runs as cublasGemmBatchedEx on a table of pointers that one small kernel writes on the
// device (no copy of A or B, no host-device transfer).
struct BatchStrides {
  int nd = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t a[kMaxDims] = {};
  int64_t b[kMaxDims] = {};
};
void gemm(DType t, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
          const void* A, int64_t lda, const void* B, int64_t ldb, double beta, void* C, int64_t ldc,
          int64_t stride_c, const BatchStrides& batch);

// TF32 tensor-core math for float32 GEMMs (off by default, and off for parity tests).
void set_allow_tf32(bool allow);
bool allow_tf32();

}  // namespace bertlab::cuda
