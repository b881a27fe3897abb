// tests/ops/test_matmul.cpp — matmul (2-D, batched, broadcast, vectors, transposed views)
// and linear: values, gradchecks, bad input.
#include "tests/ops/helpers.h"

using namespace bertlab;
using testing::rand64;

// reference product by loops, float64
static Tensor ref_matmul(const Tensor& a, const Tensor& b) {
  Tensor ac = a.detach().contiguous(), bc = b.detach().contiguous();
  int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  int64_t batch = a.numel() / (M * K);
  Shape s = a.shape();
  s.back() = N;
  std::vector<double> A = ac.tolist<double>(), B = bc.tolist<double>(), C(batch * M * N, 0.0);
  for (int64_t z = 0; z < batch; ++z)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j)
        for (int64_t k = 0; k < K; ++k) C[(z * M + i) * N + j] += A[(z * M + i) * K + k] * B[(z * K + k) * N + j];
  return from_vector(C, s);
}

TEST_CASE("matmul 2-D on a hand-checked case") {
  Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = f32({7, 8, 9, 10, 11, 12}, {3, 2});
  CHECK(matmul(a, b).tolist<float>() == std::vector<float>{58, 64, 139, 154});
}

TEST_CASE("matmul reads transposed and permuted views without copying them first") {
  Tensor a = rand64({4, 3}, 1, -1, 1, false), b = rand64({5, 3}, 2, -1, 1, false);
  CHECK_CLOSE(matmul(a, transpose(b, 0, 1)), ref_matmul(a, transpose(b, 0, 1).contiguous()), 1e-12, 0);
  Tensor q = rand64({2, 6, 3, 4}, 3, -1, 1, false);  // (B, T, H, D)
  Tensor qh = permute(q, {0, 2, 1, 3});              // (B, H, T, D), strided
  Tensor s = matmul(qh, transpose(qh, -1, -2));      // (B, H, T, T)
  CHECK(s.shape() == Shape{2, 3, 6, 6});
  CHECK_CLOSE(s, ref_matmul(qh.contiguous(), transpose(qh, -1, -2).contiguous()), 1e-12, 0);
}

TEST_CASE("matmul reads batches that no single stride walks (heads of (B, T, H, D)), with broadcasting") {
  Tensor v = rand64({2, 6, 3, 5}, 4, -1, 1, false);       // (B, T, H, D)
  Tensor vh = permute(v, {0, 2, 1, 3});                     // (B, H, T, D)
  Tensor p = rand64({2, 3, 4, 6}, 5, -1, 1, false);        // (B, H, T', T), dense
  CHECK_CLOSE(matmul(p, vh), ref_matmul(p, vh.contiguous()), 1e-12, 0);
  // a permuted operand broadcast over a batch dimension of the other (stride 0 plus strides)
  Tensor w = permute(rand64({6, 3, 5}, 6, -1, 1, false), {1, 0, 2});  // (3, 6, 5), strided
  Tensor x = rand64({2, 3, 4, 6}, 7, -1, 1, false);
  CHECK_CLOSE(matmul(x, w), ref_matmul(x, expand(w, {2, 3, 6, 5}).contiguous()), 1e-12, 0);
}

TEST_CASE("matmul with alpha scales the product (inside the GEMM)") {
  Tensor a = rand64({2, 3, 4}, 8, -1, 1, false), b = rand64({2, 4, 5}, 9, -1, 1, false);
  CHECK_CLOSE(matmul(a, b, 0.125), ref_matmul(a, b) * 0.125, 1e-12, 0);
  CHECK_CLOSE(matmul(a, b, -2.0), ref_matmul(a, b) * -2.0, 1e-12, 0);
}

TEST_CASE("matmul broadcasts batch dimensions and promotes vectors") {
  Tensor a = rand64({2, 1, 3, 4}, 4, -1, 1, false), b = rand64({5, 4, 2}, 5, -1, 1, false);
  Tensor y = matmul(a, b);
  CHECK(y.shape() == Shape{2, 5, 3, 2});
  CHECK_CLOSE(y, ref_matmul(expand(a, {2, 5, 3, 4}), expand(b, {2, 5, 4, 2})), 1e-12, 0);
  Tensor v = rand64({4}, 6, -1, 1, false);
  CHECK(matmul(rand64({3, 4}, 7, -1, 1, false), v).shape() == Shape{3});
  CHECK(matmul(v, rand64({4, 2}, 8, -1, 1, false)).shape() == Shape{2});
  CHECK(matmul(v, v).shape() == Shape{});
}

TEST_CASE("gradcheck: matmul 2-D, batched, broadcast, vectors") {
  using F = testing::Fn;
  auto mm = F([](auto& x) { return matmul(x[0], x[1]); });
  CHECK_GRADCHECK(mm, {rand64({3, 4}, 1), rand64({4, 2}, 2)});
  CHECK_GRADCHECK(mm, {rand64({2, 3, 4}, 3), rand64({2, 4, 5}, 4)});
  CHECK_GRADCHECK(mm, {rand64({2, 2, 3, 4}, 5), rand64({4, 3}, 6)});
  CHECK_GRADCHECK(mm, {rand64({2, 1, 3, 4}, 7), rand64({3, 4, 2}, 8)});
  CHECK_GRADCHECK(mm, {rand64({4}, 9), rand64({4, 3}, 10)});
  CHECK_GRADCHECK(mm, {rand64({3, 4}, 11), rand64({4}, 12)});
  // with alpha, and through permuted heads as attention reads them
  CHECK_GRADCHECK(F([](auto& x) { return matmul(x[0], x[1], 0.37); }), {rand64({2, 3, 4}, 15), rand64({2, 4, 2}, 16)});
  CHECK_GRADCHECK(F([](auto& x) {
                    Tensor q = permute(x[0], {0, 2, 1, 3}), k = permute(x[1], {0, 2, 1, 3});
                    return matmul(q, transpose(k, -1, -2), 0.5);
                  }),
                  {rand64({2, 3, 2, 4}, 17), rand64({2, 3, 2, 4}, 18)});
  // through a transposed view
  CHECK_GRADCHECK(F([](auto& x) { return matmul(x[0], transpose(x[1], 0, 1)); }), {rand64({3, 4}, 13), rand64({5, 4}, 14)});
}

TEST_CASE("linear is x W^T + b") {
  Tensor x = f32({1, 2}, {1, 2});
  Tensor w = f32({1, 0, 0, 1, 1, 1}, {3, 2});
  Tensor b = f32({0.5, 0, -1}, {3});
  CHECK(linear(x, w, b).tolist<float>() == std::vector<float>{1.5, 2, 2});
  CHECK(linear(x, w).tolist<float>() == std::vector<float>{1, 2, 3});
  CHECK(linear(zeros({2, 4, 2}), w, b).shape() == Shape{2, 4, 3});
}

TEST_CASE("gradcheck: linear with and without bias, 2-D and 3-D input") {
  using F = testing::Fn;
  CHECK_GRADCHECK(F([](auto& x) { return linear(x[0], x[1], x[2]); }), {rand64({4, 3}, 1), rand64({2, 3}, 2), rand64({2}, 3)});
  CHECK_GRADCHECK(F([](auto& x) { return linear(x[0], x[1], x[2]); }), {rand64({2, 3, 3}, 4), rand64({5, 3}, 5), rand64({5}, 6)});
  CHECK_GRADCHECK(F([](auto& x) { return linear(x[0], x[1]); }), {rand64({4, 3}, 7), rand64({2, 3}, 8)});
  // a non-contiguous input
  CHECK_GRADCHECK(F([](auto& x) { return linear(transpose(x[0], 0, 1), x[1], x[2]); }), {rand64({3, 4}, 9), rand64({2, 3}, 10), rand64({2}, 11)});
}

TEST_CASE("bad input to matmul and linear names the op and the shapes") {
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({4, 2})), doctest::Contains("matmul: inner dimensions differ: [2, 3] @ [4, 2]"), Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 2, 3}), zeros({3, 3, 2})), doctest::Contains("cannot be broadcast"), Error);
  CHECK_THROWS_WITH_AS(matmul(arange(4), arange(4)), doctest::Contains("float32 or float64"), Error);
  CHECK_THROWS_WITH_AS(linear(zeros({2, 3}), zeros({4, 5})), doctest::Contains("linear: input [2, 3] has 3 features but weight [4, 5]"), Error);
  CHECK_THROWS_WITH_AS(linear(zeros({2, 3}), zeros({4, 3}), zeros({5})), doctest::Contains("bias [5]"), Error);
}
