// ops/cpu/gemm.h — matrix multiply through OpenBLAS cblas_sgemm / cblas_dgemm.
#pragma once

#include "autograd/dtype.h"

namespace bertlab::cpu {

// For b < batch, row-major:  C_b = alpha * op(A_b) * op(B_b) + beta * C_b  (see cuda/gemm.h)
void gemm(DType t, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
          const void* A, int64_t lda, int64_t stride_a, const void* B, int64_t ldb, int64_t stride_b,
          double beta, void* C, int64_t ldc, int64_t stride_c, int64_t batch);

// The same with the b-th matrices at A + a_offset[b], B + b_offset[b], C + c_offset[b]
// (elements): a batch that no single stride walks, such as the heads of a (B, T, H, D) tensor
// viewed as (B, H, T, D), multiplies in place without a copy.
void gemm(DType t, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
          const void* A, int64_t lda, const int64_t* a_offset, const void* B, int64_t ldb,
          const int64_t* b_offset, double beta, void* C, int64_t ldc, const int64_t* c_offset, int64_t batch);

}  // namespace bertlab::cpu
