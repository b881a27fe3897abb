// tests/ops/test_dropout.cpp — dropout: the keep rate, inverted scaling, the mask as a pure
// function of (seed, offset, i), the backward reusing it, eval mode, bad p.
#include "tests/ops/helpers.h"

#include "cuda/dropout.h"

using namespace bertlab;
using testing::rand64;

TEST_CASE("dropout keeps about 1-p of a large tensor and preserves the expected value") {
  const int64_t n = 200000;
  const double p = 0.3;
  Generator g(61);
  Tensor y = dropout(ones({n}), p, true, g);
  std::vector<float> v = y.tolist<float>();
  int64_t kept = 0, off_scale = 0;
  for (float e : v) {
    if (e == 0.0f) continue;
    ++kept;
    if (e != (float)(1.0 / (1.0 - p))) ++off_scale;
  }
  CHECK(off_scale == 0);  // every kept value is x / (1 - p)
  CHECK((double)kept / n == doctest::Approx(1 - p).epsilon(0.01));  // std error ~0.001
  CHECK(mean(y).item() == doctest::Approx(1.0).epsilon(0.01));
  CHECK(g.offset == (uint64_t)(n + 3) / 4);  // the draw reserved one counter per four elements
}

TEST_CASE("the dropout mask is a pure function of (seed, offset, i)") {
  Tensor x = rand64({1000}, 62, 0.5, 1.5, false);
  Generator g1(7), g2(7), g3(8);
  Tensor a = dropout(x, 0.5, true, g1), b = dropout(x, 0.5, true, g2), c = dropout(x, 0.5, true, g3);
  CHECK(a.tolist<double>() == b.tolist<double>());  // same seed, same offset: same mask
  CHECK(a.tolist<double>() != c.tolist<double>());  // another seed: another mask
  Tensor a2 = dropout(x, 0.5, true, g1);             // the offset has moved on
  CHECK(a.tolist<double>() != a2.tolist<double>());
  // element i is kept iff dropout_keep(seed, offset, i, p): the test the CUDA kernel uses
  std::vector<double> av = a.tolist<double>(), a2v = a2.tolist<double>();
  int64_t formula_mismatch = 0;
  for (int64_t i = 0; i < 1000; ++i)
    if ((a2v[i] != 0.0) != dropout_keep(7, 250, i, 0.5f)) ++formula_mismatch;
  CHECK(formula_mismatch == 0);
  // float32 and float64 draw the same mask
  Generator g4(7);
  std::vector<float> f = dropout(x.to(DType::Float32), 0.5, true, g4).tolist<float>();
  int64_t dtype_mismatch = 0;
  for (int64_t i = 0; i < 1000; ++i)
    if ((f[i] != 0.0f) != (av[i] != 0.0)) ++dtype_mismatch;
  CHECK(dtype_mismatch == 0);
}

TEST_CASE("dropout backward regenerates the forward's mask") {
  Tensor x = ones({500}).set_requires_grad();
  Generator g(63);
  Tensor y = dropout(x, 0.25, true, g);
  y.backward(full({500}, 2.0));
  std::vector<float> yv = y.tolist<float>(), gv = x.grad().tolist<float>();
  int64_t wrong = 0;
  for (size_t i = 0; i < yv.size(); ++i)
    if (gv[i] != 2.0f * yv[i]) ++wrong;  // dx = mask * dy / (1 - p)
  CHECK(wrong == 0);
}

TEST_CASE("dropout in eval mode, or with p = 0, is the identity; p = 1 zeroes everything") {
  Tensor x = rand64({4, 5}, 64);
  Generator g(65);
  CHECK(dropout(x, 0.5, false, g).impl() == x.impl());
  CHECK(dropout(x, 0.0, true, g).impl() == x.impl());
  CHECK(g.offset == 0);  // nothing drawn
  Tensor z = dropout(x, 1.0, true, g);
  CHECK(z.tolist<double>() == std::vector<double>(20, 0.0));
  z.backward(ones_like(z));
  CHECK(x.grad().tolist<double>() == std::vector<double>(20, 0.0));
}

TEST_CASE("gradcheck: dropout with a fixed generator") {
  using F = testing::Fn;
  CHECK_GRADCHECK(F([](auto& v) {
                    Generator g(66);
                    return dropout(v[0], 0.4, true, g);
                  }),
                  {rand64({4, 6}, 67)});
}

TEST_CASE("bad p names dropout and the value") {
  Generator g(1);
  CHECK_THROWS_WITH_AS(dropout(zeros({2}), 1.5, true, g), doctest::Contains("dropout: probability p must be in [0, 1], got 1.5"), Error);
  CHECK_THROWS_WITH_AS(dropout(zeros({2}), -0.1, true, g), doctest::Contains("dropout: probability p must be in [0, 1]"), Error);
  CHECK_THROWS_WITH_AS(dropout(arange(3), 0.1, true, g), doctest::Contains("dropout: input must be float32 or float64"), Error);
}
