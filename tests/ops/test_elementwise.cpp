// tests/ops/test_elementwise.cpp — arithmetic with broadcasting and pointwise functions:
// values, float64 gradchecks, bad input.
#include "tests/ops/helpers.h"

#include <cmath>

using namespace bertlab;
using testing::rand64;

TEST_CASE("binary ops broadcast like NumPy") {
  Tensor a = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = f32({10, 20, 30}, {3});
  CHECK((a + b).tolist<float>() == std::vector<float>{11, 22, 33, 14, 25, 36});
  CHECK((a - b).tolist<float>() == std::vector<float>{-9, -18, -27, -6, -15, -24});
  Tensor c = f32({2, 3}, {2, 1});
  CHECK((a * c).tolist<float>() == std::vector<float>{2, 4, 6, 12, 15, 18});
  CHECK((a / c).tolist<float>()[3] == doctest::Approx(4.0 / 3.0));
  CHECK((c + b).shape() == Shape{2, 3});
  CHECK((2.0 - a).tolist<float>()[0] == 1.0f);
  CHECK((6.0 / a).tolist<float>()[2] == 2.0f);
}

TEST_CASE("pointwise functions on hand-checked values") {
  Tensor x = f64({-1.0, 0.0, 0.5, 2.0}, {4});
  auto v = [](const Tensor& t) { return t.tolist<double>(); };
  CHECK(v(relu(x)) == std::vector<double>{0, 0, 0.5, 2.0});
  CHECK(v(exp(x))[3] == doctest::Approx(std::exp(2.0)));
  CHECK(v(tanh(x))[0] == doctest::Approx(std::tanh(-1.0)));
  CHECK(v(sigmoid(x))[1] == doctest::Approx(0.5));
  // gelu(1) = 0.8413447460685429 (exact), tanh form 0.8411919906082768
  Tensor one = f64({1.0}, {1});
  CHECK(gelu(one).item() == doctest::Approx(0.8413447460685429).epsilon(1e-12));
  CHECK(gelu(one, GeluApprox::Tanh).item() == doctest::Approx(0.8411919906082768).epsilon(1e-12));
  CHECK(v(pow(f64({2.0, 3.0}, {2}), 3.0)) == std::vector<double>{8.0, 27.0});
  CHECK(v(sqrt(f64({4.0}, {1})))[0] == 2.0);
  CHECK(v(log(f64({1.0}, {1})))[0] == 0.0);
}

TEST_CASE("gradcheck: binary ops, including broadcast shapes") {
  using F = testing::Fn;
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{2, 1, 4}, {3, 1}}, {{}, {2, 3}}, {{5}, {}}};
  for (auto [sa, sb] : shapes) {
    CAPTURE(shape_str(sa));
    CAPTURE(shape_str(sb));
    Tensor a = rand64(sa, 1), b = rand64(sb, 2, 0.5, 2.0);
    CHECK_GRADCHECK(F([](auto& x) { return add(x[0], x[1]); }), {a, b});
    CHECK_GRADCHECK(F([](auto& x) { return sub(x[0], x[1]); }), {a, b});
    CHECK_GRADCHECK(F([](auto& x) { return mul(x[0], x[1]); }), {a, b});
    CHECK_GRADCHECK(F([](auto& x) { return div(x[0], x[1]); }), {a, b});
  }
}

TEST_CASE("gradcheck: scalar and pointwise ops") {
  using F = testing::Fn;
  Tensor x = rand64({3, 5}, 3);
  Tensor pos = rand64({3, 5}, 4, 0.5, 2.0);
  CHECK_GRADCHECK(F([](auto& v) { return add(v[0], 1.5); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return mul(v[0], -2.5); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return rsub(3.0, v[0]); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return rdiv(3.0, v[0]); }), {pos});
  CHECK_GRADCHECK(F([](auto& v) { return neg(v[0]); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return exp(v[0]); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return log(v[0]); }), {pos});
  CHECK_GRADCHECK(F([](auto& v) { return sqrt(v[0]); }), {pos});
  CHECK_GRADCHECK(F([](auto& v) { return pow(v[0], 2.5); }), {pos});
  CHECK_GRADCHECK(F([](auto& v) { return tanh(v[0]); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return sigmoid(v[0]); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return gelu(v[0]); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return gelu(v[0], GeluApprox::Tanh); }), {x});
  // relu: keep inputs away from the kink at 0
  Tensor away = f64({-1.0, -0.3, 0.2, 0.9}, {4}).set_requires_grad();
  CHECK_GRADCHECK(F([](auto& v) { return relu(v[0]); }), {away});
}

TEST_CASE("bad input to elementwise ops names the op and the shapes") {
  CHECK_THROWS_WITH_AS(add(zeros({2, 3}), zeros({4})), doctest::Contains("add: shapes [2, 3] and [4] cannot be broadcast"),
                       Error);
  CHECK_THROWS_WITH_AS(mul(zeros({2}), zeros({2}, DType::Float64)), doctest::Contains("mul: dtype mismatch"), Error);
  CHECK_THROWS_WITH_AS(exp(arange(3)), doctest::Contains("exp: input must be float32 or float64"), Error);
  CHECK_THROWS_WITH_AS(add(Tensor(), zeros({1})), doctest::Contains("undefined"), Error);
}

TEST_CASE("in-place add_ and mul_ refuse leaves that require grad outside no-grad") {
  Tensor p = ones({2}).set_requires_grad();
  CHECK_THROWS_WITH_AS(add_(p, ones({2})), doctest::Contains("NoGradGuard"), Error);
  {
    NoGradGuard ng;
    add_(p, ones({2}), 0.5);
    mul_(p, 2.0);
  }
  CHECK(p.tolist<float>() == std::vector<float>{3, 3});
}

TEST_CASE("maximum, minimum and clamp on hand-checked values, NaN propagating") {
  Tensor a = f64({1, -2, 3, NAN, 0.5}, {5}), b = f64({2, -3, 3, 1, NAN}, {5});
  auto mx = maximum(a, b).tolist<double>(), mn = minimum(a, b).tolist<double>();
  CHECK(mx[0] == 2);
  CHECK(mx[1] == -2);
  CHECK(mx[2] == 3);
  CHECK(std::isnan(mx[3]));  // as torch.maximum: NaN if either is NaN
  CHECK(std::isnan(mx[4]));
  CHECK(mn[0] == 1);
  CHECK(mn[1] == -3);
  CHECK(mn[2] == 3);
  CHECK(std::isnan(mn[3]));
  CHECK(std::isnan(mn[4]));
  // broadcast against a scalar
  CHECK(maximum(f64({-1, 0, 4}, {3}), f64({0.5}, {1})).tolist<double>() == std::vector<double>{0.5, 0.5, 4});

  auto c = clamp(f64({-3, -1, 0, 1, 3, NAN}, {6}), -1.0, 2.0).tolist<double>();
  CHECK(std::vector<double>(c.begin(), c.begin() + 5) == std::vector<double>{-1, -1, 0, 1, 2});
  CHECK(std::isnan(c[5]));
  CHECK(clamp(f64({-3, 5}, {2}), std::nullopt, 1.0).tolist<double>() == std::vector<double>{-3, 1});
  CHECK(clamp(f64({-3, 5}, {2}), 0.0, std::nullopt).tolist<double>() == std::vector<double>{0, 5});
  // integer tensors (QA start / end positions)
  CHECK(clamp(from_vector(std::vector<int64_t>{-4, 0, 7, 12}, {4}), 0.0, 9.0).tolist<int64_t>() ==
        std::vector<int64_t>{0, 0, 7, 9});
}

TEST_CASE("maximum and minimum split the gradient on ties; clamp passes it on its bounds") {
  // PyTorch's rule (torch.maximum / torch.minimum / torch.clamp backward), by hand
  Tensor a = f64({1, 2, 3}, {3}).set_requires_grad(), b = f64({3, 2, 1}, {3}).set_requires_grad();
  sum(maximum(a, b)).backward();
  CHECK(a.grad().tolist<double>() == std::vector<double>{0, 0.5, 1});
  CHECK(b.grad().tolist<double>() == std::vector<double>{1, 0.5, 0});

  Tensor c = f64({1, 2, 3}, {3}).set_requires_grad(), d = f64({3, 2, 1}, {3}).set_requires_grad();
  sum(minimum(c, d)).backward();
  CHECK(c.grad().tolist<double>() == std::vector<double>{1, 0.5, 0});
  CHECK(d.grad().tolist<double>() == std::vector<double>{0, 0.5, 1});

  // broadcast: the scalar operand collects the gradient of every element it wins
  Tensor e = f64({-1, 0.5, 2}, {3}).set_requires_grad(), lo = f64({0.5}, {1}).set_requires_grad();
  sum(maximum(e, lo)).backward();
  CHECK(e.grad().tolist<double>() == std::vector<double>{0, 0.5, 1});
  CHECK(lo.grad().tolist<double>() == std::vector<double>{1.5});

  Tensor x = f64({-2, -1, 0, 1, 2}, {5}).set_requires_grad();
  sum(clamp(x, -1.0, 1.0)).backward();
  CHECK(x.grad().tolist<double>() == std::vector<double>{0, 1, 1, 1, 0});  // bounds included
}

TEST_CASE("gradcheck: maximum, minimum and clamp, with broadcasting") {
  auto a = rand64({2, 3}, 40), b = rand64({3}, 41), c = rand64({2, 1}, 42);
  CHECK_GRADCHECK([](auto& v) { return maximum(v[0], v[1]); }, {a, b});
  CHECK_GRADCHECK([](auto& v) { return minimum(v[0], v[1]); }, {a, c});
  CHECK_GRADCHECK([](auto& v) { return clamp(v[0], -0.3, 0.4); }, {rand64({4, 5}, 43)});
}

TEST_CASE("bad input to maximum, minimum and clamp names the op and what was wrong") {
  CHECK_THROWS_WITH_AS(maximum(zeros({2, 3}), zeros({4})), doctest::Contains("maximum: shapes [2, 3] and [4] cannot be broadcast"),
                       Error);
  CHECK_THROWS_WITH_AS(minimum(zeros({2}), zeros({2}, DType::Float64)), doctest::Contains("minimum: dtype mismatch"), Error);
  CHECK_THROWS_WITH_AS(clamp(zeros({2}), std::nullopt, std::nullopt),
                       doctest::Contains("clamp: give at least one of min and max"), Error);
  CHECK_THROWS_WITH_AS(clamp(zeros({2}), 3.0, 1.0), doctest::Contains("clamp: min 3.000000 is greater than max 1.000000"), Error);
  CHECK_THROWS_WITH_AS(clamp(zeros({2}), NAN, 1.0), doctest::Contains("clamp: a bound is NaN"), Error);
  CHECK_THROWS_WITH_AS(clamp(Tensor(), 0.0, 1.0), doctest::Contains("clamp"), Error);
}
