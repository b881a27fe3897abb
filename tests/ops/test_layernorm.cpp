// tests/ops/test_layernorm.cpp — layer_norm: values, a composed reference, float64
// gradchecks, determinism of dweight/dbias across thread counts, bad input.
#include "tests/ops/helpers.h"

#include <omp.h>

#include <cmath>

using namespace bertlab;
using testing::rand64;

TEST_CASE("layer_norm on a hand-checked row") {
  // mean 2.5, biased variance 1.25, rstd 1/sqrt(1.25) = 0.894427190999916
  Tensor x = f64({1, 2, 3, 4}, {1, 4});
  Tensor w = f64({1, 2, 1, 2}, {4}), b = f64({0, 0, 1, 1}, {4});
  CHECK_CLOSE(layer_norm(x, w, b, 0.0),
              f64({-1.3416407864998738, -0.8944271909999159, 1.4472135954999579, 3.6832815729997477}, {1, 4}), 1e-14, 1e-12);
  CHECK_CLOSE(layer_norm(x, Tensor(), Tensor(), 0.0),
              f64({-1.3416407864998738, -0.4472135954999579, 0.4472135954999579, 1.3416407864998738}, {1, 4}), 1e-14, 1e-12);
  // float32, with BERT's eps
  Tensor y32 = layer_norm(x.to(DType::Float32), w.to(DType::Float32), b.to(DType::Float32));
  CHECK(y32.dtype() == DType::Float32);
  CHECK(y32.tolist<float>()[3] == doctest::Approx(3.6832815729997477).epsilon(1e-6));
}

TEST_CASE("layer_norm matches the composed formula on random (B,T,C) input") {
  Tensor x = rand64({2, 3, 8}, 21, -3, 3, false), w = rand64({8}, 22, 0.5, 1.5, false), b = rand64({8}, 23, -1, 1, false);
  Tensor mu = mean(x, {-1}, true);
  Tensor var = mean(mul(x - mu, x - mu), {-1}, true);
  Tensor ref = (x - mu) / sqrt(var + 1e-5) * w + b;
  CHECK_CLOSE(layer_norm(x, w, b, 1e-5), ref, 1e-12, 1e-10);
}

TEST_CASE("gradcheck: layer_norm with and without weight and bias") {
  using F = testing::Fn;
  Tensor x = rand64({3, 5}, 31, -2, 2), w = rand64({5}, 32, 0.5, 1.5), b = rand64({5}, 33);
  CHECK_GRADCHECK(F([](auto& v) { return layer_norm(v[0], v[1], v[2], 1e-5); }), {x, w, b});
  CHECK_GRADCHECK(F([](auto& v) { return layer_norm(v[0], Tensor(), Tensor(), 1e-5); }), {x});
  Tensor x3 = rand64({2, 2, 4}, 34, -2, 2), w3 = rand64({4}, 35, 0.5, 1.5), b3 = rand64({4}, 36);
  CHECK_GRADCHECK(F([](auto& v) { return layer_norm(v[0], v[1], v[2], 1e-5); }), {x3, w3, b3});
  // only the parameters require grad
  Tensor xc = rand64({4, 3}, 37, -2, 2, false);
  CHECK_GRADCHECK(F([](auto& v) { return layer_norm(v[0], v[1], v[2], 1e-5); }), {xc, rand64({3}, 38), rand64({3}, 39)});
}

TEST_CASE("layer_norm backward is bitwise the same for any thread count") {
  Generator g(41);
  Tensor x = randn({300, 64}, g), w = randn({64}, g), b = randn({64}, g), dy = randn({300, 64}, g);
  auto grads = [&](int threads) {
    const int prev = omp_get_max_threads();
    omp_set_num_threads(threads);
    Tensor xl = x.detach().set_requires_grad(), wl = w.detach().set_requires_grad(), bl = b.detach().set_requires_grad();
    layer_norm(xl, wl, bl).backward(dy);
    omp_set_num_threads(prev);
    return std::vector<std::vector<float>>{xl.grad().tolist<float>(), wl.grad().tolist<float>(), bl.grad().tolist<float>()};
  };
  auto one = grads(1), three = grads(3);
  CHECK(one[0] == three[0]);
  CHECK(one[1] == three[1]);
  CHECK(one[2] == three[2]);
  CHECK(one[2][0] == doctest::Approx(sum(narrow(dy, 1, 0, 1)).item()).epsilon(1e-5));  // dbias = sum of dy
}

TEST_CASE("bad input to layer_norm names the op and the shapes") {
  CHECK_THROWS_WITH_AS(layer_norm(zeros({2, 4}), zeros({3}), zeros({4})),
                       doctest::Contains("layer_norm: weight [3] does not match the last dimension of input [2, 4]"), Error);
  CHECK_THROWS_WITH_AS(layer_norm(zeros({2, 4}), zeros({4}), zeros({2, 4})),
                       doctest::Contains("layer_norm: bias [2, 4] does not match"), Error);
  CHECK_THROWS_WITH_AS(layer_norm(zeros({2, 4}), zeros({4}, DType::Float64), Tensor()),
                       doctest::Contains("layer_norm: dtype mismatch"), Error);
  CHECK_THROWS_WITH_AS(layer_norm(zeros({}), Tensor(), Tensor()), doctest::Contains("layer_norm: input must have at least 1"), Error);
}
