// tests/ops/test_gemm_packed.cpp — the packed-weight GEMM (ops/cpu/gemm_packed.h) and linear
// through it: against float64 sums, within K * 2^-24 * sum |a w| (float32 summation).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>

#include "autograd/autocast.h"
#include "ops/cpu/gemm_packed.h"
#include "ops/ops.h"
#include "ops/optim.h"

using namespace bertlab;

namespace {

void check_packed(int64_t M, int64_t N, int64_t K, int64_t pad, bool beta1) {
  INFO("M=" << M << " N=" << N << " K=" << K << " pad=" << pad << " beta=" << beta1);
  std::mt19937 rng((unsigned)(M * 7919 + N * 31 + K));
  std::normal_distribution<float> d(0.0f, 1.0f);
  const int64_t lda = K + pad, ldw = K + 2 * pad, ldc = N + pad;
  std::vector<float> A(M * lda), W(N * ldw), C(M * ldc);
  for (auto& v : A) v = d(rng);
  for (auto& v : W) v = d(rng);
  for (auto& v : C) v = beta1 ? d(rng) : std::numeric_limits<float>::quiet_NaN();  // beta 0 must not read C
  const std::vector<float> C0 = C;
  Tensor packed = cpu::pack_weight(W.data(), N, K, ldw);
  cpu::gemm_packed(M, N, K, A.data(), lda, packed, beta1 ? 1.0f : 0.0f, C.data(), ldc);
  int bad = 0;
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double s = beta1 ? C0[i * ldc + j] : 0.0, sa = std::fabs(s);
      for (int64_t k = 0; k < K; ++k) {
        s += (double)A[i * lda + k] * W[j * ldw + k];
        sa += std::fabs((double)A[i * lda + k] * W[j * ldw + k]);
      }
      const double bound = (K + 2) * 0x1p-24 * sa + 1e-30;
      if (!(std::fabs(C[i * ldc + j] - s) <= bound) && bad++ < 3)
        FAIL_CHECK("C[" << i << "," << j << "] = " << C[i * ldc + j] << ", want " << s << " +- " << bound);
    }
    for (int64_t j = N; j < ldc; ++j)  // padding untouched (NaN stays NaN)
      CHECK((std::isnan(C0[i * ldc + j]) ? std::isnan(C[i * ldc + j]) : C[i * ldc + j] == C0[i * ldc + j]));
  }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("packed GEMM against float64: every edge of the 6 x 16 tile and the 256-deep K block") {
  if (!cpu::packed_gemm_available()) {
    MESSAGE("this CPU has no AVX2 + FMA: the packed kernel is not used here");
    CHECK_THROWS_WITH_AS(cpu::gemm_packed(1, 1, 1, nullptr, 1, cpu::pack_weight(nullptr, 1, 1, 1), 0, nullptr, 1),
                         doctest::Contains("AVX2"), Error);
    return;
  }
  for (int64_t M : {1, 5, 6, 7, 13, 128})
    for (int64_t N : {1, 15, 16, 17, 40})
      for (int64_t K : {1, 7, 256, 257, 600}) check_packed(M, N, K, 0, false);
  check_packed(130, 768, 768, 3, true);  // a BERT projection, padded strides, C += A W^T
  check_packed(7, 33, 513, 1, true);
  check_packed(0, 16, 8, 0, false);
  // K = 0: C = beta * C
  std::vector<float> C = {3.0f, 4.0f};
  cpu::gemm_packed(1, 2, 0, nullptr, 1, cpu::pack_weight(nullptr, 2, 0, 1), 1.0f, C.data(), 2);
  CHECK(C == std::vector<float>{3.0f, 4.0f});
  cpu::gemm_packed(1, 2, 0, nullptr, 1, cpu::pack_weight(nullptr, 2, 0, 1), 0.0f, C.data(), 2);
  CHECK(C == std::vector<float>{0.0f, 0.0f});
  std::vector<float> big(17 * 4, 1.0f);
  CHECK_THROWS_WITH_AS(cpu::gemm_packed(1, 17, 4, big.data(), 4, cpu::pack_weight(big.data(), 2, 4, 4), 0.0f, big.data(), 17),
                       doctest::Contains("packed weight has"), Error);
}

TEST_CASE("linear through the packed kernel: same as OpenBLAS, and the packed weight follows optimizer steps") {
  if (!cpu::packed_gemm_available()) return;
  const bool was = cpu::packed_gemm_enabled();
  Generator g(21);
  Tensor x = randn({3, 7, 50}, g), w = randn({37, 50}, g).set_requires_grad(), b = randn({37}, g);
  cpu::set_packed_gemm(false);
  Tensor ref = linear(x, w, b);
  cpu::set_packed_gemm(true);
  const int64_t builds = cached_bf16_builds();
  Tensor got = linear(x, w, b);
  CHECK(cached_bf16_builds() == builds + 1);  // packed once
  std::vector<float> r = ref.tolist<float>(), o = got.tolist<float>();
  for (size_t i = 0; i < r.size(); ++i) CHECK(std::fabs(r[i] - o[i]) <= 1e-4 * (1 + std::fabs(r[i])));
  linear(x, w, b);
  CHECK(cached_bf16_builds() == builds + 1);  // reused
  // an AdamW step changes w: the next forward packs again and agrees with OpenBLAS on the new w
  Tensor grad = ones({37, 50}), m = zeros({37, 50}), v = zeros({37, 50});
  adamw_step_(w.detach(), grad, m, v, 0.1, 0.9, 0.999, 1e-8, 0.0, 1);
  Tensor got2 = linear(x, w, b);
  CHECK(cached_bf16_builds() == builds + 2);
  cpu::set_packed_gemm(false);
  Tensor ref2 = linear(x, w, b);
  cpu::set_packed_gemm(true);
  r = ref2.tolist<float>();
  o = got2.tolist<float>();
  for (size_t i = 0; i < r.size(); ++i) CHECK(std::fabs(r[i] - o[i]) <= 1e-4 * (1 + std::fabs(r[i])));
  // and under bfloat16 autocast, the packed rounded weight gives what the unpacked path gives
  {
    AutocastGuard ac(DType::BFloat16);
    NoGradGuard ng;
    Tensor p16 = linear(x, w, b);
    cpu::set_packed_gemm(false);
    Tensor u16 = linear(x, w, b);
    cpu::set_packed_gemm(true);
    r = u16.tolist<float>();
    o = p16.tolist<float>();
    for (size_t i = 0; i < r.size(); ++i) CHECK(std::fabs(r[i] - o[i]) <= 1e-4 * (1 + std::fabs(r[i])));
  }
  cpu::set_packed_gemm(was);
}
