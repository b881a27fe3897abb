// tests/ops/test_shape_reduce.cpp — views, cat/stack and reductions: values, gradchecks,
// bad input.
#include "tests/ops/helpers.h"

using namespace bertlab;
using testing::rand64;

TEST_CASE("reshape infers -1, copies only when it must") {
  Tensor x = arange(6, DType::Float32);
  Tensor r = reshape(x, {2, -1});
  CHECK(r.shape() == Shape{2, 3});
  CHECK(r.impl()->storage == x.impl()->storage);  // a view
  Tensor t = transpose(r, 0, 1);
  Tensor f = reshape(t, {6});                      // needs a copy
  CHECK(f.tolist<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
  CHECK_THROWS_WITH_AS(view(t, {6}), doctest::Contains("use reshape"), Error);
  CHECK_THROWS_WITH_AS(reshape(x, {4, -1}), doctest::Contains("invalid for input of shape [6]"), Error);
  // a permuted view that is still viewable
  Tensor q = zeros({2, 3, 4});
  CHECK(view(permute(q, {1, 0, 2}), {3, 2, 4}).shape() == Shape{3, 2, 4});
}

TEST_CASE("sum, mean, max over dimensions with keepdim") {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(sum(x).item() == 21);
  CHECK(sum(x, {0}).tolist<float>() == std::vector<float>{5, 7, 9});
  CHECK(sum(x, {1}, true).shape() == Shape{2, 1});
  CHECK(sum(x, {-1}).tolist<float>() == std::vector<float>{6, 15});
  CHECK(mean(x, {1}).tolist<float>() == std::vector<float>{2, 5});
  CHECK(max(x, {0}).tolist<float>() == std::vector<float>{4, 5, 6});
  CHECK(max(x).item() == 6);
  Tensor y = rand64({2, 3, 4}, 1, -1, 1, false);
  CHECK_CLOSE(sum(y, {0, 2}), sum(sum(y, {2}), {0}), 1e-12, 0);
  CHECK(argmax(f32({1, 9, 3, 7, 2, 8}, {2, 3}), 1).tolist<int64_t>() == std::vector<int64_t>{1, 2});
  TopK tk = topk(f32({1, 9, 3, 7}, {4}), 2);
  CHECK(tk.values.tolist<float>() == std::vector<float>{9, 7});
  CHECK(tk.indices.tolist<int64_t>() == std::vector<int64_t>{1, 3});
}

TEST_CASE("float32 sums accumulate in double") {
  Tensor x = full({1 << 22}, 0.1);
  CHECK(sum(x).item() == doctest::Approx(0.1f * (1 << 22)).epsilon(1e-6));
}

TEST_CASE("gradcheck: views") {
  using F = testing::Fn;
  Tensor x = rand64({2, 3, 4}, 1);
  CHECK_GRADCHECK(F([](auto& v) { return reshape(v[0], {4, 6}); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return view(v[0], {6, 4}); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return flatten(v[0], 1); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return permute(v[0], {2, 0, 1}); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return transpose(v[0], 0, 2); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return unsqueeze(v[0], 1); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return squeeze(unsqueeze(v[0], 0), 0); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return expand(v[0], {3, 2, 3, 4}); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return narrow(v[0], 2, 1, 2); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return slice(v[0], 1, 1, -1); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return select(v[0], 1, 2); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return contiguous(transpose(v[0], 0, 1)); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return cat({v[0], v[1]}, 1); }), {x, rand64({2, 2, 4}, 2)});
  CHECK_GRADCHECK(F([](auto& v) { return stack({v[0], v[1]}, 0); }), {x, rand64({2, 3, 4}, 3)});
}

TEST_CASE("gradcheck: reductions") {
  using F = testing::Fn;
  Tensor x = rand64({3, 4, 5}, 4);
  CHECK_GRADCHECK(F([](auto& v) { return sum(v[0]); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return sum(v[0], {1}); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return sum(v[0], {0, 2}, true); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return mean(v[0], {-1}); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return mean(v[0]); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return max(v[0], {1}); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return max(v[0], {1, 2}, true); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return max(v[0]); }), {x});
  CHECK_GRADCHECK(F([](auto& v) { return sum_to(v[0], {4, 1}); }), {x});
}

TEST_CASE("bad input to shape ops and reductions") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH_AS(sum(x, {2}), doctest::Contains("sum: dimension 2 is out of range for a 2-d tensor"), Error);
  CHECK_THROWS_WITH_AS(sum(x, {0, 0}), doctest::Contains("repeated"), Error);
  CHECK_THROWS_WITH_AS(max(zeros({2, 3, 4}), {0, 2}), doctest::Contains("adjacent"), Error);
  CHECK_THROWS_WITH_AS(permute(x, {0}), doctest::Contains("permute: 1 dimensions given for a tensor of shape [2, 3]"), Error);
  CHECK_THROWS_WITH_AS(permute(x, {0, 0}), doctest::Contains("appears twice"), Error);
  CHECK_THROWS_WITH_AS(narrow(x, 1, 2, 2), doctest::Contains("narrow: range [2, 4) is out of bounds for dimension 1 of size 3"), Error);
  CHECK_THROWS_WITH_AS(expand(x, {3, 3}), doctest::Contains("expand: cannot expand [2, 3] to [3, 3]"), Error);
  CHECK_THROWS_WITH_AS(cat({x, zeros({3, 3})}, 1), doctest::Contains("cat: tensor 1 has shape [3, 3]"), Error);
  CHECK_THROWS_WITH_AS(stack({x, zeros({2, 2})}, 0), doctest::Contains("stack: tensor 1 has shape [2, 2]"), Error);
  CHECK_THROWS_WITH_AS(topk(x, 4), doctest::Contains("topk: k = 4"), Error);
  CHECK_THROWS_WITH_AS(select(x, 0, 5), doctest::Contains("select: index 5"), Error);
}

TEST_CASE("shape ops refuse sizes that overflow 64 bits") {
  const int64_t big = int64_t(1) << 62;
  Tensor x = zeros({2, 3});
  // 2^62 * 4 wraps to 0 in 64 bits
  CHECK_THROWS_WITH_AS(reshape(x, {big, 4, -1}), doctest::Contains("x 4 overflows a 64-bit size"), Error);
  // [0, 2^62, 4] has 0 elements like the input, but its strides overflow
  CHECK_THROWS_WITH_AS(reshape(zeros({0}), {0, big, 4}), doctest::Contains("reshape: shape [0, 4611686018427387904, 4] has more elements"), Error);
  // a broadcast view allocates nothing, so only a check at expand catches its count
  CHECK_THROWS_WITH_AS(expand(zeros({1}), {big, 4, 1}), doctest::Contains("expand: shape [4611686018427387904, 4, 1]"), Error);
  // start + length wrapping negative used to pass the bounds check
  CHECK_THROWS_WITH_AS(narrow(x, 1, 1, INT64_MAX), doctest::Contains("narrow: range [1, 1 + 9223372036854775807) is out of bounds"), Error);
  Tensor wide = expand(zeros({1}), {big});
  CHECK_THROWS_WITH_AS(cat({wide, wide}, 0), doctest::Contains("cat: dimension 0: size 4611686018427387904 + 4611686018427387904"), Error);
}
