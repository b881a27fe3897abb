// tests/cuda/test_attention_cuda.cpp — the fused attention on the GPU against the CPU
// reference (forward and every gradient), against the composed ops on the GPU, with the
// BERT mask and with dropout (the same mask on both devices), for each head-size tier of the
// kernel (D <= 32, 64, 128) and sequence lengths that do and do not fill the tiles.
#include <cmath>
#include <cstdio>
#include <limits>

#include "tests/cuda/cuda_helpers.h"

using namespace bertlab;
using testing::check_cuda_vs_cpu;
using testing::float_types;
using testing::kGpu;
using testing::rnd;
using testing::Tol;

using V = std::vector<Tensor>;

namespace {

// (B,1,1,T): 0 for the first len[b] tokens of row b, the dtype's lowest after (as BERT's)
Tensor padding_bias(const std::vector<int64_t>& len, int64_t T, DType t) {
  const double lowest = t == DType::Float64 ? std::numeric_limits<double>::lowest()
                                            : (double)std::numeric_limits<float>::lowest();
  std::vector<double> m;
  for (int64_t n : len)
    for (int64_t j = 0; j < T; ++j) m.push_back(j < n ? 0.0 : lowest);
  return from_vector(m, {(int64_t)len.size(), 1, 1, T}).to(t);
}

Tol attn_tol(DType t) { return testing::tol(t, {2e-5, 2e-4}, {1e-12, 1e-10}); }

}  // namespace

TEST_CASE("fused attention on the GPU matches the CPU, forward and backward, for every head-size tier") {
  struct Case {
    int64_t B, H, T, D;
  };
  for (DType t : float_types())
    for (Case c : {Case{2, 3, 7, 5}, Case{1, 2, 70, 32}, Case{2, 2, 129, 64}, Case{1, 2, 33, 100}, Case{2, 1, 16, 128}}) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "B%lld H%lld T%lld D%lld %s", (long long)c.B, (long long)c.H, (long long)c.T,
                    (long long)c.D, dtype_name(t));
      const std::string name = buf;
      Tensor q = rnd({c.B, c.H, c.T, c.D}, 90, t, -1, 1), k = rnd({c.B, c.H, c.T, c.D}, 91, t, -1, 1),
             v = rnd({c.B, c.H, c.T, c.D}, 92, t, -1, 1);
      std::vector<int64_t> len(c.B, c.T);
      len[0] = c.T / 2 + 1;  // the first sequence is padded
      Tensor mask = padding_bias(len, c.T, t);
      check_cuda_vs_cpu("attention " + name, [](const V& x) { return scaled_dot_product_attention(x[0], x[1], x[2]); },
                        {q, k, v}, attn_tol(t), attn_tol(t));
      check_cuda_vs_cpu("attention with the padding mask " + name,
                        [](const V& x) { return scaled_dot_product_attention(x[0], x[1], x[2], x[3]); },
                        {q, k, v, mask}, attn_tol(t), attn_tol(t));
      check_cuda_vs_cpu("attention with dropout " + name,
                        [](const V& x) {
                          Generator g(31);
                          g.offset = 5;
                          return scaled_dot_product_attention(x[0], x[1], x[2], x[3], 0.2, true, g);
                        },
                        {q, k, v, mask}, attn_tol(t), attn_tol(t));
    }
}

TEST_CASE("fused attention on the GPU: the mask gradient, a mask shared by the batch, strided heads") {
  for (DType t : float_types()) {
    Tensor q = rnd({2, 3, 40, 16}, 93, t), k = rnd({2, 3, 40, 16}, 94, t), v = rnd({2, 3, 40, 16}, 95, t);
    Tensor m = rnd({2, 1, 1, 40}, 96, t, -3, 0), m1 = rnd({1, 1, 1, 40}, 97, t, -3, 0);
    check_cuda_vs_cpu(std::string("mask gradient ") + dtype_name(t),
                      [](const V& x) {
                        Generator g(3);
                        return scaled_dot_product_attention(x[0], x[1], x[2], x[3], 0.1, true, g);
                      },
                      {q, k, v, m}, attn_tol(t), attn_tol(t));
    check_cuda_vs_cpu(std::string("mask shared by the batch ") + dtype_name(t),
                      [](const V& x) { return scaled_dot_product_attention(x[0], x[1], x[2], x[3]); }, {q, k, v, m1},
                      attn_tol(t), attn_tol(t));
    // BERT's layout: (B,T,C) projections viewed as (B,H,T,D) heads, read in place
    Tensor h = rnd({2, 50, 4 * 24}, 98, t);
    check_cuda_vs_cpu(std::string("strided heads ") + dtype_name(t),
                      [](const V& x) {
                        Tensor s = permute(view(x[0], {2, 50, 4, 24}), {0, 2, 1, 3});
                        return scaled_dot_product_attention(s, s, s);
                      },
                      {h}, attn_tol(t), attn_tol(t));
  }
}

TEST_CASE("fused attention on the GPU equals the composed ops on the GPU (BERT-base head shape, dropout on)") {
  const int64_t B = 2, H = 12, T = 128, D = 64;
  Tensor q = rnd({B, H, T, D}, 100, DType::Float32, -1, 1, false).to(kGpu),
         k = rnd({B, H, T, D}, 101, DType::Float32, -1, 1, false).to(kGpu),
         v = rnd({B, H, T, D}, 102, DType::Float32, -1, 1, false).to(kGpu);
  Tensor mask = padding_bias({T, 77}, T, DType::Float32).to(kGpu);
  V fused{q.detach().set_requires_grad(), k.detach().set_requires_grad(), v.detach().set_requires_grad()};
  V ref{q.detach().set_requires_grad(), k.detach().set_requires_grad(), v.detach().set_requires_grad()};
  Generator g1(7), g2(7);
  Tensor y = scaled_dot_product_attention(fused[0], fused[1], fused[2], mask, 0.1, true, g1);
  Tensor s = matmul(ref[0], transpose(ref[1], -1, -2)) * (1.0 / std::sqrt((double)D)) + mask;
  Tensor r = matmul(dropout(softmax(s, -1), 0.1, true, g2), ref[2]);
  CHECK(g1.offset == g2.offset);
  CHECK_CLOSE_TO("forward", y, r, (Tol{2e-5, 2e-4}));
  Generator gw(8);
  Tensor w = rand(r.shape(), gw, -1, 1, DType::Float32).to(kGpu);
  sum(mul(y, w)).backward();
  sum(mul(r, w)).backward();
  for (int i = 0; i < 3; ++i) {
    INFO("gradient of input " << i);
    CHECK_CLOSE_TO("backward", fused[i].grad(), ref[i].grad(), (Tol{2e-5, 2e-4}));
  }
}

TEST_CASE("fused attention on the GPU rejects a head size above the kernel's limit") {
  if (testing::kDryRun) return;
  Tensor q = zeros({1, 1, 2, 129}, DType::Float32, kGpu);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, q, q), doctest::Contains("exceeds the CUDA kernel's 128"), Error);
}
