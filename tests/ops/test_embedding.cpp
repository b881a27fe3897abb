// tests/ops/test_embedding.cpp — embedding: values, scatter-add backward with repeated ids,
// determinism across thread counts, float64 gradcheck, bad ids.
#include "tests/ops/helpers.h"

#include <omp.h>

using namespace bertlab;
using testing::rand64;

static Tensor ids_of(std::vector<int64_t> v, Shape s) { return from_vector(v, s); }

TEST_CASE("embedding gathers rows and keeps the ids' shape") {
  Tensor w = reshape(arange(8, DType::Float32), {4, 2});  // row v is [2v, 2v+1]
  Tensor out = embedding(w, ids_of({3, 0, 3, 1}, {2, 2}));
  CHECK(out.shape() == Shape{2, 2, 2});
  CHECK(out.tolist<float>() == std::vector<float>{6, 7, 0, 1, 6, 7, 2, 3});
  CHECK(embedding(w, ids_of({2}, {})).shape() == Shape{2});  // a 0-d id gives one row
}

TEST_CASE("embedding backward scatter-adds repeated ids into a dense gradient") {
  Tensor w = zeros({4, 2}).set_requires_grad();
  embedding(w, ids_of({3, 0, 3, 1}, {2, 2})).backward(ones({2, 2, 2}));
  CHECK(w.grad().shape() == Shape{4, 2});
  CHECK(w.grad().tolist<float>() == std::vector<float>{1, 1, 1, 1, 0, 0, 2, 2});
}

TEST_CASE("embedding backward matches a serial sum and does not depend on the thread count") {
  Generator g(51);
  const int64_t V = 37, C = 64, n = 2000;
  Tensor ids = randint({n}, g, 0, V), w = randn({V, C}, g), dy = randn({n, C}, g);
  auto grad = [&](int threads) {
    const int prev = omp_get_max_threads();
    omp_set_num_threads(threads);
    Tensor wl = w.detach().set_requires_grad();
    embedding(wl, ids).backward(dy);
    omp_set_num_threads(prev);
    return wl.grad().tolist<float>();
  };
  std::vector<float> one = grad(1), three = grad(3);
  CHECK(one == three);
  std::vector<double> ref(V * C, 0.0);
  std::vector<int64_t> iv = ids.tolist<int64_t>();
  std::vector<float> dv = dy.tolist<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < C; ++c) ref[iv[i] * C + c] += dv[i * C + c];
  CHECK_CLOSE(from_vector(std::vector<float>(one), {V, C}), from_vector(ref, {V, C}), 1e-4, 1e-5);
}

TEST_CASE("gradcheck: embedding with repeated ids") {
  using F = testing::Fn;
  Tensor ids = ids_of({1, 4, 1, 0, 4, 4}, {2, 3});
  CHECK_GRADCHECK(F([ids](auto& v) { return embedding(v[0], ids); }), {rand64({5, 3}, 52)});
}

TEST_CASE("bad ids name the op, the id, its position and V") {
  Tensor w = zeros({5, 3});
  CHECK_THROWS_WITH_AS(embedding(w, ids_of({0, 1, 2, 7}, {2, 2})),
                       doctest::Contains("embedding: id 7 at position [1, 1] of ids [2, 2] is out of range [0, 5) for weight [5, 3] (V = 5)"),
                       Error);
  CHECK_THROWS_WITH_AS(embedding(w, ids_of({-1}, {1})), doctest::Contains("embedding: id -1 at position [0]"), Error);
  CHECK_THROWS_WITH_AS(embedding(w, zeros({2})), doctest::Contains("embedding: ids must be int64"), Error);
  CHECK_THROWS_WITH_AS(embedding(zeros({5}), ids_of({0}, {1})), doctest::Contains("embedding: weight must have 2 dimensions"), Error);
}
