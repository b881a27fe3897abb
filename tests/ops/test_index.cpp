// tests/ops/test_index.cpp — index_select, gather, where, masked_fill: values, scatter-add
// backward with repeated indices, broadcasting, float64 gradchecks, bad indices.
#include "tests/ops/helpers.h"

using namespace bertlab;
using testing::rand64;

static Tensor idx(std::vector<int64_t> v, Shape s) { return from_vector(v, s); }

TEST_CASE("index_select picks slices along any dimension") {
  Tensor x = reshape(arange(12, DType::Float32), {3, 4});
  CHECK(index_select(x, 0, idx({2, 0, 2}, {3})).tolist<float>() == std::vector<float>{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});
  CHECK(index_select(x, 1, idx({3, 1}, {2})).tolist<float>() == std::vector<float>{3, 1, 7, 5, 11, 9});
  CHECK(index_select(x, -1, idx({}, {0})).shape() == Shape{3, 0});
  Tensor w = zeros({3, 4}).set_requires_grad();
  index_select(w, 0, idx({2, 0, 2}, {3})).backward(ones({3, 4}));
  CHECK(w.grad().tolist<float>() == std::vector<float>{1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2});
}

TEST_CASE("gather follows torch.gather") {
  Tensor x = f32({1, 2, 3, 4}, {2, 2});
  CHECK(gather(x, 1, idx({0, 0, 1, 0}, {2, 2})).tolist<float>() == std::vector<float>{1, 1, 4, 3});
  CHECK(gather(x, 0, idx({1, 0}, {1, 2})).tolist<float>() == std::vector<float>{3, 2});
  // an index smaller than x outside dim
  Tensor y = reshape(arange(24, DType::Float64), {2, 3, 4});
  Tensor g = gather(y, 1, idx({2, 0, 1}, {1, 1, 3}));
  CHECK(g.tolist<double>() == std::vector<double>{8, 1, 6});
  Tensor w = zeros({2, 2}).set_requires_grad();
  gather(w, 1, idx({0, 0, 1, 0}, {2, 2})).backward(ones({2, 2}));
  CHECK(w.grad().tolist<float>() == std::vector<float>{2, 0, 1, 1});
}

TEST_CASE("where and masked_fill broadcast; the condition may have any dtype") {
  Tensor c = idx({1, 0, 1}, {3});
  CHECK(where(c, f32({1, 2, 3}, {3}), f32({4, 5, 6}, {3})).tolist<float>() == std::vector<float>{1, 5, 3});
  Tensor y = where(f32({1, 0}, {2, 1}), f32({1, 2, 3}, {3}), full({}, -1.0));
  CHECK(y.shape() == Shape{2, 3});
  CHECK(y.tolist<float>() == std::vector<float>{1, 2, 3, -1, -1, -1});
  Tensor x = reshape(arange(6, DType::Float32), {2, 3});
  CHECK(masked_fill(x, idx({0, 1, 0}, {3}), -9).tolist<float>() == std::vector<float>{0, -9, 2, 3, -9, 5});
  Tensor xg = ones({2, 3}).set_requires_grad();
  masked_fill(xg, idx({0, 1, 0}, {3}), -9).backward(full({2, 3}, 3.0));
  CHECK(xg.grad().tolist<float>() == std::vector<float>{3, 0, 3, 3, 0, 3});  // zero where filled
}

TEST_CASE("gradcheck: index_select, gather, where, masked_fill") {
  using F = testing::Fn;
  Tensor x = rand64({3, 4, 2}, 81);
  Tensor i1 = idx({2, 0, 2, 1}, {4});
  CHECK_GRADCHECK(F([i1](auto& v) { return index_select(v[0], 0, i1); }), {x});
  CHECK_GRADCHECK(F([i1](auto& v) { return index_select(v[0], 1, i1); }), {x});
  // repeated entries within a column along dim, so the scatter-add must sum, not overwrite
  Tensor gi = idx({1, 3, 1, 3, 0, 2}, {1, 3, 2});
  CHECK_GRADCHECK(F([gi](auto& v) { return gather(v[0], 1, gi); }), {x});
  Tensor gi0 = idx({2, 1, 2, 0}, {2, 1, 2});
  CHECK_GRADCHECK(F([gi0](auto& v) { return gather(v[0], 0, gi0); }), {x});
  Tensor cond = idx({1, 0, 0, 1, 1, 0}, {2, 3, 1});
  CHECK_GRADCHECK(F([cond](auto& v) { return where(cond, v[0], v[1]); }), {rand64({3, 4}, 82), rand64({4}, 83)});
  CHECK_GRADCHECK(F([cond](auto& v) { return where(cond, v[0], v[1]); }), {rand64({2, 1, 4}, 84), rand64({}, 85)});
  Tensor mask = f64({0, 1, 1, 0}, {4});
  CHECK_GRADCHECK(F([mask](auto& v) { return masked_fill(v[0], mask, -1e4); }), {rand64({3, 4}, 86)});
}

TEST_CASE("bad indices name the op, the value and the bound") {
  Tensor x = zeros({3, 4});
  CHECK_THROWS_WITH_AS(index_select(x, 0, idx({0, 3}, {2})),
                       doctest::Contains("index_select: index 3 at position [1] is out of range for dimension 0 of size 3 (input [3, 4])"),
                       Error);
  CHECK_THROWS_WITH_AS(index_select(x, 0, idx({0, 1}, {1, 2})), doctest::Contains("index_select: index must have 1 dimensions"), Error);
  CHECK_THROWS_WITH_AS(index_select(x, 2, idx({0}, {1})), doctest::Contains("index_select: dimension 2 is out of range"), Error);
  CHECK_THROWS_WITH_AS(gather(x, 1, idx({0, 4}, {1, 2})),
                       doctest::Contains("gather: index 4 at position [0, 1] is out of range for dimension 1 of size 4"), Error);
  CHECK_THROWS_WITH_AS(gather(x, 1, idx({0, 0, 0, 0}, {4, 1})), doctest::Contains("gather: index [4, 1] does not fit input [3, 4]"),
                       Error);
  CHECK_THROWS_WITH_AS(where(ones({2}), zeros({3}), zeros({3})), doctest::Contains("where: shapes [2] and [3] cannot be broadcast"),
                       Error);
  CHECK_THROWS_WITH_AS(where(ones({3}), zeros({3}), zeros({3}, DType::Float64)), doctest::Contains("where: dtype mismatch"), Error);
  CHECK_THROWS_WITH_AS(masked_fill(x, ones({2, 3, 4}), 0.0), doctest::Contains("masked_fill: mask [2, 3, 4] does not broadcast to input [3, 4]"),
                       Error);
}
