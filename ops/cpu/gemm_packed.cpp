// ops/cpu/gemm_packed.cpp — see gemm_packed.h.
#include "ops/cpu/gemm_packed.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ops/cpu/cpu_features.h"

namespace bertlab::cpu {

namespace {

constexpr int64_t MR = 6, NR = 16, KC = 256;

// c[0..MR) x [0..NR) (row stride ldc) (=, or += when accumulate) the product of rows a[r]
// (r < MR, each at a + r * lda) over k < kc with the panel block b (kc x NR, K-major).
__attribute__((target("avx2,fma"))) void micro_6x16(int64_t kc, const float* a, int64_t lda, const float* b,
                                                     float* c, int64_t ldc, bool accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(),
         c11 = _mm256_setzero_ps(), c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(),
         c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps(), c40 = _mm256_setzero_ps(),
         c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda, *a4 = a + 4 * lda, *a5 = a + 5 * lda;
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b + k * NR), b1 = _mm256_loadu_ps(b + k * NR + 8);
    __m256 x = _mm256_broadcast_ss(a0 + k);
    c00 = _mm256_fmadd_ps(x, b0, c00);
    c01 = _mm256_fmadd_ps(x, b1, c01);
    x = _mm256_broadcast_ss(a1 + k);
    c10 = _mm256_fmadd_ps(x, b0, c10);
    c11 = _mm256_fmadd_ps(x, b1, c11);
    x = _mm256_broadcast_ss(a2 + k);
    c20 = _mm256_fmadd_ps(x, b0, c20);
    c21 = _mm256_fmadd_ps(x, b1, c21);
    x = _mm256_broadcast_ss(a3 + k);
    c30 = _mm256_fmadd_ps(x, b0, c30);
    c31 = _mm256_fmadd_ps(x, b1, c31);
    x = _mm256_broadcast_ss(a4 + k);
    c40 = _mm256_fmadd_ps(x, b0, c40);
    c41 = _mm256_fmadd_ps(x, b1, c41);
    x = _mm256_broadcast_ss(a5 + k);
    c50 = _mm256_fmadd_ps(x, b0, c50);
    c51 = _mm256_fmadd_ps(x, b1, c51);
  }
  const __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int r = 0; r < MR; ++r)
    for (int h = 0; h < 2; ++h) {
      float* p = c + r * ldc + h * 8;
      _mm256_storeu_ps(p, accumulate ? _mm256_add_ps(_mm256_loadu_ps(p), acc[r][h]) : acc[r][h]);
    }
}

}  // namespace

bool packed_gemm_available() { return cpu_features().avx2; }

static bool& packed_flag() {
  static bool on = [] {
    const char* v = std::getenv("BERTLAB_PACKED_GEMM");
    return packed_gemm_available() && v && std::string(v) == "1";
  }();
  return on;
}
bool packed_gemm_enabled() { return packed_flag(); }
void set_packed_gemm(bool on) { packed_flag() = on && packed_gemm_available(); }

Tensor pack_weight(const float* W, int64_t N, int64_t K, int64_t ldw) {
  const int64_t panels = (N + NR - 1) / NR;
  Tensor out = zeros({checked_mul(checked_mul(panels, K, "pack_weight"), NR, "pack_weight")});
  float* d = out.data<float>();
#pragma omp parallel for schedule(static) if (N * K > 65536)
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t j = 0; j < NR && p * NR + j < N; ++j) {
      const float* w = W + (p * NR + j) * ldw;
      for (int64_t k = 0; k < K; ++k) d[(p * K + k) * NR + j] = w[k];
    }
  return out;
}

void gemm_packed(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const Tensor& packed, float beta,
                 float* C, int64_t ldc) {
  const int64_t panels = (N + NR - 1) / NR;
  if (packed.numel() != panels * K * NR)
    fail("gemm_packed: the packed weight has " + std::to_string(packed.numel()) + " values, a " +
         std::to_string(N) + " x " + std::to_string(K) + " weight packs into " + std::to_string(panels * K * NR));
  if (beta != 0 && beta != 1) fail("gemm_packed: beta must be 0 or 1, got " + std::to_string(beta));
  if (!packed_gemm_available()) fail("gemm_packed: this CPU has no AVX2 + FMA (" + cpu_features_str() + ")");
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0 ? 0.0f : C[i * ldc + j];
    return;
  }
  const float* B = packed.data<float>();
  const int64_t full_rows = M / MR * MR;
#pragma omp parallel
  {
    // a last partial row block, zero-padded to MR rows; a partial panel's tile of C
    alignas(32) float a_tail[MR * KC];
    alignas(32) float c_tile[MR * NR];
    const int nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t p0 = panels * t / nt, p1 = panels * (t + 1) / nt;
    for (int64_t k0 = 0; k0 < K; k0 += KC) {
      const int64_t kc = std::min(KC, K - k0);
      const bool acc = k0 > 0 || beta != 0;
      for (int64_t p = p0; p < p1; ++p) {
        const float* b = B + (p * K + k0) * NR;
        const int64_t n0 = p * NR, nr = std::min(NR, N - n0);
        for (int64_t i = 0; i < M; i += MR) {
          const int64_t mr = std::min(MR, M - i);
          const float* a = A + i * lda + k0;
          int64_t a_ld = lda;
          if (i >= full_rows) {  // fewer than MR rows left: copy them, zeros below
            std::memset(a_tail, 0, sizeof a_tail);
            for (int64_t r = 0; r < mr; ++r) std::memcpy(a_tail + r * KC, A + (i + r) * lda + k0, kc * sizeof(float));
            a = a_tail;
            a_ld = KC;
          }
          if (mr == MR && nr == NR) {
            micro_6x16(kc, a, a_ld, b, C + i * ldc + n0, ldc, acc);
          } else {  // an edge tile: through c_tile, only the valid part written back
            std::memset(c_tile, 0, sizeof c_tile);
            if (acc)
              for (int64_t r = 0; r < mr; ++r)
                for (int64_t j = 0; j < nr; ++j) c_tile[r * NR + j] = C[(i + r) * ldc + n0 + j];
            micro_6x16(kc, a, a_ld, b, c_tile, NR, true);
            for (int64_t r = 0; r < mr; ++r)
              for (int64_t j = 0; j < nr; ++j) C[(i + r) * ldc + n0 + j] = c_tile[r * NR + j];
          }
        }
      }
    }
  }
}

}  // namespace bertlab::cpu
