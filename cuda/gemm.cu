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

// What one GEMM call hands cuBLAS, in its column-major terms (see the top of this file).
struct GemmArgs {
  cublasOperation_t op_b, op_a;  // the first and second cuBLAS operands: B, then A
  int m, n, k, ld_b, ld_a, ld_c;
  cudaDataType_t type;
  cublasComputeType_t compute;
  float alpha32, beta32;
  double alpha64, beta64;
  const void* alpha() const { return type == CUDA_R_32F ? (const void*)&alpha32 : (const void*)&alpha64; }
  const void* beta() const { return type == CUDA_R_32F ? (const void*)&beta32 : (const void*)&beta64; }
};

static GemmArgs gemm_args(DType t, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
                          int64_t lda, int64_t ldb, double beta, int64_t ldc) {
  if (K == 0) {
    // Nothing is read from A or B, but cuBLAS still checks their leading dimensions.
    lda = std::max<int64_t>(lda, trans_a ? M : 1);
    ldb = std::max<int64_t>(ldb, trans_b ? 1 : N);
  }
  GemmArgs g;
  // column-major view: C^T (N x M) = op(B)^T (N x K) * op(A)^T (K x M)
  g.op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  g.op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  g.m = to_int(N, "N"), g.n = to_int(M, "M"), g.k = to_int(K, "K");
  g.ld_b = to_int(std::max<int64_t>(ldb, 1), "ldb"), g.ld_a = to_int(std::max<int64_t>(lda, 1), "lda");
  g.ld_c = to_int(std::max<int64_t>(ldc, 1), "ldc");
  g.alpha32 = (float)alpha, g.beta32 = (float)beta, g.alpha64 = alpha, g.beta64 = beta;
  switch (t) {
    case DType::Float32:
      g.type = CUDA_R_32F;
      g.compute = allow_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
      break;
    case DType::Float64:
      g.type = CUDA_R_64F;
      g.compute = CUBLAS_COMPUTE_64F;
      break;
    default: fail(std::string("matmul: expected float32 or float64, got ") + dtype_name(t));
  }
  return g;
}

// C_b = alpha op(A_b) op(B_b) + beta C_b for b < batch (row-major; see cuda/gemm.h).
// A_b is M x K after op, B_b is K x N after op, C_b is M x N; strides between the matrices
// of a batch may be 0 (one matrix shared by the whole batch).
void gemm(DType t, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
          const void* A, int64_t lda, int64_t stride_a, const void* B, int64_t ldb, int64_t stride_b,
          double beta, void* C, int64_t ldc, int64_t stride_c, int64_t batch) {
  if (M == 0 || N == 0 || batch == 0) return;
  const GemmArgs g = gemm_args(t, trans_a, trans_b, M, N, K, alpha, lda, ldb, beta, ldc);
  const int nbatch = to_int(batch, "batch");
  cublasHandle_t h = cublas();
  if (batch == 1) {
    CUBLAS_CHECK(cublasGemmEx(h, g.op_b, g.op_a, g.m, g.n, g.k, g.alpha(), B, g.type, g.ld_b, A, g.type, g.ld_a,
                              g.beta(), C, g.type, g.ld_c, g.compute, CUBLAS_GEMM_DEFAULT));
  } else {
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(h, g.op_b, g.op_a, g.m, g.n, g.k, g.alpha(), B, g.type, g.ld_b,
                                            (long long)stride_b, A, g.type, g.ld_a, (long long)stride_a, g.beta(), C,
                                            g.type, g.ld_c, (long long)stride_c, nbatch, g.compute,
                                            CUBLAS_GEMM_DEFAULT));
  }
}

// ptrs[i] = A_i, ptrs[batch + i] = B_i, ptrs[2 batch + i] = C_i  (byte addresses)
__global__ void batch_pointers_kernel(const char* A, const char* B, char* C, BatchStrides s, int64_t esize,
                                      int64_t stride_c, int64_t batch, void** ptrs) {
  for (int64_t i = first_index(); i < batch; i += grid_stride()) {
    int64_t rest = i, oa = 0, ob = 0;
    for (int d = s.nd - 1; d >= 0; --d) {
      const int64_t j = rest % s.sizes[d];
      rest /= s.sizes[d];
      oa += j * s.a[d];
      ob += j * s.b[d];
    }
    ptrs[i] = (void*)(A + oa * esize);
    ptrs[batch + i] = (void*)(B + ob * esize);
    ptrs[2 * batch + i] = (void*)(C + i * stride_c * esize);
  }
}

void gemm(DType t, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const void* A,
          int64_t lda, const void* B, int64_t ldb, double beta, void* C, int64_t ldc, int64_t stride_c,
          const BatchStrides& s) {
  int64_t batch = 1;
  for (int d = 0; d < s.nd; ++d) batch *= s.sizes[d];
  if (M == 0 || N == 0 || batch == 0) return;
  const GemmArgs g = gemm_args(t, trans_a, trans_b, M, N, K, alpha, lda, ldb, beta, ldc);
  const int nbatch = to_int(batch, "batch");
  DeviceBuffer ptrs(3 * (size_t)batch * sizeof(void*));  // stream-ordered: free once enqueued
  void** p = ptrs.as<void*>();
  batch_pointers_kernel<<<grid_for(batch), kThreads, 0, stream()>>>(
      static_cast<const char*>(A), static_cast<const char*>(B), static_cast<char*>(C), s, (int64_t)dtype_size(t),
      stride_c, batch, p);
  CUDA_CHECK_LAUNCH();
  // cuBLAS's first operand is B (see the top of this file)
  CUBLAS_CHECK(cublasGemmBatchedEx(cublas(), g.op_b, g.op_a, g.m, g.n, g.k, g.alpha(), (const void* const*)(p + batch),
                                   g.type, g.ld_b, (const void* const*)p, g.type, g.ld_a, g.beta(), p + 2 * batch,
                                   g.type, g.ld_c, nbatch, g.compute, CUBLAS_GEMM_DEFAULT));
}

}  // namespace bertlab::cuda
