// tests/cuda/emu/fake/cublas_v2.h — cublasGemmEx / cublasGemmStridedBatchedEx / cublasGemmBatchedEx on OpenBLAS,
// column-major, with cuBLAS's argument checks, so cuda/gemm.cu's row-major -> column-major
// translation is exercised as written.
#pragma once

#include <cblas.h>

#include "cuda_runtime.h"

typedef struct cublasContext* cublasHandle_t;
enum cublasStatus_t { CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_INVALID_VALUE = 7 };
enum cublasOperation_t { CUBLAS_OP_N, CUBLAS_OP_T };
enum cudaDataType_t { CUDA_R_32F, CUDA_R_64F };
enum cublasComputeType_t { CUBLAS_COMPUTE_32F, CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_COMPUTE_64F };
enum { CUBLAS_GEMM_DEFAULT = -1 };

inline const char* cublasGetStatusString(cublasStatus_t s) { return s == CUBLAS_STATUS_INVALID_VALUE ? "invalid value" : "success"; }
inline cublasStatus_t cublasCreate(cublasHandle_t* h) { *h = reinterpret_cast<cublasHandle_t>(1); return CUBLAS_STATUS_SUCCESS; }
inline cublasStatus_t cublasSetStream(cublasHandle_t, cudaStream_t) { return CUBLAS_STATUS_SUCCESS; }

inline cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                                 const void* alpha, const void* A, cudaDataType_t t, int lda, long long sa,
                                                 const void* B, cudaDataType_t, int ldb, long long sb, const void* beta, void* C,
                                                 cudaDataType_t, int ldc, long long sc, int batch, cublasComputeType_t, int) {
  if (m < 0 || n < 0 || k < 0 || batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
  if (lda < std::max(1, ta == CUBLAS_OP_N ? m : k)) return CUBLAS_STATUS_INVALID_VALUE;
  if (ldb < std::max(1, tb == CUBLAS_OP_N ? k : n)) return CUBLAS_STATUS_INVALID_VALUE;
  if (ldc < std::max(1, m)) return CUBLAS_STATUS_INVALID_VALUE;
  const auto oa = ta == CUBLAS_OP_N ? CblasNoTrans : CblasTrans, ob = tb == CUBLAS_OP_N ? CblasNoTrans : CblasTrans;
  for (int b = 0; b < batch; ++b) {
    if (t == CUDA_R_32F)
      cblas_sgemm(CblasColMajor, oa, ob, m, n, k, *static_cast<const float*>(alpha), static_cast<const float*>(A) + b * sa, lda,
                  static_cast<const float*>(B) + b * sb, ldb, *static_cast<const float*>(beta), static_cast<float*>(C) + b * sc, ldc);
    else
      cblas_dgemm(CblasColMajor, oa, ob, m, n, k, *static_cast<const double*>(alpha), static_cast<const double*>(A) + b * sa, lda,
                  static_cast<const double*>(B) + b * sb, ldb, *static_cast<const double*>(beta), static_cast<double*>(C) + b * sc, ldc);
  }
  return CUBLAS_STATUS_SUCCESS;
}
inline cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const void* alpha,
                                   const void* A, cudaDataType_t t, int lda, const void* B, cudaDataType_t t2, int ldb, const void* beta,
                                   void* C, cudaDataType_t t3, int ldc, cublasComputeType_t ct, int algo) {
  return cublasGemmStridedBatchedEx(h, ta, tb, m, n, k, alpha, A, t, lda, 0, B, t2, ldb, 0, beta, C, t3, ldc, 0, 1, ct, algo);
}
inline cublasStatus_t cublasGemmBatchedEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                          const void* alpha, const void* const A[], cudaDataType_t t, int lda,
                                          const void* const B[], cudaDataType_t t2, int ldb, const void* beta, void* const C[],
                                          cudaDataType_t t3, int ldc, int batch, cublasComputeType_t ct, int algo) {
  if (batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
  for (int b = 0; b < batch; ++b) {
    const cublasStatus_t s =
        cublasGemmStridedBatchedEx(h, ta, tb, m, n, k, alpha, A[b], t, lda, 0, B[b], t2, ldb, 0, beta, C[b], t3, ldc, 0, 1, ct, algo);
    if (s != CUBLAS_STATUS_SUCCESS) return s;
  }
  return CUBLAS_STATUS_SUCCESS;
}
