// tests/ops/test_loss.cpp — cross_entropy (values, ignore_index, reductions, the all-ignored
// batch, a composed reference, gradchecks, bad targets) and mse_loss.
#include "tests/ops/helpers.h"

#include <cmath>

using namespace bertlab;
using testing::rand64;

static Tensor targets_of(std::vector<int64_t> v, Shape s) { return from_vector(v, s); }

// logsumexp([1, 2, 3]) = 3.4076059644443806
static constexpr double kLse = 3.4076059644443806;

TEST_CASE("cross_entropy on hand-checked rows, with each reduction") {
  Tensor x = f64({1, 2, 3, 1, 2, 3}, {2, 3});
  Tensor t = targets_of({2, 0}, {2});
  CHECK(cross_entropy(x, t).item() == doctest::Approx(((kLse - 3) + (kLse - 1)) / 2).epsilon(1e-14));
  CHECK(cross_entropy(x, t, -100, Reduction::Sum).item() == doctest::Approx((kLse - 3) + (kLse - 1)).epsilon(1e-14));
  CHECK_CLOSE(cross_entropy(x, t, -100, Reduction::None), f64({kLse - 3, kLse - 1}, {2}), 1e-14, 1e-12);
  // float32
  CHECK(cross_entropy(x.to(DType::Float32), t).item() == doctest::Approx(1.4076059644443806).epsilon(1e-6));
}

TEST_CASE("cross_entropy averages over the targets that are not ignored") {
  Tensor x = f64({1, 2, 3, 1, 2, 3, 5, 0, 0}, {3, 3}).set_requires_grad();
  Tensor t = targets_of({2, -100, 0}, {3});
  Tensor loss = cross_entropy(x, t);
  const double lse2 = 5 + std::log(1 + 2 * std::exp(-5.0));
  CHECK(loss.item() == doctest::Approx(((kLse - 3) + (lse2 - 5)) / 2).epsilon(1e-14));
  loss.backward();
  std::vector<double> g = x.grad().tolist<double>();
  CHECK(g[3] == 0.0);  // the ignored row gets no gradient
  CHECK(g[4] == 0.0);
  CHECK(g[5] == 0.0);
  CHECK(g[2] == doctest::Approx((std::exp(3 - kLse) - 1) / 2));  // (softmax - onehot) / count
  // a custom ignore_index
  CHECK(cross_entropy(x.detach(), targets_of({2, 7, 0}, {3}), 7).item() == doctest::Approx(loss.item()));
}

TEST_CASE("cross_entropy with every target ignored is exactly 0 with a zero gradient") {
  Tensor x = rand64({4, 5}, 71);
  Tensor t = targets_of({-100, -100, -100, -100}, {4});
  for (Reduction r : {Reduction::Mean, Reduction::Sum}) {
    x.zero_grad();
    Tensor loss = cross_entropy(x, t, -100, r);
    CHECK(loss.item() == 0.0);  // not NaN
    loss.backward();
    CHECK(x.grad().tolist<double>() == std::vector<double>(20, 0.0));
  }
}

TEST_CASE("cross_entropy over (B,T,C) equals -mean of the log-softmax at the targets") {
  Tensor x = rand64({2, 3, 5}, 72, -3, 3, false);
  Tensor t = targets_of({4, 0, 2, 2, 1, 3}, {2, 3});
  Tensor picked = gather(log_softmax(x, -1), 2, unsqueeze(t, 2));
  CHECK(cross_entropy(x, t).item() == doctest::Approx(-mean(picked).item()).epsilon(1e-13));
}

TEST_CASE("cross_entropy over many rows (the threaded path) matches log_softmax + gather, forward and backward") {
  Generator g(77);
  const int64_t N = 200, C = 100;
  Tensor x = randn({N, C}, g, 0.0, 2.0, DType::Float64);
  Tensor t = randint({N}, g, 0, C);
  Tensor xa = x.detach().set_requires_grad(), xb = x.detach().set_requires_grad();
  Tensor fused = cross_entropy(xa, t);
  Tensor composed = neg(mean(gather(log_softmax(xb, -1), 1, unsqueeze(t, 1))));
  CHECK(fused.item() == doctest::Approx(composed.item()).epsilon(1e-13));
  fused.backward();
  composed.backward();
  CHECK_CLOSE(xa.grad(), xb.grad(), 1e-15, 1e-10);
}

TEST_CASE("gradcheck: cross_entropy, every reduction, with ignored targets") {
  using F = testing::Fn;
  Tensor t = targets_of({1, -100, 3, 0}, {4});
  Tensor t3 = targets_of({2, 0, -100, 1, 1, 2}, {2, 3});
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    CHECK_GRADCHECK(F([t, r](auto& v) { return cross_entropy(v[0], t, -100, r); }), {rand64({4, 4}, 73, -2, 2)});
    CHECK_GRADCHECK(F([t3, r](auto& v) { return cross_entropy(v[0], t3, -100, r); }), {rand64({2, 3, 3}, 74, -2, 2)});
  }
}

TEST_CASE("bad targets name cross_entropy, the position, the value and C") {
  Tensor x = zeros({3, 4});
  CHECK_THROWS_WITH_AS(cross_entropy(x, targets_of({0, 4, 1}, {3})),
                       doctest::Contains("cross_entropy: target 4 at position [1] is out of range [0, 4) for C = 4 classes"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(x, targets_of({0, 1, -1}, {3})), doctest::Contains("target -1 at position [2]"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(x, targets_of({0, 1}, {2})),
                       doctest::Contains("cross_entropy: targets [2] do not match logits [3, 4]"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(x, zeros({3})), doctest::Contains("cross_entropy: targets must be int64"), Error);
}

TEST_CASE("mse_loss: value, gradcheck, mismatched shapes") {
  using F = testing::Fn;
  CHECK(mse_loss(f64({1, 2, 3}, {3}), f64({1, 1, 1}, {3})).item() == doctest::Approx(5.0 / 3.0));
  CHECK_GRADCHECK(F([](auto& v) { return mse_loss(v[0], v[1]); }), {rand64({3, 2}, 75), rand64({3, 2}, 76)});
  CHECK_THROWS_WITH_AS(mse_loss(zeros({4, 1}), zeros({4})),
                       doctest::Contains("mse_loss: input [4, 1] and target [4] must have the same shape"), Error);
}
