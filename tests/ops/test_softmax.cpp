// tests/ops/test_softmax.cpp — softmax and log_softmax: values, stability, other dims,
// float64 gradchecks, bad input.
#include "tests/ops/helpers.h"

#include <cmath>

using namespace bertlab;
using testing::rand64;

TEST_CASE("softmax and log_softmax on hand-checked values") {
  Tensor x = f64({1, 2, 3}, {3});
  CHECK_CLOSE(softmax(x), f64({0.09003057317038046, 0.24472847105479764, 0.6652409557748219}, {3}), 1e-15, 1e-12);
  CHECK_CLOSE(log_softmax(x), f64({-2.4076059644443806, -1.4076059644443806, -0.4076059644443806}, {3}), 1e-15, 1e-12);
  // rows are independent; float32 gives the same to float precision
  Tensor m = f32({1, 2, 3, 0, 0, 0}, {2, 3});
  CHECK_CLOSE(softmax(m), f64({0.09003057317038046, 0.24472847105479764, 0.6652409557748219, 1. / 3, 1. / 3, 1. / 3}, {2, 3}).to(DType::Float32), 1e-7, 1e-6);
}

TEST_CASE("softmax subtracts the row maximum, so large logits do not overflow") {
  Tensor x = f32({1000, 1001, -1000}, {3});
  std::vector<float> y = softmax(x).tolist<float>();
  CHECK(y[0] == doctest::Approx(0.2689414213699951));
  CHECK(y[1] == doctest::Approx(0.7310585786300049));
  CHECK(y[2] == 0.0f);
  std::vector<float> l = log_softmax(x).tolist<float>();
  CHECK(l[1] == doctest::Approx(-0.31326168751822286));
  CHECK(std::isfinite(l[2]));
  CHECK(l[2] == doctest::Approx(-2001.3132617));
}

TEST_CASE("softmax along a dimension other than the last equals a transposed softmax") {
  Tensor x = rand64({2, 3, 4}, 5, -2, 2, false);
  CHECK_CLOSE(softmax(x, 1), transpose(softmax(transpose(x, 1, 2), -1), 1, 2), 1e-15, 0);
  CHECK_CLOSE(log_softmax(x, 0), log(softmax(x, 0)), 1e-12, 0);
  CHECK_CLOSE(sum(softmax(x, 0), {0}), ones({3, 4}, DType::Float64), 1e-12, 0);
}

TEST_CASE("softmax over many rows (the threaded path) matches the composed formula") {
  Generator g(13);
  Tensor x = randn({96, 300}, g, 0.0, 3.0, DType::Float64);
  Tensor e = exp(x - max(x, {-1}, true));
  CHECK_CLOSE(softmax(x), e / sum(e, {-1}, true), 1e-15, 1e-12);
  CHECK_CLOSE(log_softmax(x), log(e / sum(e, {-1}, true)), 1e-12, 1e-12);
  Tensor dy = randn({96, 300}, g, 0.0, 1.0, DType::Float64);
  Tensor xl = x.detach().set_requires_grad();
  softmax(xl).backward(dy);
  Tensor y = softmax(x);
  CHECK_CLOSE(xl.grad(), y * (dy - sum(dy * y, {-1}, true)), 1e-14, 1e-10);
}

TEST_CASE("gradcheck: softmax and log_softmax") {
  using F = testing::Fn;
  Tensor x = rand64({3, 5}, 11, -2, 2);
  Tensor x3 = rand64({2, 3, 4}, 12, -2, 2);
  CHECK_GRADCHECK(F([](auto& v) { return softmax(v[0], -1); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return log_softmax(v[0], -1); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return softmax(v[0], 1); }), {x3});
  CHECK_GRADCHECK(F([](auto& v) { return log_softmax(v[0], 0); }), {x3});
  // a strided input: softmax over a transposed view
  CHECK_GRADCHECK(F([](auto& v) { return softmax(transpose(v[0], 0, 1), -1); }), {x});
}

TEST_CASE("bad input to softmax names the op") {
  CHECK_THROWS_WITH_AS(softmax(zeros({2, 3}), 2), doctest::Contains("softmax: dimension 2 is out of range for a 2-d tensor"), Error);
  CHECK_THROWS_WITH_AS(log_softmax(arange(3), 0), doctest::Contains("log_softmax: input must be float32 or float64"), Error);
}
