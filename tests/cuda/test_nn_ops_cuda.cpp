// tests/cuda/test_nn_ops_cuda.cpp — the fused and indexing ops on the GPU against the CPU:
// softmax, log_softmax, layer_norm, cross_entropy, embedding, dropout, index_select, gather,
// where, masked_fill, the index check, AdamW and the global norm. Forward and backward,
// float32 and float64. Where the GPU kernel adds in the CPU's order (scatter-adds, dropout),
// the comparison is exact.
#include <algorithm>
#include <cmath>

#include "ops/optim.h"
#include "tests/cuda/cuda_helpers.h"

using namespace bertlab;
using testing::check_cuda_vs_cpu;
using testing::kGpu;
using testing::float_types;
using testing::kExact;
using testing::rnd;
using testing::Tol;
using testing::tol;

using V = std::vector<Tensor>;

static Tol row_tol(DType t) { return testing::tol(t, {1e-6, 1e-5}, {1e-14, 1e-12}); }

static Tensor ids_tensor(const Shape& shape, uint64_t seed, int64_t lo, int64_t hi) {
  Generator g(seed);
  return randint(shape, g, lo, hi);
}

TEST_CASE("softmax and log_softmax match the CPU for short rows (a warp each) and long rows (a block each)") {
  for (DType t : float_types())
    for (auto [shape, dim] : std::vector<std::pair<Shape, int64_t>>{
             {{4, 10}, -1}, {{3, 12, 128}, -1}, {{5, 1000}, -1}, {{3, 1500}, -1}, {{2, 40000}, -1}, {{6, 5, 7}, 1}, {{9, 4}, 0}}) {
      Tensor x = rnd(shape, 50, t, -8, 8);
      const std::string name = shape_str(shape) + " dim " + std::to_string(dim) + " " + dtype_name(t);
      check_cuda_vs_cpu("softmax " + name, [d = dim](const V& v) { return softmax(v[0], d); }, {x}, row_tol(t), row_tol(t));
      check_cuda_vs_cpu("log_softmax " + name, [d = dim](const V& v) { return log_softmax(v[0], d); }, {x}, row_tol(t),
                        row_tol(t));
    }
  // large logits do not overflow on the GPU either
  Tensor big = from_vector(std::vector<float>{1000, 1001, -1000}, {3}, kGpu);
  CHECK_CLOSE_TO("softmax of large logits", softmax(big), softmax(big.to(Device::CPU)), (Tol{1e-7, 1e-6}));
}

TEST_CASE("layer_norm matches the CPU with and without weight and bias, forward and backward") {
  for (DType t : float_types())
    for (const Shape& shape : std::vector<Shape>{{4, 8}, {2, 16, 768}, {3, 2000}, {300, 33}}) {
      const int64_t C = shape.back();
      Tensor x = rnd(shape, 51, t, -3, 3), w = rnd({C}, 52, t, 0.5, 1.5), b = rnd({C}, 53, t);
      const std::string name = shape_str(shape) + " " + dtype_name(t);
      const Tol tl = testing::tol(t, {1e-5, 1e-4}, {1e-12, 1e-10});
      check_cuda_vs_cpu("layer_norm " + name, [](const V& v) { return layer_norm(v[0], v[1], v[2], 1e-5); }, {x, w, b}, tl, tl);
      check_cuda_vs_cpu("layer_norm without parameters " + name,
                        [](const V& v) { return layer_norm(v[0], Tensor(), Tensor(), 1e-12); }, {x}, tl, tl);
      check_cuda_vs_cpu("layer_norm with weight only " + name,
                        [](const V& v) { return layer_norm(v[0], v[1], Tensor(), 1e-12); }, {x, w}, tl, tl);
    }
  // many rows: the dw/db sums are split into chunks of rows
  Tensor x = rnd({4096, 96}, 54, DType::Float64, -3, 3), w = rnd({96}, 55, DType::Float64), b = rnd({96}, 56, DType::Float64);
  check_cuda_vs_cpu("layer_norm 4096 rows", [](const V& v) { return layer_norm(v[0], v[1], v[2]); }, {x, w, b},
                    (Tol{1e-12, 1e-10}), (Tol{1e-11, 1e-10}));
}

TEST_CASE("cross_entropy matches the CPU with every reduction and ignored targets") {
  for (DType t : float_types())
    for (auto [N, C] : std::vector<std::pair<int64_t, int64_t>>{{6, 5}, {64, 1000}, {4, 30522}}) {
      Tensor logits = rnd({N, C}, 57, t, -6, 6);
      Tensor targets = ids_tensor({N}, 58, 0, C);
      {
        NoGradGuard ng;
        std::vector<int64_t> tv = targets.tolist<int64_t>();
        tv[1] = -100;  // one ignored target
        targets = from_vector(tv, {N});
      }
      const std::string name = std::to_string(N) + "x" + std::to_string(C) + " " + dtype_name(t);
      const Tol tl = testing::tol(t, {1e-5, 1e-5}, {1e-12, 1e-11});
      for (auto [rname, red] : std::vector<std::pair<const char*, Reduction>>{
               {"mean", Reduction::Mean}, {"sum", Reduction::Sum}, {"none", Reduction::None}})
        check_cuda_vs_cpu(std::string("cross_entropy ") + rname + " " + name,
                          [r = red](const V& v) { return cross_entropy(v[0], v[1], -100, r); }, {logits, targets}, tl, tl);
    }
  // (B, T, C) logits with (B, T) targets, every target ignored: 0 and a zero gradient
  Tensor logits = rnd({2, 3, 4}, 59, DType::Float32);
  Tensor none = full({2, 3}, -100.0, DType::Int64);
  check_cuda_vs_cpu("cross_entropy, every target ignored", [](const V& v) { return cross_entropy(v[0], v[1]); },
                    {logits, none}, kExact, kExact);
}

TEST_CASE("embedding forward and its scatter-add backward equal the CPU's bit for bit") {
  for (DType t : float_types()) {
    Tensor w = rnd({50, 24}, 60, t);
    Tensor ids = ids_tensor({4, 37}, 61, 0, 10);  // many repeats of few ids; ids >= 10 never occur
    check_cuda_vs_cpu(std::string("embedding ") + dtype_name(t), [](const V& v) { return embedding(v[0], v[1]); },
                      {w, ids}, kExact, kExact);
    check_cuda_vs_cpu(std::string("embedding with padding_idx ") + dtype_name(t),
                      [](const V& v) { return embedding(v[0], v[1], 3); }, {w, ids}, kExact, kExact);
    Tensor wide = rnd({1000, 768}, 62, t);
    Tensor many = ids_tensor({8, 128}, 63, 0, 1000);
    check_cuda_vs_cpu(std::string("embedding 1000x768, 1024 ids ") + dtype_name(t),
                      [](const V& v) { return embedding(v[0], v[1]); }, {wide, many}, kExact, kExact);
  }
}

// Ids repeated more than 64 times (BERT's token type ids: two values over the whole batch)
// are summed in pieces of 64 rows, chunk by chunk (cuda/index.cu): within rounding of the
// CPU's one long sum, not bit for bit. Runs of every length around the chunk size, and runs
// that span many chunks, with ids out of order and an outer dimension for index_select.
TEST_CASE("embedding and index_select backward with ids repeated hundreds of times match the CPU") {
  for (DType t : float_types()) {
    const Tol close = tol(t, {1e-5, 1e-5}, {1e-12, 1e-12});
    Tensor w = rnd({5, 96}, 64, t);
    Tensor two = ids_tensor({32, 128}, 65, 0, 2);  // token types: two runs of ~2048
    check_cuda_vs_cpu(std::string("embedding, two ids x 4096 ") + dtype_name(t),
                      [](const V& v) { return embedding(v[0], v[1]); }, {w, two}, kExact, close);
    // run lengths 1, 63, 64, 65, 127, 128, 129, 300 and 700, shuffled
    std::vector<int64_t> lens{1, 63, 64, 65, 127, 128, 129, 300, 700}, ids;
    for (int64_t v = 0; v < (int64_t)lens.size(); ++v)
      for (int64_t r = 0; r < lens[v]; ++r) ids.push_back(v);
    Generator g(66);
    std::vector<double> u = rand({(int64_t)ids.size()}, g, 0.0, 1.0, DType::Float64).tolist<double>();
    std::vector<size_t> order(ids.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return u[a] < u[b]; });
    std::vector<int64_t> shuffled;
    for (size_t i : order) shuffled.push_back(ids[i]);
    Tensor runs = from_vector(shuffled, {(int64_t)shuffled.size()});
    Tensor w2 = rnd({12, 40}, 67, t);
    check_cuda_vs_cpu(std::string("embedding, runs around the chunk size ") + dtype_name(t),
                      [](const V& v) { return embedding(v[0], v[1]); }, {w2, runs}, kExact, close);
    Tensor x = rnd({3, 12, 5}, 68, t);
    check_cuda_vs_cpu(std::string("index_select dim 1, long runs ") + dtype_name(t),
                      [](const V& v) { return index_select(v[0], 1, v[1]); }, {x, runs}, kExact, close);
  }
}

TEST_CASE("dropout on the GPU draws the CPU's mask, forward and backward") {
  for (DType t : float_types())
    for (double p : {0.1, 0.5, 0.9, 1.0}) {
      Tensor x = rnd({33, 65}, 64, t);
      check_cuda_vs_cpu(std::string("dropout p=") + std::to_string(p) + " " + dtype_name(t),
                        [p](const V& v) {
                          Generator g(77);
                          g.offset = 1000;
                          return dropout(v[0], p, true, g);
                        },
                        {x}, kExact, kExact);
      // a view starting 65 floats in: not 16-byte aligned, so no vector loads
      check_cuda_vs_cpu(std::string("dropout of an unaligned view p=") + std::to_string(p) + " " + dtype_name(t),
                        [p](const V& v) {
                          Generator g(78);
                          return dropout(narrow(v[0], 0, 1, 32), p, true, g);
                        },
                        {x}, kExact, kExact);
    }
}

TEST_CASE("index_select, gather, where and masked_fill match the CPU, forward and backward") {
  for (DType t : float_types()) {
    const std::string ts = dtype_name(t);
    Tensor x = rnd({5, 6, 7}, 65, t);
    Tensor idx = from_vector(std::vector<int64_t>{4, 0, 4, 2, 4, 1, 0}, {7});  // repeats
    for (int64_t dim : {0, 1, 2})  // every index is below 5, the smallest size
      check_cuda_vs_cpu("index_select dim " + std::to_string(dim) + " " + ts,
                        [dim](const V& v) { return index_select(v[0], dim, v[1]); }, {x, idx}, kExact, kExact);
    for (int64_t dim : {0, 1, 2}) {
      Shape is = {4, 5, 6};
      Tensor gi = ids_tensor(is, 66 + dim, 0, x.size(dim));
      check_cuda_vs_cpu("gather dim " + std::to_string(dim) + " " + ts,
                        [dim](const V& v) { return gather(v[0], dim, v[1]); }, {x, gi}, kExact, kExact);
    }
    Tensor a = rnd({3, 1, 5}, 70, t), b = rnd({4, 5}, 71, t);
    Tensor cond = gt(rnd({4, 1}, 72, DType::Float64, -1, 1, false), zeros({}, DType::Float64));
    check_cuda_vs_cpu("where with broadcasting " + ts, [](const V& v) { return where(v[2], v[0], v[1]); }, {a, b, cond},
                      kExact, kExact);
    Tensor mask = gt(rnd({1, 5}, 73, DType::Float32, -1, 1, false), zeros({}));
    check_cuda_vs_cpu("masked_fill " + ts, [](const V& v) { return masked_fill(v[0], v[1], -1e4); }, {b, mask}, kExact,
                      kExact);
  }
  // index_select and gather copy any dtype
  Tensor xi = rnd({4, 6}, 74, DType::Float64, -100, 100, false).to(DType::Int64);
  Tensor idx = from_vector(std::vector<int64_t>{3, 3, 0}, {3});
  CHECK_CLOSE_TO("index_select int64", index_select(xi.to(kGpu), 1, idx.to(kGpu)),
                 index_select(xi, 1, idx), kExact);
  Tensor gi = ids_tensor({4, 2}, 75, 0, 6);
  CHECK_CLOSE_TO("gather int64", gather(xi.to(kGpu), 1, gi.to(kGpu)), gather(xi, 1, gi), kExact);
}

TEST_CASE("an out-of-range index on the GPU is reported like on the CPU") {
  Tensor w = ones({10, 4}, DType::Float32, kGpu);
  Tensor ids = from_vector(std::vector<int64_t>{1, 2, 3, 12, 4, -1}, {2, 3}, kGpu);
  CHECK_THROWS_WITH_AS(embedding(w, ids), doctest::Contains("id 12 at position [1, 0]"), Error);
  Tensor ok = from_vector(std::vector<int64_t>{1, 2, -100}, {3}, kGpu);
  CHECK_NOTHROW(cross_entropy(zeros({3, 4}, DType::Float32, kGpu), ok));
  Tensor bad = from_vector(std::vector<int64_t>{1, 4, -100}, {3}, kGpu);
  CHECK_THROWS_WITH_AS(cross_entropy(zeros({3, 4}, DType::Float32, kGpu), bad), doctest::Contains("target 4"), Error);
}

TEST_CASE("AdamW steps and the global norm match the CPU") {
  for (DType t : float_types()) {
    Tensor p = rnd({1000}, 80, t, -1, 1, false), g = rnd({1000}, 81, t, -1, 1, false);
    Tensor m = zeros({1000}, t), v = zeros({1000}, t);
    Tensor gp = p.to(kGpu), gg = g.to(kGpu), gm = m.to(kGpu), gv = v.to(kGpu);
    for (int64_t step = 1; step <= 3; ++step) {
      adamw_step_(p, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 0.01, step);
      adamw_step_(gp, gg, gm, gv, 1e-3, 0.9, 0.999, 1e-8, 0.01, step);
    }
    INFO(dtype_name(t));
    const Tol tl = testing::tol(t, {1e-7, 1e-6}, {1e-15, 1e-13});
    CHECK_CLOSE_TO("p", gp, p, tl);
    CHECK_CLOSE_TO("m", gm, m, tl);
    CHECK_CLOSE_TO("v", gv, v, tl);
    // the same values on both devices: only the order of the double additions differs
    const double n_cpu = global_norm({p, g, m}), n_gpu = global_norm({p.to(kGpu), g.to(kGpu), m.to(kGpu)});
    CHECK(std::fabs(n_gpu - n_cpu) <= 1e-14 * n_cpu);
  }
  CHECK(global_norm({zeros({0}, DType::Float32, kGpu)}) == 0.0);
}
