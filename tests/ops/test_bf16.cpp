// tests/ops/test_bf16.cpp — the bfloat16 dtype (autograd/bfloat16.h) and the bf16 GEMM
// (ops/cpu/gemm_bf16.h).
//
// Rounding is checked against an independent rule: of the two bfloat16 values around x, the
// nearer, ties to the one with an even last bit, decided by exact distances in double (or long
// double for float64 inputs). The GEMM is checked against float64 products of the same bfloat16
// values, within K * 2^-24 * sum_k |a_ik b_kj| (the float32 summation bound: each product is
// exact in float32, each of the at most K additions rounds by at most 2^-24 relative).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "autograd/bfloat16.h"
#include "ops/cpu/cpu_features.h"
#include "ops/cpu/gemm_bf16.h"
#include "ops/cpu/gemm_packed.h"
#include "ops/ops.h"
#include "ops/optim.h"

using namespace bertlab;

namespace {

// meson runs this file once per kernel (BERTLAB_BF16_GEMM=amx, ...): a kernel this processor
// cannot run is a skip (exit 77), not a pass.
const int kSkipUnavailable = [] {
  const char* v = std::getenv("BERTLAB_BF16_GEMM");
  if (!v) return 0;
  for (cpu::Bf16Gemm k : {cpu::Bf16Gemm::Amx, cpu::Bf16Gemm::Avx512Bf16, cpu::Bf16Gemm::Fp32})
    if (std::string(v) == cpu::bf16_gemm_name(k) && !cpu::bf16_gemm_available(k)) {
      std::printf("SKIP: BERTLAB_BF16_GEMM=%s, which this CPU cannot run (%s)\n", v, cpu::cpu_features_str().c_str());
      std::exit(77);
    }
  return 0;
}();

// The correctly rounded bfloat16 of a finite double x whose magnitude is within float range,
// by comparing distances to the two neighbours (all exact in long double: 64-bit mantissa).
uint16_t reference_round(long double x) {
  const uint16_t sign = std::signbit((double)x) ? 0x8000 : 0;
  const long double ax = std::fabs(x);
  // the largest bfloat16 magnitude <= ax: step down from the top
  uint16_t lo = 0;
  for (int bit = 14; bit >= 0; --bit) {
    uint16_t t = lo | (uint16_t)(1u << bit);
    if (t < 0x7f80 && (long double)bf16_bits_to_float(t) <= ax) lo = t;
  }
  const uint16_t hi = lo + 1;  // the next magnitude (0x7f80 is infinity)
  const long double dlo = ax - bf16_bits_to_float(lo);
  const long double vhi = hi == 0x7f80 ? std::ldexp(1.0L, 128) : (long double)bf16_bits_to_float(hi);
  const long double dhi = vhi - ax;
  uint16_t r = dlo < dhi ? lo : dhi < dlo ? hi : ((lo & 1) ? hi : lo);
  return (uint16_t)(sign | r);
}

float bits_to_f(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace

TEST_CASE("float32 -> bfloat16 rounds to nearest, ties to even, on random and edge bit patterns") {
  std::mt19937 rng(7);
  auto check = [](uint32_t u) {
    const float f = bits_to_f(u);
    const uint16_t got = float_to_bf16_bits(f);
    if (std::isnan(f)) {
      CHECK_MESSAGE(((got & 0x7f80) == 0x7f80 && (got & 0x7f) != 0), "NaN stays NaN: " << std::hex << u);
      CHECK((got & 0x8000) == ((u >> 16) & 0x8000));
      CHECK((got & 0x0040) != 0);  // quiet
      return;
    }
    if (std::isinf(f)) {
      CHECK(got == (uint16_t)(u >> 16));
      return;
    }
    const uint16_t want = reference_round(f);
    if (got != want) FAIL_CHECK("float " << std::hexfloat << f << ": got 0x" << std::hex << got << ", want 0x" << want);
  };
  for (int i = 0; i < 2000000; ++i) check(rng());
  // exact ties (dropped half 0x8000) with even and odd kept halves, one below and above them
  for (uint32_t hi = 0; hi < 0x10000; hi += 37)
    for (uint32_t low : {0x7fffu, 0x8000u, 0x8001u, 0x0000u, 0xffffu}) check((hi << 16) | low);
  for (uint32_t u : {0x7f7fffffu, 0x7f7f8000u, 0x7f7f7fffu, 0x00000001u, 0x80000001u, 0x007fffffu,
                     0x7fc00000u, 0xffc00001u, 0x7f800001u, 0x7f800000u, 0xff800000u, 0x80000000u})
    check(u);
  CHECK(float_to_bf16_bits(bits_to_f(0x7f7fffffu)) == 0x7f80);  // FLT_MAX rounds up to infinity
  CHECK(float_to_bf16_bits(bits_to_f(0x7f800001u)) == 0x7fc0);  // a signalling NaN comes out quiet
  CHECK(float_to_bf16_bits(-0.0f) == 0x8000);
}

TEST_CASE("float64 -> bfloat16 rounds once: no double rounding through float32") {
  // 1 + 2^-8 + 2^-30: float32 rounds it to the tie 1 + 2^-8, which would then go to even (1);
  // the value is above the tie, so the right answer is 1 + 2^-7.
  CHECK(bfloat16(1.0 + 0x1p-8 + 0x1p-30).bits == 0x3f81);
  CHECK(bfloat16(-(1.0 + 0x1p-8 + 0x1p-30)).bits == 0xbf81);
  CHECK(bfloat16(1.0 + 0x1p-8).bits == 0x3f80);  // an exact tie: to even
  CHECK(bfloat16(1.0 + 0x1p-8 - 0x1p-40).bits == 0x3f80);
  CHECK(bfloat16(1e39).bits == 0x7f80);    // beyond float: infinity
  CHECK(bfloat16(-1e39).bits == 0xff80);
  CHECK(bfloat16(1e-50).bits == 0x0000);   // below bfloat16's subnormals: zero, sign kept
  CHECK(bfloat16(-1e-50).bits == 0x8000);
  CHECK(std::isnan((float)bfloat16(std::nan(""))));
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> mant(1.0, 2.0);
  std::uniform_int_distribution<int> ex(-140, 127);
  for (int i = 0; i < 500000; ++i) {
    const double d = std::ldexp(mant(rng), ex(rng)) * (rng() & 1 ? -1 : 1);
    const uint16_t got = bfloat16(d).bits, want = reference_round(d);
    if (got != want) FAIL_CHECK("double " << std::hexfloat << d << ": got 0x" << std::hex << got << ", want 0x" << want);
  }
  // integers: exact while they fit in 8 bits, rounded beyond
  CHECK((float)bfloat16((int64_t)255) == 255.0f);
  CHECK((float)bfloat16((int64_t)257) == 256.0f);  // tie between 256 and 258: even (256)
  CHECK((float)bfloat16((int64_t)259) == 260.0f);
}

TEST_CASE("bfloat16 tensors: conversion, copies of views, fills, random draws, printing") {
  Tensor x = from_vector(std::vector<float>{1.0f, 1.0f + 0x1p-8f, 3.14159f, -2.0f, 1e-40f, 65504.0f}, {2, 3});
  Tensor b = x.to(DType::BFloat16);
  CHECK(b.dtype() == DType::BFloat16);
  CHECK(dtype_size(DType::BFloat16) == 2);
  CHECK(std::string(dtype_name(DType::BFloat16)) == "bfloat16");
  CHECK(is_floating(DType::BFloat16));
  const bfloat16* p = b.data<bfloat16>();
  for (int i = 0; i < 6; ++i) CHECK(p[i].bits == float_to_bf16_bits(x.tolist<float>()[i]));
  // back to float32 exactly, and float64 gives the same values
  std::vector<float> w = b.to(DType::Float32).tolist<float>();
  CHECK(w[1] == 1.0f);
  CHECK(w[2] == 3.140625f);
  CHECK(b.tolist<double>()[2] == 3.140625);
  // strided copy into a transposed bfloat16 view
  Tensor t = empty({3, 2}, DType::BFloat16);
  copy_(transpose(t, 0, 1), x);
  CHECK(t.to(DType::Float32).tolist<float>() == std::vector<float>{1.0f, -2.0f, 1.0f, (float)bfloat16(1e-40f), 3.140625f, 65536.0f});
  fill_(t, 0.1);
  for (float v : t.tolist<float>()) CHECK(v == (float)bfloat16(0.1));
  // random draws: the float64 draw, rounded once
  Generator g1(5), g2(5);
  Tensor rb = randn({1000}, g1, 0.0, 1.0, DType::BFloat16);
  Tensor rd = randn({1000}, g2, 0.0, 1.0, DType::Float64);
  std::vector<double> vd = rd.tolist<double>();
  std::vector<float> vb = rb.tolist<float>();
  for (int i = 0; i < 1000; ++i) CHECK(vb[i] == (float)bfloat16(vd[i]));
  CHECK(b.str().find("dtype=bfloat16") != std::string::npos);
  CHECK(b.str().find("3.1406") != std::string::npos);
}

TEST_CASE("ops that do not take bfloat16 say so, naming the op and the dtype") {
  Tensor b = ones({2, 2}, DType::BFloat16);
  CHECK_THROWS_WITH_AS(add(b, b), doctest::Contains("bfloat16"), Error);
  CHECK_THROWS_WITH_AS(softmax(b, -1), doctest::Contains("bfloat16"), Error);
  CHECK_THROWS_WITH_AS(b.data<float>(), doctest::Contains("on a bfloat16 tensor"), Error);
}

namespace {

// C = alpha op(A) op(B) + beta C0 in float64 from bfloat16 operands, and the error bound.
struct Ref {
  std::vector<double> c, bound;
};
Ref reference_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const bfloat16* A,
                   int64_t lda, const bfloat16* B, int64_t ldb, double beta, const float* C0, int64_t ldc) {
  Ref r{std::vector<double>(M * N), std::vector<double>(M * N)};
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0, sa = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double a = (float)(ta ? A[k * lda + i] : A[i * lda + k]);
        const double b = (float)(tb ? B[j * ldb + k] : B[k * ldb + j]);
        s += a * b;
        sa += std::fabs(a * b);
      }
      const double c0 = beta == 0 ? 0 : C0[i * ldc + j];
      r.c[i * N + j] = alpha * s + beta * c0;
      // K additions of products, the scaling by alpha and the addition of beta * C0, each
      // rounding by at most 2^-24 relative in float32 (1.0001: the terms' own roundings)
      r.bound[i * N + j] = (double)(K + 3) * 0x1p-24 * 1.0001 * (std::fabs(alpha) * sa + std::fabs(beta * c0)) + 1e-35;
    }
  return r;
}

std::vector<bfloat16> random_bf16(size_t n, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<bfloat16> v(n);
  for (auto& x : v) x = bfloat16(d(rng));
  return v;
}

void check_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, double beta, int64_t batch,
                int64_t pad) {
  std::mt19937 rng((unsigned)(M * 131 + N * 17 + K + ta * 2 + tb));
  const int64_t ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
  const int64_t lda = ac + pad, ldb = bc + pad, ldc = N + pad;
  const int64_t sa = ar * lda + 3, sb = br * ldb + 5, sc = M * ldc + 1;  // batch strides with gaps
  std::vector<bfloat16> A = random_bf16((size_t)(sa * batch), rng), B = random_bf16((size_t)(sb * batch), rng);
  std::vector<float> C((size_t)(sc * batch));
  std::normal_distribution<float> d(0.0f, 1.0f);
  for (auto& c : C) c = d(rng);
  const std::vector<float> C0 = C;
  cpu::gemm_bf16(ta, tb, M, N, K, alpha, A.data(), lda, sa, B.data(), ldb, sb, beta, C.data(), ldc, sc, batch);
  for (int64_t b = 0; b < batch; ++b) {
    Ref r = reference_gemm(ta, tb, M, N, K, alpha, A.data() + b * sa, lda, B.data() + b * sb, ldb, beta,
                           C0.data() + b * sc, ldc);
    int bad = 0;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        const double got = C[b * sc + i * ldc + j], want = r.c[i * N + j];
        if (!(std::fabs(got - want) <= r.bound[i * N + j]) && bad++ < 3)
          FAIL_CHECK("gemm_bf16 ta=" << ta << " tb=" << tb << " M=" << M << " N=" << N << " K=" << K << " batch "
                                     << b << " C[" << i << "," << j << "] = " << got << ", want " << want
                                     << " +- " << r.bound[i * N + j]);
      }
    CHECK(bad == 0);
    // the padding between rows and matrices is untouched
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = N; j < ldc; ++j) CHECK(C[b * sc + i * ldc + j] == C0[b * sc + i * ldc + j]);
  }
}

}  // namespace

TEST_CASE("bf16 GEMM against float64 products of the same values: odd shapes, transposes, batches, beta") {
  INFO("kernel: " << cpu::bf16_gemm_name(cpu::bf16_gemm_kernel()) << "; cpu: " << cpu::cpu_features_str());
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_gemm(ta, tb, 1, 1, 1, 1.0, 0.0, 1, 0);     // K = 1
      check_gemm(ta, tb, 7, 5, 3, 1.0, 0.0, 1, 2);     // smaller than any tile
      check_gemm(ta, tb, 33, 17, 65, 0.5, 1.0, 1, 1);  // past a 32 / 16 tile edge, alpha and beta
      check_gemm(ta, tb, 16, 32, 32, 1.0, 0.0, 3, 0);  // exact tiles, a strided batch
      check_gemm(ta, tb, 130, 67, 769, 1.0, 0.5, 2, 3);
    }
  check_gemm(false, true, 128, 256, 768, 1.0, 0.0, 1, 0);  // a BERT projection (x W^T)
  // AMX reads a row-major bfloat16 A in place when K is a multiple of 32 (gemm_bf16.cpp's AView):
  check_gemm(false, false, 96, 40, 64, 1.0, 0.5, 1, 0);   // whole row blocks, threads by columns
  check_gemm(false, true, 70, 48, 96, 1.0, 0.0, 1, 5);    // a partial row block: A packed instead
  check_gemm(false, true, 480, 20, 320, 1.0, 1.0, 1, 0);  // one column block: threads share blocks
  // large M: the threads split the rows and pack their chunks as they go; the last chunk, with
  // a partial row block, is packed while the others are read in place
  check_gemm(false, true, 530, 96, 64, 1.0, 0.5, 1, 0);
  check_gemm(false, false, 1100, 70, 96, 0.5, 0.0, 1, 3);
  check_gemm(true, true, 600, 50, 40, 1.0, 1.0, 1, 1);    // transposed A: always packed
  check_gemm(false, false, 0, 5, 3, 1.0, 0.0, 1, 0);       // empty
  // K = 0: C = beta * C
  std::vector<float> C = {2.0f, 4.0f};
  cpu::gemm_bf16(false, false, 1, 2, 0, 1.0, nullptr, 1, 0, nullptr, 2, 0, 0.5, C.data(), 2, 2, 1);
  CHECK(C == std::vector<float>{1.0f, 2.0f});
}

TEST_CASE("the bf16 GEMM kernel is chosen at run time and can be forced; unknown names are refused") {
  // auto: the best kernel this processor runs
  const cpu::Bf16Gemm best = cpu::bf16_gemm_available(cpu::Bf16Gemm::Amx)          ? cpu::Bf16Gemm::Amx
                             : cpu::bf16_gemm_available(cpu::Bf16Gemm::Avx512Bf16) ? cpu::Bf16Gemm::Avx512Bf16
                                                                                   : cpu::Bf16Gemm::Fp32;
  CHECK(cpu::parse_bf16_gemm("") == best);
  CHECK(cpu::parse_bf16_gemm("auto") == best);
  CHECK(cpu::parse_bf16_gemm("fp32") == cpu::Bf16Gemm::Fp32);
  for (cpu::Bf16Gemm k : {cpu::Bf16Gemm::Amx, cpu::Bf16Gemm::Avx512Bf16}) {
    if (cpu::bf16_gemm_available(k))
      CHECK(cpu::parse_bf16_gemm(cpu::bf16_gemm_name(k)) == k);
    else
      CHECK_THROWS_WITH_AS(cpu::parse_bf16_gemm(cpu::bf16_gemm_name(k)), doctest::Contains("this processor cannot run it"), Error);
  }
  CHECK_THROWS_WITH_AS(cpu::parse_bf16_gemm("amx-please"), doctest::Contains("BERTLAB_BF16_GEMM is \"amx-please\""), Error);
  // what the CPU has is consistent: AVX512-BF16 implies AVX-512, AMX-BF16 needs the OS's tile state
  const auto& f = cpu::cpu_features();
  if (f.avx512_bf16) CHECK(f.avx512f);
  if (f.amx_bf16) CHECK(f.amx_tile);
  MESSAGE("this CPU: " << f.vendor << ", " << cpu::cpu_features_str() << "; kernel " << cpu::bf16_gemm_name(cpu::bf16_gemm_kernel()));
}

namespace {

std::vector<cpu::Bf16Gemm> available_kernels() {
  std::vector<cpu::Bf16Gemm> ks;
  for (cpu::Bf16Gemm k : {cpu::Bf16Gemm::Fp32, cpu::Bf16Gemm::Avx512Bf16, cpu::Bf16Gemm::Amx})
    if (cpu::bf16_gemm_available(k)) ks.push_back(k);
  return ks;
}

// Restores the kernel in use at the end of a test that switches them.
struct KernelRestore {
  cpu::Bf16Gemm k = cpu::bf16_gemm_kernel();
  ~KernelRestore() { cpu::set_bf16_gemm_kernel(k); }
};

std::vector<float> random_f32(size_t n, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// C = alpha op(A) op(B) + beta C for float32 operands rounded to bfloat16, matrices found
// through offset tables (batch matrices in reverse order, as no single stride walks them),
// against float64 products of the rounded values.
void check_gemm_f32(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, double beta, int64_t batch) {
  std::mt19937 rng((unsigned)(M * 7 + N * 3 + K * 11 + ta + 2 * tb));
  const int64_t ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
  const int64_t lda = ac + 1, ldb = bc + 2, ldc = N + 3;
  std::vector<float> A = random_f32((size_t)(ar * lda * batch), rng), B = random_f32((size_t)(br * ldb * batch), rng);
  std::vector<float> C = random_f32((size_t)(M * ldc * batch), rng);
  const std::vector<float> C0 = C;
  std::vector<int64_t> ao(batch), bo(batch), co(batch);
  for (int64_t b = 0; b < batch; ++b) {
    ao[b] = (batch - 1 - b) * ar * lda;
    bo[b] = (batch - 1 - b) * br * ldb;
    co[b] = b * M * ldc;
  }
  cpu::Bf16Operand oa{A.data(), false, ta, lda, 0, ao.data()}, ob{B.data(), false, tb, ldb, 0, bo.data()};
  cpu::gemm_bf16(M, N, K, alpha, oa, ob, beta, C.data(), ldc, 0, co.data(), batch);
  // the same values as bfloat16, for the reference
  std::vector<bfloat16> Ab(A.size()), Bb(B.size());
  for (size_t i = 0; i < A.size(); ++i) Ab[i] = bfloat16(A[i]);
  for (size_t i = 0; i < B.size(); ++i) Bb[i] = bfloat16(B[i]);
  int bad = 0;
  for (int64_t b = 0; b < batch; ++b) {
    Ref r = reference_gemm(ta, tb, M, N, K, alpha, Ab.data() + ao[b], lda, Bb.data() + bo[b], ldb, beta,
                           C0.data() + co[b], ldc);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < ldc; ++j) {
        const float got = C[co[b] + i * ldc + j];
        if (j >= N) {
          CHECK(got == C0[co[b] + i * ldc + j]);  // the gap between rows is untouched
          continue;
        }
        if (!(std::fabs(got - r.c[i * N + j]) <= r.bound[i * N + j]) && bad++ < 3)
          FAIL_CHECK("float32 operands ta=" << ta << " tb=" << tb << " " << M << "x" << N << "x" << K << " batch " << b
                                            << " C[" << i << "," << j << "] = " << got << ", want " << r.c[i * N + j]);
      }
  }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("bf16 GEMM on float32 operands (rounded as they are packed), through offset tables, every kernel") {
  KernelRestore restore;
  for (cpu::Bf16Gemm k : available_kernels()) {
    cpu::set_bf16_gemm_kernel(k);
    INFO("kernel " << cpu::bf16_gemm_name(k));
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        check_gemm_f32(ta, tb, 1, 1, 1, 1.0, 0.0, 1);
        check_gemm_f32(ta, tb, 31, 33, 47, 0.25, 1.0, 3);  // 1 short of / past the 32-block edges
        check_gemm_f32(ta, tb, 64, 48, 96, 1.0, 0.0, 2);
      }
    check_gemm_f32(false, true, 5, 7, 128, 1.0, 0.0, 96);  // many small products: one per thread
  }
}

TEST_CASE("pre-packed B (linear's weight): pack_b_bf16 + gemm_bf16_packed against float64") {
  KernelRestore restore;
  for (cpu::Bf16Gemm k : available_kernels()) {
    cpu::set_bf16_gemm_kernel(k);
    INFO("kernel " << cpu::bf16_gemm_name(k));
    struct S { int64_t M, N, K; bool tb, ta; double beta; };
    for (S s : {S{1, 1, 1, true, false, 0.0}, S{3, 17, 31, true, false, 1.0}, S{40, 64, 33, false, false, 0.5},
                S{130, 96, 64, true, true, 0.0}, S{128, 768, 768, true, false, 1.0},
                S{600, 96, 128, true, false, 0.0}, S{530, 64, 96, true, true, 1.0}}) {  // (rows split)
      INFO(s.M << "x" << s.N << "x" << s.K << " tb " << s.tb << " ta " << s.ta);
      std::mt19937 rng((unsigned)(s.M + s.N + s.K));
      const int64_t br = s.tb ? s.N : s.K, bc = s.tb ? s.K : s.N, ldb = bc + 4;
      const int64_t ar = s.ta ? s.K : s.M, ac = s.ta ? s.M : s.K, lda = ac + 2;
      std::vector<float> A = random_f32((size_t)(ar * lda), rng), B = random_f32((size_t)(br * ldb), rng);
      std::vector<float> C = random_f32((size_t)(s.M * s.N), rng);
      const std::vector<float> C0 = C;
      if (k == cpu::Bf16Gemm::Fp32) {
        Tensor p = cpu::pack_b_bf16(B.data(), s.tb, s.K, s.N, ldb);
        CHECK_THROWS_WITH_AS(cpu::gemm_bf16_packed(s.M, s.N, s.K, 1.0, {A.data(), false, s.ta, lda}, p, s.beta, C.data(), s.N),
                             doctest::Contains("needs the amx or avx512_bf16 kernel"), Error);
        continue;
      }
      Tensor p = cpu::pack_b_bf16(B.data(), s.tb, s.K, s.N, ldb);
      CHECK(p.dtype() == DType::BFloat16);
      cpu::gemm_bf16_packed(s.M, s.N, s.K, 1.0, {A.data(), false, s.ta, lda}, p, s.beta, C.data(), s.N);
      std::vector<bfloat16> Ab(A.size()), Bb(B.size());
      for (size_t i = 0; i < A.size(); ++i) Ab[i] = bfloat16(A[i]);
      for (size_t i = 0; i < B.size(); ++i) Bb[i] = bfloat16(B[i]);
      Ref r = reference_gemm(s.ta, s.tb, s.M, s.N, s.K, 1.0, Ab.data(), lda, Bb.data(), ldb, s.beta, C0.data(), s.N);
      int bad = 0;
      for (int64_t i = 0; i < s.M * s.N; ++i)
        if (!(std::fabs(C[i] - r.c[i]) <= r.bound[i]) && bad++ < 3)
          FAIL_CHECK("C[" << i << "] = " << C[i] << ", want " << r.c[i]);
      CHECK(bad == 0);
      // a packed form of other sizes is refused, naming both
      CHECK_THROWS_WITH_AS(cpu::gemm_bf16_packed(s.M, s.N + 32, s.K, 1.0, {A.data(), false, s.ta, lda}, p, 0.0, C.data(), s.N + 32),
                           doctest::Contains("is not the packed form of a"), Error);
    }
  }
}

TEST_CASE("gemm_bf16_packed's epilogue: bias, GELU and a bfloat16 C, against float64") {
  KernelRestore restore;
  for (cpu::Bf16Gemm k : available_kernels()) {
    if (k == cpu::Bf16Gemm::Fp32) continue;  // (refused: the test above)
    cpu::set_bf16_gemm_kernel(k);
    INFO("kernel " << cpu::bf16_gemm_name(k));
    struct S { int64_t M, N, K; double beta; bool gelu, bias, out_bf16; };
    for (S s : {S{3, 17, 31, 0.0, true, true, false}, S{40, 70, 64, 1.0, true, true, false},
                S{33, 64, 96, 0.0, false, true, true}, S{65, 40, 64, 1.0, true, false, true},
                S{600, 96, 128, 0.0, true, true, true}, S{530, 48, 96, 1.0, false, true, false}}) {  // (rows split)
      INFO(s.M << "x" << s.N << "x" << s.K << " beta " << s.beta << " gelu " << s.gelu << " bias " << s.bias
                 << " bf16 C " << s.out_bf16);
      std::mt19937 rng((unsigned)(7 * s.M + s.N + s.K));
      const int64_t lda = s.K + 2, ldc = s.N + 3;
      std::vector<float> A = random_f32((size_t)(s.M * lda), rng), W = random_f32((size_t)(s.N * s.K), rng);
      std::vector<float> bias = random_f32((size_t)s.N, rng), C0 = random_f32((size_t)(s.M * ldc), rng);
      std::vector<uint16_t> Cb(C0.size());
      for (size_t i = 0; i < C0.size(); ++i) {
        Cb[i] = float_to_bf16_bits(C0[i]);
        if (s.out_bf16) C0[i] = bf16_bits_to_float(Cb[i]);  // what a bfloat16 C holds
      }
      std::vector<float> Cf = C0;
      Tensor p = cpu::pack_b_bf16(W.data(), true, s.K, s.N, s.K);  // linear's W (N x K)
      cpu::Bf16Result out{s.out_bf16 ? (void*)Cb.data() : (void*)Cf.data(), s.out_bf16, ldc,
                          s.bias ? bias.data() : nullptr, s.gelu ? cpu::Epilogue::GeluErf : cpu::Epilogue::None};
      cpu::gemm_bf16_packed(s.M, s.N, s.K, 1.0, {A.data(), false, false, lda}, p, s.beta, out);
      std::vector<bfloat16> Ab(A.size()), Wb(W.size());
      for (size_t i = 0; i < A.size(); ++i) Ab[i] = bfloat16(A[i]);
      for (size_t i = 0; i < W.size(); ++i) Wb[i] = bfloat16(W[i]);
      Ref r = reference_gemm(false, true, s.M, s.N, s.K, 1.0, Ab.data(), lda, Wb.data(), s.K, s.beta, C0.data(), ldc);
      int bad = 0;
      for (int64_t i = 0; i < s.M; ++i)
        for (int64_t j = 0; j < ldc; ++j) {
          const size_t at = (size_t)(i * ldc + j);
          const double got = s.out_bf16 ? (double)bf16_bits_to_float(Cb[at]) : (double)Cf[at];
          if (j >= s.N) {  // the gap between rows is untouched
            CHECK(got == (double)C0[at]);
            continue;
          }
          const double x = r.c[(size_t)(i * s.N + j)] + (s.bias ? bias[(size_t)j] : 0.0);
          const double want = s.gelu ? 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))) : x;
          // the sum's bound through GELU (|gelu'| < 1.13), the float32 bias add and verf (3e-7),
          // and for a bfloat16 C its rounding: half a unit in the 8th bit (2^-8 relative, to be safe)
          double tol = 1.13 * r.bound[(size_t)(i * s.N + j)] + 1e-6 * (1.0 + std::fabs(x));
          if (s.out_bf16) tol += std::fabs(want) * std::ldexp(1.0, -8);
          if (!(std::fabs(got - want) <= tol) && bad++ < 3)
            FAIL_CHECK("C[" << i << "," << j << "] = " << got << ", want " << want << " (tolerance " << tol << ")");
        }
      CHECK(bad == 0);
    }
  }
}

TEST_CASE("the bf16 GEMM kernels agree with each other on the same operands") {
  KernelRestore restore;
  const auto ks = available_kernels();
  MESSAGE(ks.size() << " kernel(s) on this CPU");
  std::mt19937 rng(99);
  const int64_t M = 77, N = 130, K = 300;
  std::vector<bfloat16> A = random_bf16((size_t)(M * K), rng), B = random_bf16((size_t)(K * N), rng);
  std::vector<std::vector<float>> out;
  for (cpu::Bf16Gemm k : ks) {
    cpu::set_bf16_gemm_kernel(k);
    std::vector<float> C((size_t)(M * N));
    cpu::gemm_bf16(false, false, M, N, K, 1.0, A.data(), K, 0, B.data(), N, 0, 0.0, C.data(), N, 0, 1);
    out.push_back(C);
  }
  Ref r = reference_gemm(false, false, M, N, K, 1.0, A.data(), K, B.data(), N, 0.0, nullptr, N);
  for (size_t a = 1; a < out.size(); ++a)
    for (int64_t i = 0; i < M * N; ++i)  // each within its bound of the exact value, so within twice of each other
      CHECK(std::fabs(out[a][i] - out[0][i]) <= 2 * r.bound[i]);
}

// ---------------------------------------------------------------------------------------
// autocast (autograd/autocast.h)

namespace {

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += (double)a[i] * b[i];
    aa += (double)a[i] * a[i];
    bb += (double)b[i] * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

// values rounded to bfloat16 and back, as float64
std::vector<double> rounded(const Tensor& t) { return t.to(DType::BFloat16).tolist<double>(); }

}  // namespace

#include "autograd/autocast.h"

TEST_CASE("linear under bfloat16 autocast: bf16 operands, float32 sums, gradients to float32 weights") {
  Generator g(3);
  const int64_t rows = 6, in = 40, out = 24;
  Tensor x = randn({2, 3, in}, g).set_requires_grad();
  Tensor w = randn({out, in}, g, 0.0, 0.2).set_requires_grad();
  Tensor b = randn({out}, g).set_requires_grad();
  Tensor dy = randn({2, 3, out}, g);
  Tensor y;
  {
    AutocastGuard ac(DType::BFloat16);
    CHECK(autocast_dtype() == DType::BFloat16);
    y = linear(x, w, b);
  }
  CHECK(autocast_dtype() == DType::Float32);
  CHECK(y.dtype() == DType::Float32);
  CHECK(y.shape() == Shape{2, 3, out});
  sum(mul(y, dy)).backward();

  // float64 reference from the bfloat16-rounded operands
  const std::vector<double> xr = rounded(x), wr = rounded(w), dyr = rounded(dy), bv = b.tolist<double>();
  const std::vector<float> yv = y.tolist<float>(), dx = x.grad().tolist<float>(), dw = w.grad().tolist<float>(),
                           db = b.grad().tolist<float>();
  const double u = 0x1p-24;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double s = bv[o], sa = std::fabs(bv[o]);
      for (int64_t k = 0; k < in; ++k) {
        s += xr[r * in + k] * wr[o * in + k];
        sa += std::fabs(xr[r * in + k] * wr[o * in + k]);
      }
      CHECK(std::fabs(yv[r * out + o] - s) <= (in + 2) * u * sa);
    }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < in; ++k) {  // dx = dy W
      double s = 0, sa = 0;
      for (int64_t o = 0; o < out; ++o) {
        s += dyr[r * out + o] * wr[o * in + k];
        sa += std::fabs(dyr[r * out + o] * wr[o * in + k]);
      }
      CHECK(std::fabs(dx[r * in + k] - s) <= (out + 2) * u * sa);
    }
  for (int64_t o = 0; o < out; ++o)
    for (int64_t k = 0; k < in; ++k) {  // dW = dy^T x
      double s = 0, sa = 0;
      for (int64_t r = 0; r < rows; ++r) {
        s += dyr[r * out + o] * xr[r * in + k];
        sa += std::fabs(dyr[r * out + o] * xr[r * in + k]);
      }
      CHECK(std::fabs(dw[o * in + k] - s) <= (rows + 2) * u * sa);
    }
  // db is a float32 sum of float32 dy (not rounded)
  const std::vector<float> dyv = dy.tolist<float>();
  for (int64_t o = 0; o < out; ++o) {
    double s = 0;
    for (int64_t r = 0; r < rows; ++r) s += dyv[r * out + o];
    CHECK(std::fabs(db[o] - s) <= 1e-5);
  }

  // and close to the float32 linear (bfloat16 rounding: cosine well above 0.999)
  Tensor x32 = x.detach().clone().set_requires_grad(), w32 = w.detach().clone().set_requires_grad();
  Tensor y32 = linear(x32, w32, b.detach());
  sum(mul(y32, dy)).backward();
  CHECK(cosine(yv, y32.tolist<float>()) > 0.999);
  CHECK(cosine(dw, w32.grad().tolist<float>()) > 0.999);
  CHECK(cosine(dx, x32.grad().tolist<float>()) > 0.999);
  // rounding did happen: the bf16 result is not the float32 one
  CHECK(yv != y32.tolist<float>());
}

TEST_CASE("autocast's bfloat16 weight copies are made once and rebuilt after the weight changes") {
  // counts the unpacked path's copies (the packed kernel caches its own form too:
  // tests/ops/test_gemm_packed.cpp)
  const bool packed_was = cpu::packed_gemm_enabled();
  cpu::set_packed_gemm(false);
  clear_bf16_cache();
  Generator g(4);
  Tensor x = randn({4, 8}, g), w = randn({5, 8}, g).set_requires_grad();
  AutocastGuard ac(DType::BFloat16);
  const int64_t b0 = cached_bf16_builds();
  Tensor y1 = linear(x, w, Tensor());
  CHECK(cached_bf16_builds() == b0 + 1);
  Tensor y2 = linear(x, w, Tensor());
  CHECK(cached_bf16_builds() == b0 + 1);  // reused
  CHECK(y1.tolist<float>() == y2.tolist<float>());
  // an optimizer step writes the weight: the next call rebuilds and sees the new values
  Tensor grad = ones({5, 8}), m = zeros({5, 8}), v = zeros({5, 8});
  adamw_step_(w.detach(), grad, m, v, 0.5, 0.9, 0.999, 1e-8, 0.0, 1);
  Tensor y3 = linear(x, w, Tensor());
  CHECK(cached_bf16_builds() == b0 + 2);
  CHECK(y3.tolist<float>() != y1.tolist<float>());
  {
    AutocastGuard off(DType::Float32);
    Tensor y32 = linear(x, w, Tensor());
    CHECK(cosine(y3.tolist<float>(), y32.tolist<float>()) > 0.999);
  }
  // copy_ into the weight (a checkpoint load) invalidates too
  { NoGradGuard ng; copy_(w, zeros({5, 8})); }
  for (float v3 : linear(x, w, Tensor()).tolist<float>()) CHECK(v3 == 0.0f);
  CHECK(cached_bf16_builds() == b0 + 3);
  // the bfloat16-storage form is cached the same way (apart from the float32 form)
  Tensor wb = cached_bf16(w.detach());
  CHECK(wb.dtype() == DType::BFloat16);
  CHECK(cached_bf16(w.detach()).raw_data() == wb.raw_data());
  CHECK(cached_bf16_builds() == b0 + 4);
  CHECK(round_to_bf16(w.detach()).tolist<float>() == wb.tolist<float>());
  cpu::set_packed_gemm(packed_was);
  CHECK_THROWS_WITH_AS(parse_compute_dtype("float16", "--dtype"), doctest::Contains("--dtype must be float32 or bfloat16, got \"float16\""), Error);
}

TEST_CASE("matmul under bfloat16 autocast (attention's scores and context): bf16 operands, float32 sums") {
  Generator g(8);
  // (B,H,T,D) views of (B,T,H,D) tensors, as attention reads them
  Tensor q = randn({2, 5, 3, 4}, g).set_requires_grad(), k = randn({2, 5, 3, 4}, g).set_requires_grad();
  Tensor dy = randn({2, 3, 5, 5}, g);
  Tensor y;
  {
    AutocastGuard ac(DType::BFloat16);
    y = matmul(permute(q, {0, 2, 1, 3}), transpose(permute(k, {0, 2, 1, 3}), -1, -2), 0.5);
    sum(mul(y, dy)).backward();  // backward inside the guard, as the CLI's training runs it
  }
  REQUIRE(y.shape() == Shape{2, 3, 5, 5});
  const std::vector<double> qr = rounded(q), kr = rounded(k), dyr = rounded(dy);
  const std::vector<float> yv = y.tolist<float>(), dq = q.grad().tolist<float>(), dk = k.grad().tolist<float>();
  auto at = [](int64_t b, int64_t t, int64_t h, int64_t d) { return ((b * 5 + t) * 3 + h) * 4 + d; };
  const double u = 0x1p-24;
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t h = 0; h < 3; ++h)
      for (int64_t i = 0; i < 5; ++i) {
        for (int64_t j = 0; j < 5; ++j) {  // y = 0.5 q k^T
          double s = 0, sa = 0;
          for (int64_t d = 0; d < 4; ++d) {
            s += 0.5 * qr[at(b, i, h, d)] * kr[at(b, j, h, d)];
            sa += std::fabs(0.5 * qr[at(b, i, h, d)] * kr[at(b, j, h, d)]);
          }
          CHECK(std::fabs(yv[((b * 3 + h) * 5 + i) * 5 + j] - s) <= 6 * u * sa);
        }
        for (int64_t d = 0; d < 4; ++d) {  // dq = 0.5 dy k, from the rounded dy
          double s = 0, sa = 0;
          for (int64_t j = 0; j < 5; ++j) {
            s += 0.5 * dyr[((b * 3 + h) * 5 + i) * 5 + j] * kr[at(b, j, h, d)];
            sa += std::fabs(0.5 * dyr[((b * 3 + h) * 5 + i) * 5 + j] * kr[at(b, j, h, d)]);
          }
          CHECK(std::fabs(dq[at(b, i, h, d)] - s) <= 7 * u * sa);
        }
      }
  // dk against the float32 product, loosely (its own bound is as above)
  Tensor q32 = q.detach().clone().set_requires_grad(), k32 = k.detach().clone().set_requires_grad();
  Tensor y32 = matmul(permute(q32, {0, 2, 1, 3}), transpose(permute(k32, {0, 2, 1, 3}), -1, -2), 0.5);
  sum(mul(y32, dy)).backward();
  CHECK(cosine(dk, k32.grad().tolist<float>()) > 0.999);
  CHECK(cosine(yv, y32.tolist<float>()) > 0.999);
  CHECK(yv != y32.tolist<float>());
}

// BERT's inference path under bfloat16 autocast: linear_gelu's fused GEMM (bias and GELU in the
// epilogue, a float32 or bfloat16 result) against the two ops it replaces, and bfloat16
// activations (autocast_operand) fed to linear, which must give what the float32 input gives.
TEST_CASE("linear_gelu and bfloat16 activations for inference under autocast, every kernel") {
  KernelRestore restore;
  Generator g(11);
  const int64_t in = 64, out = 48;  // in: a multiple of 32, so AMX reads a bfloat16 x in place
  Tensor x = randn({5, 14, in}, g), w = randn({out, in}, g, 0.0, 0.2), b = randn({out}, g);
  Tensor w2 = randn({16, out}, g, 0.0, 0.2), b2 = randn({16}, g);
  auto max_rel = [](const Tensor& a, const Tensor& ref) {
    const auto av = a.tolist<double>(), rv = ref.tolist<double>();
    double m = 0;
    for (size_t i = 0; i < av.size(); ++i) m = std::max(m, std::fabs(av[i] - rv[i]) / (1.0 + std::fabs(rv[i])));
    return m;
  };
  for (cpu::Bf16Gemm k : available_kernels()) {
    CAPTURE(cpu::bf16_gemm_name(k));
    cpu::set_bf16_gemm_kernel(k);
    NoGradGuard ng;
    AutocastGuard ac(DType::BFloat16);
    Tensor ref = gelu(linear(x, w, b));  // float32 result of the bf16 GEMM, then float32 GELU
    Tensor y32 = linear_gelu(x, w, b);
    CHECK(y32.dtype() == DType::Float32);
    CHECK(y32.shape() == ref.shape());
    CHECK(max_rel(y32, ref) <= 1e-5);  // the same sums; erf's vector and scalar forms differ in the last bits

    const bool bf16_kernel = k != cpu::Bf16Gemm::Fp32;
    CHECK(autocast_activation_dtype(x) == (bf16_kernel ? DType::BFloat16 : DType::Float32));
    Tensor y16 = linear_gelu(x, w, b, DType::BFloat16);
    CHECK(y16.dtype() == DType::BFloat16);
    CHECK(y16.shape() == ref.shape());
    CHECK(max_rel(y16, ref) <= 0x1p-8);  // GELU's float32 value rounded once to bfloat16
    CHECK(max_rel(y16, ref) > 0);        // and rounded it was

    // a bfloat16 activation holds the values the kernel would have rounded x to: same product
    Tensor xa = autocast_operand(x);
    CHECK(xa.dtype() == (bf16_kernel ? DType::BFloat16 : DType::Float32));
    CHECK(max_rel(linear(xa, w, b), linear(x, w, b)) <= 1e-6);
    // and linear_gelu's bfloat16 output (48 features: not a multiple of 32, so packed) as the
    // next linear's input, against its values widened to float32
    CHECK(max_rel(linear(y16, w2, b2), linear(y16.to(DType::Float32), w2, b2)) <= 1e-6);
  }
}

TEST_CASE("bfloat16 activations are refused where a gradient would be recorded") {
  Generator g(12);
  Tensor x = randn({4, 32}, g).set_requires_grad(), w = randn({8, 32}, g).set_requires_grad(), b = randn({8}, g);
  AutocastGuard ac(DType::BFloat16);
  // grad mode on: no bfloat16 activation is handed out
  CHECK(autocast_activation_dtype(x) == DType::Float32);
  CHECK(autocast_operand(x).dtype() == DType::Float32);
  CHECK_THROWS_WITH_AS(linear_gelu(x, w, b, DType::BFloat16), doctest::Contains("inference only"), Error);
  Tensor xb = to_bf16(x.detach()).set_requires_grad();
  CHECK_THROWS_WITH_AS(linear(xb, w, b), doctest::Contains("bfloat16 input [4, 32] that requires grad"), Error);
  // an output dtype that is neither the weight's nor bfloat16
  CHECK_THROWS_WITH_AS(linear_gelu(x, w, b, DType::Float64), doctest::Contains("float32) or bfloat16, got float64"), Error);
  // linear_gelu with a gradient: the two ops, differentiable (also gradchecked in float64)
  Tensor y = linear_gelu(x, w, b);
  sum(y).backward();
  CHECK(x.grad().defined());
  CHECK(w.grad().defined());
  // without autocast a bfloat16 input is refused as any other dtype mismatch
  AutocastGuard off(DType::Float32);
  CHECK_THROWS_WITH_AS(linear(to_bf16(x.detach()), w.detach(), b), doctest::Contains("bfloat16"), Error);
}
