// tests/ops/test_attention.cpp — the fused scaled_dot_product_attention: a hand-checked case,
// equality with the composed ops it replaces (with mask and dropout, forward and backward),
// float64 gradchecks, and bad input.
#include "tests/ops/helpers.h"

#include <cmath>
#include <limits>

using namespace bertlab;
using testing::rand64;

namespace {

// What the fused op replaces: bert/attention.cpp's composed ops.
Tensor composed(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, double p, bool train,
                Generator& g) {
  Tensor s = matmul(q, transpose(k, -1, -2)) * (1.0 / std::sqrt((double)q.size(-1)));
  if (mask.defined()) s = s + mask;
  return matmul(dropout(softmax(s, -1), p, train, g), v);
}

// A (B,1,1,T) mask bias: 0 for the first len[b] tokens of row b, the dtype's lowest after.
Tensor mask_bias(const std::vector<int64_t>& len, int64_t T, DType t) {
  std::vector<double> m;
  const double lowest = t == DType::Float64 ? std::numeric_limits<double>::lowest()
                                            : (double)std::numeric_limits<float>::lowest();
  for (int64_t n : len)
    for (int64_t j = 0; j < T; ++j) m.push_back(j < n ? 0.0 : lowest);
  return from_vector(m, {(int64_t)len.size(), 1, 1, T}).to(t);
}

}  // namespace

TEST_CASE("attention on a hand-checked case, with and without a mask") {
  Tensor q = f64({1, 0}, {1, 1, 2, 1}), k = f64({1, 2}, {1, 1, 2, 1}), v = f64({1, 3}, {1, 1, 2, 1});
  // row 0: softmax(1, 2) = (1, e) / (1 + e);  row 1: softmax(0, 0) = (1/2, 1/2)
  const double e = std::exp(1.0);
  CHECK_CLOSE(scaled_dot_product_attention(q, k, v), f64({(1 + 3 * e) / (1 + e), 2.0}, {1, 1, 2, 1}), 1e-15, 1e-14);
  // the second key masked out: every row attends to the first value only
  Tensor m = f64({0, -1e30}, {1, 1, 1, 2});
  CHECK_CLOSE(scaled_dot_product_attention(q, k, v, m), f64({1, 1}, {1, 1, 2, 1}), 0, 0);
}

TEST_CASE("attention equals the composed ops, forward and backward, with mask and dropout") {
  for (DType t : {DType::Float64, DType::Float32}) {
    CAPTURE(dtype_name(t));
    const double tol = t == DType::Float64 ? 1e-12 : 2e-5;
    for (auto [p, train] : std::vector<std::pair<double, bool>>{{0.0, true}, {0.3, true}, {0.3, false}, {1.0, true}}) {
      CAPTURE(p);
      CAPTURE(train);
      const int64_t B = 2, H = 3, T = 7, D = 5;
      Tensor q = rand64({B, H, T, D}, 1, -2, 2).to(t), k = rand64({B, H, T, D}, 2, -2, 2).to(t),
             v = rand64({B, H, T, D}, 3).to(t);
      Tensor mask = mask_bias({T, 4}, T, t);
      std::vector<Tensor> fused_in, ref_in;
      for (const Tensor& x : {q, k, v}) {
        fused_in.push_back(x.detach().set_requires_grad());
        ref_in.push_back(x.detach().set_requires_grad());
      }
      Generator g1(99), g2(99);
      g1.offset = g2.offset = 17;
      Tensor y = scaled_dot_product_attention(fused_in[0], fused_in[1], fused_in[2], mask, p, train, g1);
      Tensor r = composed(ref_in[0], ref_in[1], ref_in[2], mask, p, train, g2);
      CHECK(g1.offset == g2.offset);  // the same generator advance as dropout's
      CHECK_CLOSE(y, r, tol, tol);
      Generator gw(5);
      Tensor w = rand(r.shape(), gw, -1, 1, t);
      sum(mul(y, w)).backward();
      sum(mul(r, w)).backward();
      for (int i = 0; i < 3; ++i) {
        CAPTURE(i);
        CHECK_CLOSE(fused_in[i].grad(), ref_in[i].grad(), tol, tol);
      }
    }
  }
}

TEST_CASE("the gradient of the mask bias equals the composed ops', also for a mask shared by the batch") {
  for (int64_t mb : {2, 1}) {
    Tensor q = rand64({2, 2, 5, 4}, 4, -1, 1, false), k = rand64({2, 2, 5, 4}, 5, -1, 1, false),
           v = rand64({2, 2, 5, 4}, 6, -1, 1, false);
    Tensor m1 = rand64({mb, 1, 1, 5}, 7), m2 = m1.detach().set_requires_grad();
    Generator g1(3), g2(3);
    sum(scaled_dot_product_attention(q, k, v, m1, 0.25, true, g1)).backward();
    sum(composed(q, k, v, m2, 0.25, true, g2)).backward();
    CHECK_CLOSE(m1.grad(), m2.grad(), 1e-13, 1e-12);
  }
}

TEST_CASE("attention reads strided heads and returns a view whose heads merge without a copy") {
  const int64_t B = 2, T = 6, H = 2, D = 3;
  Tensor x = rand64({B, T, H * D}, 8, -1, 1, false);
  Tensor heads = permute(view(x, {B, T, H, D}), {0, 2, 1, 3});  // (B,H,T,D), strided
  Tensor y = scaled_dot_product_attention(heads, heads, heads);
  Tensor r = scaled_dot_product_attention(heads.contiguous(), heads.contiguous(), heads.contiguous());
  CHECK_CLOSE(y, r, 0, 0);
  CHECK(permute(y, {0, 2, 1, 3}).is_contiguous());
}

TEST_CASE("attention in evaluation, or with p = 0, draws nothing from the generator") {
  Tensor q = rand64({1, 1, 4, 2}, 9, -1, 1, false);
  Generator g(1);
  scaled_dot_product_attention(q, q, q, Tensor(), 0.5, false, g);
  scaled_dot_product_attention(q, q, q, Tensor(), 0.0, true, g);
  CHECK(g.offset == 0);
  scaled_dot_product_attention(q, q, q, Tensor(), 0.5, true, g);
  CHECK(g.offset == 4);  // dropout_counters(16): four mask elements per Philox call
}

TEST_CASE("gradcheck: scaled_dot_product_attention") {
  using F = testing::Fn;
  Tensor q = rand64({2, 2, 4, 3}, 11, -1, 1), k = rand64({2, 2, 4, 3}, 12, -1, 1), v = rand64({2, 2, 4, 3}, 13);
  Tensor m = rand64({2, 1, 1, 4}, 14, -2, 0);
  CHECK_GRADCHECK(F([](auto& x) { return scaled_dot_product_attention(x[0], x[1], x[2]); }), {q, k, v});
  CHECK_GRADCHECK(F([](auto& x) { return scaled_dot_product_attention(x[0], x[1], x[2], x[3]); }), {q, k, v, m});
  CHECK_GRADCHECK(F([](auto& x) {
                    Generator g(15);
                    return scaled_dot_product_attention(x[0], x[1], x[2], x[3], 0.4, true, g);
                  }),
                  {q, k, v, m});
  // one input used as q, k and v (self-attention on one tensor); strided heads
  Tensor h = rand64({1, 5, 6}, 16, -1, 1);
  CHECK_GRADCHECK(F([](auto& x) {
                    Tensor s = permute(view(x[0], {1, 5, 2, 3}), {0, 2, 1, 3});
                    return scaled_dot_product_attention(s, s, s);
                  }),
                  {h});
}

TEST_CASE("attention rejects bad input with a clear message") {
  Tensor q = rand64({2, 2, 4, 3}, 17, -1, 1, false);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, rand64({2, 2, 5, 3}, 18), q),
                       doctest::Contains("must have the same shape"), Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(reshape(q, {4, 4, 3}), reshape(q, {4, 4, 3}), reshape(q, {4, 4, 3})),
                       doctest::Contains("scaled_dot_product_attention"), Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, q, q, zeros({2, 4}, DType::Float64)),
                       doctest::Contains("must be (B,1,1,T)"), Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, q, q, zeros({3, 1, 1, 4}, DType::Float64)),
                       doctest::Contains("must be (B,1,1,T)"), Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, q.to(DType::Float32), q), doctest::Contains("scaled_dot_product_attention"),
                       Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(q, q, q, Tensor(), 1.5, true), doctest::Contains("[0, 1]"), Error);
  Tensor ids = zeros({1, 1, 2, 2}, DType::Int64);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(ids, ids, ids), doctest::Contains("float"), Error);
}
