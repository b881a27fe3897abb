// tests/cuda/test_ops_cuda.cpp — elementwise ops, reductions, matmul and linear on the GPU
// against the same ops on the CPU, forward and backward, float32 and float64.
#include <cmath>
#include <limits>

#include "tests/cuda/cuda_helpers.h"

using namespace bertlab;
using testing::check_cuda_vs_cpu;
using testing::kGpu;
using testing::float_types;
using testing::kExact;
using testing::rnd;
using testing::Tol;

using V = std::vector<Tensor>;

// float32 transcendental functions differ by an ulp or two between glibc and CUDA
static Tol fwd_tol(DType t) { return testing::tol(t, {1e-6, 1e-5}, {1e-14, 1e-12}); }

TEST_CASE("every unary op and its backward match the CPU") {
  struct Case {
    const char* name;
    testing::Fn f;
    double lo, hi;  // input range
  };
  const std::vector<Case> cases{
      {"neg", [](const V& v) { return neg(v[0]); }, -2, 2},
      {"exp", [](const V& v) { return exp(v[0]); }, -3, 3},
      {"log", [](const V& v) { return log(v[0]); }, 0.1, 5},
      {"sqrt", [](const V& v) { return sqrt(v[0]); }, 0.1, 5},
      {"pow 2.5", [](const V& v) { return pow(v[0], 2.5); }, 0.1, 3},
      {"pow -1", [](const V& v) { return pow(v[0], -1.0); }, 0.5, 3},
      {"tanh", [](const V& v) { return tanh(v[0]); }, -3, 3},
      {"sigmoid", [](const V& v) { return sigmoid(v[0]); }, -5, 5},
      {"relu", [](const V& v) { return relu(v[0]); }, -2, 2},
      {"gelu (erf)", [](const V& v) { return gelu(v[0]); }, -4, 4},
      {"gelu (tanh)", [](const V& v) { return gelu(v[0], GeluApprox::Tanh); }, -4, 4},
      {"x + 1.5", [](const V& v) { return add(v[0], 1.5); }, -2, 2},
      {"x * -0.75", [](const V& v) { return mul(v[0], -0.75); }, -2, 2},
      {"2 - x", [](const V& v) { return rsub(2.0, v[0]); }, -2, 2},
      {"3 / x", [](const V& v) { return rdiv(3.0, v[0]); }, 0.5, 2},
  };
  for (const Case& c : cases)
    for (DType t : float_types()) {
      Tensor x = rnd({7, 33}, 21, t, c.lo, c.hi);  // 231 elements: not a multiple of a block
      check_cuda_vs_cpu(std::string(c.name) + " " + dtype_name(t), c.f, {x}, fwd_tol(t), fwd_tol(t));
    }
}

TEST_CASE("binary ops broadcast on the GPU as on the CPU, with gradients reduced back") {
  const std::vector<std::pair<Shape, Shape>> shapes{
      {{4, 5}, {4, 5}}, {{2, 3, 4}, {4}}, {{2, 3, 4}, {3, 1}}, {{2, 1, 4}, {1, 3, 1}}, {{5}, {}}, {{3, 1}, {1, 6}}};
  const std::vector<std::pair<const char*, testing::Fn>> ops{
      {"add", [](const V& v) { return add(v[0], v[1]); }},
      {"sub", [](const V& v) { return sub(v[0], v[1]); }},
      {"mul", [](const V& v) { return mul(v[0], v[1]); }},
      {"div", [](const V& v) { return div(v[0], v[1]); }},
  };
  for (auto& [name, f] : ops)
    for (auto& [sa, sb] : shapes)
      for (DType t : float_types()) {
        Tensor a = rnd(sa, 22, t, 0.5, 2), b = rnd(sb, 23, t, 0.5, 2);
        check_cuda_vs_cpu(std::string(name) + " " + shape_str(sa) + " " + shape_str(sb) + " " + dtype_name(t), f, {a, b},
                          fwd_tol(t), fwd_tol(t));
      }
  // operands that are strided views
  for (DType t : float_types()) {
    Tensor a = rnd({6, 4}, 24, t), b = rnd({4, 6}, 25, t);
    check_cuda_vs_cpu("mul of a transposed view", [](const V& v) { return mul(v[0], transpose(v[1], 0, 1)); }, {a, b},
                      fwd_tol(t), fwd_tol(t));
    check_cuda_vs_cpu("add of a permuted 3-d view",
                      [](const V& v) { return add(permute(reshape(v[0], {2, 3, 4}), {2, 0, 1}), reshape(v[1], {4, 2, 3})); },
                      {a, b}, fwd_tol(t), fwd_tol(t));
  }
}

TEST_CASE("comparisons, maximum, minimum and clamp match the CPU, for int64 too, ties included") {
  for (DType t : {DType::Float32, DType::Float64, DType::Int64}) {
    INFO(dtype_name(t));
    Tensor a = rnd({4, 6}, 26, DType::Float64, -3, 3, false).to(t);
    // b is row 1 of a with two entries moved: row 1 of a == b has 4 ties, so eq has ones to
    // compare and maximum / minimum meet a == b (where the gradient is split)
    Tensor moved = from_vector(std::vector<double>{0, 0, 1, 0, -1, 0}, {6}).to(t);
    Tensor b = add(contiguous(select(a, 0, 1)), moved);
    const double ties = sum(eq(a, b).to(DType::Float64)).item();
    REQUIRE(ties >= 4);
    REQUIRE(ties < 24);
    Tensor ga = a.to(kGpu), gb = b.to(kGpu);
    CHECK_CLOSE_TO("gt", gt(ga, gb), gt(a, b), kExact);
    CHECK_CLOSE_TO("eq", eq(ga, gb), eq(a, b), kExact);
    CHECK_CLOSE_TO("maximum", maximum(ga, gb), maximum(a, b), kExact);
    CHECK_CLOSE_TO("minimum", minimum(ga, gb), minimum(a, b), kExact);
    CHECK_CLOSE_TO("clamp", clamp(ga, -1.0, 2.0), clamp(a, -1.0, 2.0), kExact);
    CHECK_CLOSE_TO("clamp min only", clamp(ga, 0.0, std::nullopt), clamp(a, 0.0, std::nullopt), kExact);
    CHECK_CLOSE_TO("add", add(ga, gb), add(a, b), kExact);
    if (t == DType::Int64) continue;
    // gradients, ties included
    Tensor ai = a.detach().set_requires_grad(), bi = b.detach().set_requires_grad();
    check_cuda_vs_cpu("maximum", [](const V& v) { return maximum(v[0], v[1]); }, {ai, bi}, kExact, kExact);
    check_cuda_vs_cpu("minimum", [](const V& v) { return minimum(v[0], v[1]); }, {ai, bi}, kExact, kExact);
    Tensor r = from_vector(std::vector<double>{-2, -1, -0.5, 0, 1, 1.5}, {6}).to(t).set_requires_grad();  // on the bounds too
    check_cuda_vs_cpu("clamp", [](const V& v) { return clamp(v[0], -1.0, 1.0); }, {r}, kExact, kExact);
  }
  // NaN propagates on the GPU as on the CPU
  const auto mx = maximum(from_vector(std::vector<double>{NAN, 1}, {2}).to(kGpu), from_vector(std::vector<double>{1, NAN}, {2}).to(kGpu));
  const auto v = mx.to(Device::CPU).tolist<double>();
  CHECK(std::isnan(v[0]));
  CHECK(std::isnan(v[1]));
}

TEST_CASE("in-place add_ and mul_ on the GPU, into dense and strided destinations") {
  for (DType t : float_types()) {
    NoGradGuard ng;
    Tensor x = rnd({5, 6}, 28, t, -1, 1, false), y = rnd({6}, 29, t, -1, 1, false);
    Tensor gx = x.to(kGpu), gy = y.to(kGpu);
    add_(x, y, 0.5);
    add_(gx, gy, 0.5);
    mul_(x, -3.0);
    mul_(gx, -3.0);
    Tensor xv = transpose(narrow(x, 1, 1, 4), 0, 1), gxv = transpose(narrow(gx, 1, 1, 4), 0, 1);  // (4, 5), strided
    Tensor z = rnd({4, 1}, 30, t, -1, 1, false);
    add_(xv, z);
    add_(gxv, z.to(kGpu));
    mul_(gxv, 2.0);
    mul_(xv, 2.0);
    INFO(dtype_name(t));
    CHECK_CLOSE_TO("after in-place updates", gx, x, fwd_tol(t));
  }
}

// ---------------------------------------------------------------------------------------
// reductions

TEST_CASE("sum and mean over any dimensions match the CPU, forward and backward") {
  const std::vector<std::pair<Shape, std::vector<int64_t>>> cases{
      {{3, 4, 5}, {}},        {{3, 4, 5}, {0}},     {{3, 4, 5}, {1}},    {{3, 4, 5}, {2}},
      {{3, 4, 5}, {0, 2}},    {{3, 4, 5}, {1, 2}},  {{2, 3, 4, 5}, {0, 1, 3}},
      {{1, 1}, {0}},          {{7}, {0}},
      // long rows and tall columns: the sum is split along R into chunks (two passes)
      {{3, 200000}, {1}},     {{1 << 20}, {0}},     {{20000, 40}, {0}},  {{5000, 3, 7}, {0}},
  };
  for (auto& [shape, dims] : cases)
    for (DType t : float_types()) {
      Tensor x = rnd(shape, 31, t);
      const std::string name = shape_str(shape) + " dims " + shape_str(Shape(dims.begin(), dims.end())) + " " + dtype_name(t);
      // sums accumulate in double on both devices, in a different order
      const Tol tl = testing::tol(t, {1e-6, 1e-6}, {1e-12, 1e-12});
      check_cuda_vs_cpu("sum " + name, [d = dims](const V& v) { return sum(v[0], d); }, {x}, tl, tl);
      check_cuda_vs_cpu("mean keepdim " + name, [d = dims](const V& v) { return mean(v[0], d, true); }, {x}, tl, tl);
    }
}

TEST_CASE("int64 sums are exact on the GPU") {
  Tensor x = rnd({1000, 300}, 32, DType::Float64, -1e6, 1e6, false).to(DType::Int64);
  Tensor g = x.to(kGpu);
  CHECK_CLOSE_TO("sum all", sum(g), sum(x), kExact);
  CHECK_CLOSE_TO("sum rows", sum(g, {1}), sum(x, {1}), kExact);
  CHECK_CLOSE_TO("sum columns", sum(g, {0}), sum(x, {0}), kExact);
}

TEST_CASE("max and argmax match the CPU: first index on ties, NaN wins") {
  for (DType t : float_types()) {
    for (auto [shape, dim] : std::vector<std::pair<Shape, int64_t>>{
             {{6, 7}, 1}, {{6, 7}, 0}, {{3, 300, 5}, 1}, {{2, 5000}, 1}, {{3, 4, 1}, 2}, {{40, 3}, 0}}) {
      Tensor x = rnd(shape, 33, t);
      const std::string name = shape_str(shape) + " dim " + std::to_string(dim) + " " + dtype_name(t);
      check_cuda_vs_cpu("max " + name, [dim = dim](const V& v) { return max(v[0], {dim}); }, {x}, kExact, kExact);
      CHECK_CLOSE_TO("argmax " + name, argmax(x.to(kGpu), dim), argmax(x, dim), kExact);
    }
    // ties: values from a small set, so every row has repeats
    Tensor ties = rnd({64, 50}, 34, DType::Float64, 0, 4, false).to(DType::Int64).to(t);
    for (int64_t dim : {0, 1}) {
      CHECK_CLOSE_TO("argmax with ties", argmax(ties.to(kGpu), dim), argmax(ties, dim), kExact);
      check_cuda_vs_cpu("max with ties", [dim](const V& v) { return max(v[0], {dim}); }, {ties.detach().set_requires_grad(true)},
                        kExact, kExact);
    }
    // NaN wins, at its first position
    std::vector<double> vals(40, 1.0);
    vals[7] = std::nan("");
    vals[23] = std::nan("");
    vals[30] = 5.0;
    Tensor nanx = from_vector(vals, {2, 20}).to(t);
    for (int64_t dim : {0, 1}) {
      std::vector<int64_t> want = argmax(nanx, dim).tolist<int64_t>();
      CHECK(argmax(nanx.to(kGpu), dim).tolist<int64_t>() == want);
    }
  }
  // int64 max
  Tensor xi = rnd({30, 40}, 35, DType::Float64, -100, 100, false).to(DType::Int64);
  CHECK_CLOSE_TO("int64 max", max(xi.to(kGpu), {1}), max(xi, {1}), kExact);
}

// ---------------------------------------------------------------------------------------
// matmul and linear

static Tol mm_tol(DType t) { return testing::tol(t, {1e-5, 1e-4}, {1e-12, 1e-11}); }

TEST_CASE("matmul on the GPU: 2-D, transposed views, batched, broadcast, vectors") {
  struct Case {
    const char* name;
    Shape a, b;
    testing::Fn f;
  };
  const std::vector<Case> cases{
      {"2-D", {5, 7}, {7, 3}, [](const V& v) { return matmul(v[0], v[1]); }},
      {"a @ b^T (view)", {5, 7}, {3, 7}, [](const V& v) { return matmul(v[0], transpose(v[1], 0, 1)); }},
      {"a^T @ b (view)", {7, 5}, {7, 3}, [](const V& v) { return matmul(transpose(v[0], 0, 1), v[1]); }},
      {"a^T @ b^T (views)", {7, 5}, {3, 7}, [](const V& v) { return matmul(transpose(v[0], 0, 1), transpose(v[1], 0, 1)); }},
      {"batched", {4, 5, 7}, {4, 7, 3}, [](const V& v) { return matmul(v[0], v[1]); }},
      {"broadcast batch (stride 0)", {2, 1, 5, 7}, {3, 7, 4}, [](const V& v) { return matmul(v[0], v[1]); }},
      {"batched @ 2-D", {2, 3, 5, 7}, {7, 4}, [](const V& v) { return matmul(v[0], v[1]); }},
      {"attention scores q k^T", {2, 6, 3, 4}, {2, 6, 3, 4},
       [](const V& v) {
         Tensor q = permute(v[0], {0, 2, 1, 3}), k = permute(v[1], {0, 2, 1, 3});  // (B, H, T, D), strided
         return matmul(q, transpose(k, -1, -2));
       }},
      {"attention context p v (v's heads strided: a table of pointers)", {2, 3, 6, 6}, {2, 6, 3, 4},
       [](const V& v) { return matmul(v[0], permute(v[1], {0, 2, 1, 3})); }},
      {"strided heads times a broadcast matrix", {2, 6, 3, 4}, {4, 5},
       [](const V& v) { return matmul(permute(v[0], {0, 2, 1, 3}), v[1]); }},
      {"vector @ matrix", {7}, {7, 3}, [](const V& v) { return matmul(v[0], v[1]); }},
      {"matrix @ vector", {5, 7}, {7}, [](const V& v) { return matmul(v[0], v[1]); }},
      {"dot", {7}, {7}, [](const V& v) { return matmul(v[0], v[1]); }},
      {"BERT-sized 128x768 @ 768x64", {128, 768}, {768, 64}, [](const V& v) { return matmul(v[0], v[1]); }},
  };
  for (const Case& c : cases)
    for (DType t : float_types()) {
      Tensor a = rnd(c.a, 40, t), b = rnd(c.b, 41, t);
      Tol tl = mm_tol(t);
      if (c.a.back() == 768) tl = testing::tol(t, {1e-4, 1e-4}, {1e-11, 1e-10});
      check_cuda_vs_cpu(std::string(c.name) + " " + dtype_name(t), c.f, {a, b}, tl, tl);
    }
}

TEST_CASE("matmul with an empty inner dimension gives zeros on the GPU") {
  Tensor a = zeros({3, 0}, DType::Float32, kGpu), b = zeros({0, 4}, DType::Float32, kGpu);
  CHECK(matmul(a, b).tolist<float>() == std::vector<float>(12, 0.0f));
}

TEST_CASE("linear on the GPU with and without bias, 2-D and 3-D input") {
  for (DType t : float_types()) {
    Tensor x2 = rnd({6, 10}, 42, t), x3 = rnd({2, 5, 10}, 43, t), w = rnd({4, 10}, 44, t), b = rnd({4}, 45, t);
    check_cuda_vs_cpu(std::string("linear 2-D with bias ") + dtype_name(t),
                      [](const V& v) { return linear(v[0], v[1], v[2]); }, {x2, w, b}, mm_tol(t), mm_tol(t));
    check_cuda_vs_cpu(std::string("linear 3-D with bias ") + dtype_name(t),
                      [](const V& v) { return linear(v[0], v[1], v[2]); }, {x3, w, b}, mm_tol(t), mm_tol(t));
    check_cuda_vs_cpu(std::string("linear 3-D without bias ") + dtype_name(t),
                      [](const V& v) { return linear(v[0], v[1]); }, {x3, w}, mm_tol(t), mm_tol(t));
    check_cuda_vs_cpu(std::string("linear of a transposed input ") + dtype_name(t),
                      [](const V& v) { return linear(transpose(v[0], 0, 1), v[1]); }, {rnd({10, 6}, 46, t), w},
                      mm_tol(t), mm_tol(t));
  }
}
