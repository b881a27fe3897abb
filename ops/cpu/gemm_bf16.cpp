// ops/cpu/gemm_bf16.cpp — see gemm_bf16.h.
#include "ops/cpu/gemm_bf16.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "autograd/tensor.h"
#include "ops/cpu/cpu_features.h"
#include "ops/cpu/gemm.h"

namespace bertlab::cpu {

const char* bf16_gemm_name(Bf16Gemm k) {
  switch (k) {
    case Bf16Gemm::Fp32: return "fp32";
  }
  return "?";
}

Bf16Gemm parse_bf16_gemm(const std::string& v) {
  if (v.empty() || v == "auto") return Bf16Gemm::Fp32;  // the best this build has for any CPU
  if (v == "fp32") return Bf16Gemm::Fp32;
  fail("BERTLAB_BF16_GEMM is \"" + v.substr(0, 40) +
       "\": expected auto or fp32 (the bf16 GEMM kernels of this build; this CPU: " + cpu_features_str() + ")");
}

Bf16Gemm bf16_gemm_kernel() {
  static const Bf16Gemm k = [] {
    const char* v = std::getenv("BERTLAB_BF16_GEMM");
    return parse_bf16_gemm(v ? v : "");
  }();
  return k;
}

// The R x C matrix at src (row stride ld) as a dense float32 R x C matrix at dst.
static void widen(const bfloat16* src, int64_t R, int64_t C, int64_t ld, float* dst) {
  for (int64_t r = 0; r < R; ++r) bf16_to_float(src + r * ld, dst + r * C, C);
}

// fp32 kernel: each operand widened once per call into a dense float32 copy, then one sgemm
// call for the whole batch (which threads itself, or one product per thread; ops/cpu/gemm.cpp).
static void gemm_fp32(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const bfloat16* A,
                      int64_t lda, int64_t sa, const bfloat16* B, int64_t ldb, int64_t sb, double beta, float* C,
                      int64_t ldc, int64_t sc, int64_t batch) {
  // As stored: A is M x K (or K x M when transposed), B is K x N (or N x K).
  const int64_t ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
  std::vector<float> a((size_t)(batch * ar * ac)), b((size_t)(batch * br * bc));
#pragma omp parallel for schedule(static) if (batch * (ar * ac + br * bc) > 65536)
  for (int64_t i = 0; i < batch; ++i) {
    widen(A + i * sa, ar, ac, lda, a.data() + i * ar * ac);
    widen(B + i * sb, br, bc, ldb, b.data() + i * br * bc);
  }
  gemm(DType::Float32, ta, tb, M, N, K, alpha, a.data(), ac, ar * ac, b.data(), bc, br * bc, beta, C, ldc, sc,
       batch);
}

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const bfloat16* A,
               int64_t lda, int64_t stride_a, const bfloat16* B, int64_t ldb, int64_t stride_b, double beta,
               float* C, int64_t ldc, int64_t stride_c, int64_t batch) {
  if (M < 0 || N < 0 || K < 0 || batch < 0)
    fail("gemm_bf16: negative size M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" +
         std::to_string(K) + " batch=" + std::to_string(batch));
  if (M == 0 || N == 0 || batch == 0) return;
  if (K == 0) {  // an empty sum: C = beta * C (C's old values are not read when beta is 0)
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          float& c = C[b * stride_c + i * ldc + j];
          c = beta == 0 ? 0.0f : (float)(beta * c);
        }
    return;
  }
  switch (bf16_gemm_kernel()) {
    case Bf16Gemm::Fp32:
      gemm_fp32(trans_a, trans_b, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C, ldc, stride_c, batch);
      break;
  }
}

}  // namespace bertlab::cpu
