// ops/cpu/gemm.cpp — GEMM on the CPU is OpenBLAS: no hand-written loops.
//
// One large product lets OpenBLAS use every thread itself. A batch of small products (the
// 12 heads x 128x64x128 of BERT attention) runs one product per OpenMP thread instead:
// Debian's OpenMP build of OpenBLAS then runs each call single-threaded, which beats
// splitting a tiny matrix across threads.
#include "ops/cpu/gemm.h"

#include <algorithm>
#include <cblas.h>
#include <omp.h>

#include "autograd/tensor.h"

namespace bertlab::cpu {

template <typename T>
static void gemm_one(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                     int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  const auto opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, opa, opb, (blasint)M, (blasint)N, (blasint)K, alpha, A, (blasint)lda, B,
                (blasint)ldb, beta, C, (blasint)ldc);
  else
    cblas_dgemm(CblasRowMajor, opa, opb, (blasint)M, (blasint)N, (blasint)K, alpha, A, (blasint)lda, B,
                (blasint)ldb, beta, C, (blasint)ldc);
}

// The b-th matrix of a batch is at base + offset(b): a stride times b, or a table.
struct BatchOffsets {
  int64_t stride = 0;
  const int64_t* table = nullptr;
  int64_t operator()(int64_t b) const { return table ? table[b] : b * stride; }
};

template <typename T>
static void gemm_t(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const T* A,
                   int64_t lda, BatchOffsets oa, const T* B, int64_t ldb, BatchOffsets ob, double beta, T* C,
                   int64_t ldc, BatchOffsets oc, int64_t batch) {
  const double flops = 2.0 * (double)M * (double)N * (double)K;
  const bool per_thread = batch > 1 && flops < 64.0 * 1024 * 1024 && omp_get_max_threads() > 1;
  if (per_thread) {
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < batch; ++b)
      gemm_one<T>(ta, tb, M, N, K, (T)alpha, A + oa(b), lda, B + ob(b), ldb, (T)beta, C + oc(b), ldc);
  } else {  // outside any parallel region, so that OpenBLAS may use every thread itself
    for (int64_t b = 0; b < batch; ++b)
      gemm_one<T>(ta, tb, M, N, K, (T)alpha, A + oa(b), lda, B + ob(b), ldb, (T)beta, C + oc(b), ldc);
  }
}

static void gemm_any(DType t, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
                     const void* A, int64_t lda, BatchOffsets oa, const void* B, int64_t ldb, BatchOffsets ob,
                     double beta, void* C, int64_t ldc, BatchOffsets oc, int64_t batch) {
  // BLAS requires leading dimensions >= 1 even for empty matrices
  lda = std::max<int64_t>(lda, 1);
  ldb = std::max<int64_t>(ldb, 1);
  ldc = std::max<int64_t>(ldc, 1);
  switch (t) {
    case DType::Float32:
      gemm_t<float>(trans_a, trans_b, M, N, K, alpha, (const float*)A, lda, oa, (const float*)B, ldb, ob, beta,
                    (float*)C, ldc, oc, batch);
      break;
    case DType::Float64:
      gemm_t<double>(trans_a, trans_b, M, N, K, alpha, (const double*)A, lda, oa, (const double*)B, ldb, ob, beta,
                     (double*)C, ldc, oc, batch);
      break;
    default: fail(std::string("matmul: expected float32 or float64, got ") + dtype_name(t));
  }
}

void gemm(DType t, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
          const void* A, int64_t lda, int64_t stride_a, const void* B, int64_t ldb, int64_t stride_b,
          double beta, void* C, int64_t ldc, int64_t stride_c, int64_t batch) {
  gemm_any(t, trans_a, trans_b, M, N, K, alpha, A, lda, {stride_a}, B, ldb, {stride_b}, beta, C, ldc, {stride_c},
           batch);
}

void gemm(DType t, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
          const void* A, int64_t lda, const int64_t* a_offset, const void* B, int64_t ldb,
          const int64_t* b_offset, double beta, void* C, int64_t ldc, const int64_t* c_offset, int64_t batch) {
  gemm_any(t, trans_a, trans_b, M, N, K, alpha, A, lda, {0, a_offset}, B, ldb, {0, b_offset}, beta, C, ldc,
           {0, c_offset}, batch);
}

}  // namespace bertlab::cpu
