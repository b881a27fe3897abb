// tests/autograd/test_graph.cpp — the reverse-mode engine: accumulation, retain_graph,
// freed graphs, no-grad scopes, detach, deep graphs, errors.
#include <doctest/doctest.h>

#include <cmath>

#include "ops/ops.h"

using namespace bertlab;

TEST_CASE("backward of a scalar fills .grad of the leaves, hand-checked") {
  // y = sum(a * b + a), dy/da = b + 1, dy/db = a
  Tensor a = from_vector(std::vector<float>{1, 2, 3}, {3}).set_requires_grad();
  Tensor b = from_vector(std::vector<float>{4, 5, 6}, {3}).set_requires_grad();
  Tensor y = sum(a * b + a);
  CHECK(y.item() == 1 * 4 + 2 * 5 + 3 * 6 + 6);
  y.backward();
  CHECK(a.grad().tolist<float>() == std::vector<float>{5, 6, 7});
  CHECK(b.grad().tolist<float>() == std::vector<float>{1, 2, 3});
}

TEST_CASE("gradients accumulate with += across backward calls until zero_grad") {
  Tensor a = from_vector(std::vector<float>{1, 2}, {2}).set_requires_grad();
  sum(a * 3.0).backward();
  sum(a * 3.0).backward();
  CHECK(a.grad().tolist<float>() == std::vector<float>{6, 6});
  a.zero_grad();
  CHECK_FALSE(a.grad().defined());
  sum(a).backward();
  CHECK(a.grad().tolist<float>() == std::vector<float>{1, 1});
}

TEST_CASE("a tensor used twice gets both contributions") {
  Tensor a = from_vector(std::vector<float>{3}, {1}).set_requires_grad();
  Tensor y = sum(a * a);  // dy/da = 2a
  y.backward();
  CHECK(a.grad().item() == 6.0);
}

TEST_CASE("backward twice through a freed graph is an error naming the op") {
  Tensor a = ones({2}).set_requires_grad();
  Tensor h = exp(a);
  Tensor y = sum(h);
  y.backward();
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("already freed"), Error);
  CHECK_THROWS_WITH_AS(sum(h * 2.0).backward(), doctest::Contains("'exp'"), Error);
}

TEST_CASE("retain_graph keeps the graph for a second backward") {
  Tensor a = ones({2}).set_requires_grad();
  Tensor y = sum(exp(a));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  CHECK(a.grad().tolist<float>()[0] == doctest::Approx(2 * std::exp(1.0)));
}

TEST_CASE("backward on a tensor that does not require grad is an error") {
  Tensor a = ones({2});
  CHECK_THROWS_WITH_AS(sum(a).backward(), doctest::Contains("does not require grad"), Error);
  Tensor b = ones({2}).set_requires_grad();
  CHECK_THROWS_WITH_AS((b * 2.0).backward(), doctest::Contains("one-element"), Error);
  CHECK_THROWS_WITH_AS((b * 2.0).backward(ones({3})), doctest::Contains("does not match"), Error);
  CHECK_THROWS_WITH_AS(arange(3).set_requires_grad(), doctest::Contains("floating-point"), Error);
}

TEST_CASE("an explicit output gradient weights the backward") {
  Tensor a = from_vector(std::vector<float>{1, 2}, {2}).set_requires_grad();
  Tensor y = a * 3.0;
  y.backward(from_vector(std::vector<float>{1, 10}, {2}));
  CHECK(a.grad().tolist<float>() == std::vector<float>{3, 30});
}

TEST_CASE("NoGradGuard records nothing; detach cuts history") {
  Tensor a = ones({2}).set_requires_grad();
  {
    NoGradGuard g;
    Tensor y = a * 2.0;
    CHECK_FALSE(y.requires_grad());
    CHECK_FALSE(y.grad_fn());
  }
  CHECK(grad_enabled());
  Tensor d = (a * 2.0).detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.tolist<float>() == std::vector<float>{2, 2});
  Tensor y = sum(a * d);  // d is a constant
  y.backward();
  CHECK(a.grad().tolist<float>() == std::vector<float>{2, 2});
}

TEST_CASE("retain_grad keeps the gradient of an intermediate") {
  Tensor a = from_vector(std::vector<float>{1, 2}, {2}).set_requires_grad();
  Tensor h = a * 3.0;
  h.retain_grad();
  sum(h * h).backward();  // d/dh = 2h
  CHECK(h.grad().tolist<float>() == std::vector<float>{6, 12});
  CHECK(a.grad().tolist<float>() == std::vector<float>{18, 36});
}

TEST_CASE("a graph 100000 ops deep runs backward without recursion") {
  Tensor a = ones({1}).set_requires_grad();
  Tensor y = a;
  for (int i = 0; i < 100000; ++i) y = y + 0.0;
  sum(y).backward();
  CHECK(a.grad().item() == 1.0);
}

TEST_CASE("dropping a graph 1000000 ops deep without backward does not overflow the stack") {
  Tensor a = ones({1}).set_requires_grad();
  {
    Tensor y = a;
    for (int i = 0; i < 1000000; ++i) y = y + 0.0;
  }
  CHECK(a.grad_fn() == nullptr);
}

TEST_CASE("a leaf's gradient never aliases another tensor's storage") {
  // add's backward passes dy through unchanged; the leaf must still own its .grad
  Tensor a = ones({2}).set_requires_grad();
  Tensor b = ones({2}).set_requires_grad();
  (a + b).backward(ones({2}));
  CHECK(a.grad().impl()->storage != b.grad().impl()->storage);
  a.grad();
  sum(a).backward();
  CHECK(a.grad().tolist<float>() == std::vector<float>{2, 2});
  CHECK(b.grad().tolist<float>() == std::vector<float>{1, 1});
}

TEST_CASE("the leaf-ready hook reports each leaf once, when its gradient is complete") {
  // w is used at the start and at the end of the graph (as BERT's tied word embeddings are):
  // it is complete only after both edges; b is used once, late in backward's order
  Tensor w = from_vector(std::vector<float>{2, 3}, {2}).set_requires_grad();
  Tensor b = from_vector(std::vector<float>{1, 1}, {2}).set_requires_grad();
  Tensor unused = from_vector(std::vector<float>{5}, {1}).set_requires_grad();
  Tensor h = w * 2.0;                 // first use of w
  Tensor y = sum(exp(h + b) * w);     // second use, nearer the loss
  std::vector<std::pair<TensorImpl*, std::vector<float>>> seen;
  {
    const LeafReadyGuard g([&](TensorImpl* leaf) {
      // the gradient is final when reported: what it holds now is what it holds at the end
      seen.push_back({leaf, Tensor(std::shared_ptr<TensorImpl>(leaf->grad)).tolist<float>()});
    });
    y.backward();
  }
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].first == b.impl());  // b's only edge comes before w's last
  CHECK(seen[1].first == w.impl());
  CHECK(seen[0].second == b.grad().tolist<float>());
  CHECK(seen[1].second == w.grad().tolist<float>());
  // dy/dw = exp(2w + b) * (2w + 1)
  const std::vector<float> gw = w.grad().tolist<float>();
  CHECK(gw[0] == doctest::Approx(std::exp(5.0) * 5));
  CHECK(gw[1] == doctest::Approx(std::exp(7.0) * 7));
  CHECK_FALSE(unused.grad().defined());
  // outside the guard nothing is reported
  seen.clear();
  sum(w * 3.0).backward();
  CHECK(seen.empty());
}
