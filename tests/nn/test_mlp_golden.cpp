// tests/nn/test_mlp_golden.cpp — a two-layer MLP (4 -> 8 -> 3, GELU, cross-entropy with an
// ignored target) trained for three SGD steps, against PyTorch (tests/data/mlp_golden.json,
// made by tools/make_mlp_golden.py). float64 end to end, so the tolerances are tight.
#include <doctest/doctest.h>

#include "nn/optim.h"
#include "ops/loss.h"
#include "ops/ops.h"
#include "tests/golden.h"
#include "tests/gradcheck.h"

using namespace bertlab;
using bertlab::testing::allclose;
using bertlab::testing::tensor_from_json;

#define CHECK_MATCH(got, ref, tol)                  \
  do {                                              \
    auto r_ = allclose(got, ref, tol, tol);         \
    INFO(#got << ": " << r_.message);               \
    CHECK(r_.ok);                                   \
  } while (0)

TEST_CASE("MLP forward, backward and three SGD steps match PyTorch") {
  auto g = testing::read_json("tests/data/mlp_golden.json");
  Tensor x = tensor_from_json(g["x"]);
  Tensor targets = from_vector(g["targets"].get<std::vector<int64_t>>(), {(int64_t)g["targets"].size()});
  std::map<std::string, Tensor> p;
  for (auto& [name, t] : g["init"].items()) p[name] = tensor_from_json(t).set_requires_grad();
  auto forward = [&] { return linear(gelu(linear(x, p["l1.weight"], p["l1.bias"])), p["l2.weight"], p["l2.bias"]); };

  Tensor logits = forward();
  CHECK_MATCH(logits, tensor_from_json(g["logits"]), 1e-12);
  Tensor loss = cross_entropy(logits, targets);
  CHECK(loss.item() == doctest::Approx(g["loss"].get<double>()).epsilon(1e-12));
  loss.backward();
  for (auto& [name, t] : g["grads"].items()) {
    INFO(name);
    CHECK_MATCH(p[name].grad(), tensor_from_json(t), 1e-12);
  }

  std::vector<Tensor> params = {p["l1.weight"], p["l1.bias"], p["l2.weight"], p["l2.bias"]};
  nn::SGD opt({{params, 0.0, {}}}, 0.1, 0.9);
  std::vector<double> losses;
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    Tensor l = cross_entropy(forward(), targets);
    l.backward();
    opt.step();
    losses.push_back(l.item());
  }
  auto ref = g["sgd"]["losses"].get<std::vector<double>>();
  for (int i = 0; i < 3; ++i) CHECK(losses[i] == doctest::Approx(ref[i]).epsilon(1e-12));
  for (auto& [name, t] : g["sgd"]["final"].items()) {
    INFO(name);
    CHECK_MATCH(p[name], tensor_from_json(t), 1e-12);
  }
}

TEST_CASE("the same MLP in float32 stays within float32 rounding of PyTorch's float64") {
  auto g = testing::read_json("tests/data/mlp_golden.json");
  Tensor x = tensor_from_json(g["x"], DType::Float32);
  Tensor targets = from_vector(g["targets"].get<std::vector<int64_t>>(), {(int64_t)g["targets"].size()});
  std::map<std::string, Tensor> p;
  for (auto& [name, t] : g["init"].items()) p[name] = tensor_from_json(t, DType::Float32).set_requires_grad();
  Tensor logits = linear(gelu(linear(x, p["l1.weight"], p["l1.bias"])), p["l2.weight"], p["l2.bias"]);
  CHECK_MATCH(logits.to(DType::Float64), tensor_from_json(g["logits"]), 1e-5);
  Tensor loss = cross_entropy(logits, targets);
  loss.backward();
  for (auto& [name, t] : g["grads"].items()) {
    INFO(name);
    CHECK_MATCH(p[name].grad().to(DType::Float64), tensor_from_json(t), 1e-5);
  }
}
