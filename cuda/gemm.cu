// cuda/gemm.cu — matrix multiply through cuBLAS.
//
// cuBLAS is column-major, the framework row-major. A row-major M x N matrix C with leading
// dimension ldc is, read column-major, the N x M matrix C^T with the same ldc. So instead of
//   C = op(A) op(B)          (row-major)
// we ask cuBLAS for
//   C^T = op(B)^T op(A)^T    (column-major: m = N, n = M, k = K, B first, then A)
// and the transposition flags carry over unchanged: a row-major X stored as written is X^T
// column-major, so "X not transposed" stays CUBLAS_OP_N. (cuBLAS documentation, "cublasGemmEx"
// and "cublasGemmStridedBatchedEx"; the same trick as llm.c's matmul_forward.)
//
// float32 computes in CUBLAS_COMPUTE_32F (true fp32, the default) or, after
// set_allow_tf32(true), CUBLAS_COMPUTE_32F_FAST_TF32 (tensor cores, 10-bit mantissa inputs);
// float64 in CUBLAS_COMPUTE_64F.
#include <atomic>
#include <climits>
#include <string>

#include "autograd/tensor.h"
#include "cuda/common.cuh"
#include "cuda/gemm.h"

namespace bertlab::cuda {

static std::atomic<bool> g_allow_tf32{false};
void set_allow_tf32(bool allow) { g_allow_tf32 = allow; }
bool allow_tf32() { return g_allow_tf32; }

static int to_int(int64_t v, const char* what) {
  if (v < 0 || v > INT_MAX) fail(std::string("gemm: ") + what + " = " + std::to_string(v) + " does not fit cuBLAS's int");
  return (int)v;
}

// C_b = alpha op(A_b) op(B_b) + beta C_b for b < batch (row-major; see cuda/gemm.h).
// A_b is M x K after op, B_b is K x N after op, C_b is M x N; strides between the matrices
// of a batch may be 0 (one matrix shared by the whole batch).
void gemm(DType t, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
          const void* A, int64_t lda, int64_t stride_a, const void* B, int64_t ldb, int64_t stride_b,
          double beta, void* C, int64_t ldc, int64_t stride_c, int64_t batch) {
  if (M == 0 || N == 0 || batch == 0) return;
  if (K == 0) {
    // Nothing is read from A or B, but cuBLAS still checks their leading dimensions.
    lda = std::max<int64_t>(lda, trans_a ? M : 1);
    ldb = std::max<int64_t>(ldb, trans_b ? 1 : N);
  }
  lda = std::max<int64_t>(lda, 1);
  ldb = std::max<int64_t>(ldb, 1);
  ldc = std::max<int64_t>(ldc, 1);

  // column-major view: C^T (N x M) = op(B)^T (N x K) * op(A)^T (K x M)
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;  // first cuBLAS operand
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;  // second cuBLAS operand
  const int m = to_int(N, "N"), n = to_int(M, "M"), k = to_int(K, "K");
  const int ld_b = to_int(ldb, "ldb"), ld_a = to_int(lda, "lda"), ld_c = to_int(ldc, "ldc");
  const int nbatch = to_int(batch, "batch");

  cudaDataType_t type;
  cublasComputeType_t compute;
  float alpha32 = (float)alpha, beta32 = (float)beta;
  const void* palpha;
  const void* pbeta;
  switch (t) {
    case DType::Float32:
      type = CUDA_R_32F;
      compute = allow_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
      palpha = &alpha32;
      pbeta = &beta32;
      break;
    case DType::Float64:
      type = CUDA_R_64F;
      compute = CUBLAS_COMPUTE_64F;
      palpha = &alpha;
      pbeta = &beta;
      break;
    default: fail(std::string("matmul: expected float32 or float64, got ") + dtype_name(t));
  }

  cublasHandle_t h = cublas();
  if (batch == 1) {
    CUBLAS_CHECK(cublasGemmEx(h, op_b, op_a, m, n, k, palpha, B, type, ld_b, A, type, ld_a, pbeta, C, type, ld_c,
                              compute, CUBLAS_GEMM_DEFAULT));
  } else {
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(h, op_b, op_a, m, n, k, palpha, B, type, ld_b, (long long)stride_b, A,
                                            type, ld_a, (long long)stride_a, pbeta, C, type, ld_c,
                                            (long long)stride_c, nbatch, compute, CUBLAS_GEMM_DEFAULT));
  }
}

}  // namespace bertlab::cuda
