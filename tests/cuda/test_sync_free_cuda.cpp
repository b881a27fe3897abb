// tests/cuda/test_sync_free_cuda.cpp — the parts of a training step that no longer make the
// host wait for the GPU (issue #6): deferred index checks (cuda/index.h: the ops do not wait
// for the check, the next wait throws the op's own message, and until then the kernels never
// read or write outside their tensors — compute-sanitizer's memcheck run of this binary
// checks that part) and gradient clipping with the norm left on the device. The default,
// immediate index checks are tested in test_nn_ops_cuda.cpp; cross-entropy's mean on the
// device by its CUDA-vs-CPU test there.
#include <cmath>

#include "cuda/index.h"
#include "ops/optim.h"
#include "tests/cuda/cuda_helpers.h"

using namespace bertlab;
using testing::kGpu;

namespace {

// Deferred checks on for one scope.
struct Deferred {
  Deferred() { cuda::set_deferred_index_checks(true); }
  ~Deferred() { cuda::set_deferred_index_checks(false); }
};

Tensor ids(std::vector<int64_t> v, Shape s) { return from_vector(v, s, kGpu); }

}  // namespace

TEST_CASE("deferred index checks: the op goes on, the next wait throws the op's message") {
  if (testing::kDryRun) return;  // the CPU checks at once
  CHECK_FALSE(cuda::deferred_index_checks());
  Deferred on;
  Tensor w = ones({10, 4}, DType::Float32, kGpu);
  Tensor y;
  CHECK_NOTHROW(y = embedding(w, ids({1, 2, 3, 12, 4, -1}, {2, 3})));
  CHECK_THROWS_WITH_AS(sum(y).item(), doctest::Contains("embedding: id 12 at position [1, 0]"), Error);
  // the failed check was consumed: the next ones are fine
  CHECK(sum(embedding(w, ids({1, 2}, {2}))).item() == 8.0);

  Tensor logits = zeros({3, 4}, DType::Float32, kGpu);
  Tensor loss;
  CHECK_NOTHROW(loss = cross_entropy(logits, ids({1, 4, -100}, {3})));
  CHECK_THROWS_WITH_AS(loss.item(), doctest::Contains("target 4"), Error);
  CHECK(cross_entropy(logits, ids({1, 3, -100}, {3})).item() == doctest::Approx(std::log(4.0)));

  CHECK_NOTHROW(index_select(w, 0, ids({0, 10}, {2})));
  CHECK_THROWS_WITH_AS(cuda::synchronize(), doctest::Contains("index_select: index 10"), Error);
  CHECK_NOTHROW(gather(w, 1, ids({0, 1, 2, 9, 0, 0, 0, 0}, {2, 4})));
  CHECK_THROWS_WITH_AS(cuda::synchronize(), doctest::Contains("gather: index 9"), Error);
}

TEST_CASE("deferred index checks: backward through bad indices touches nothing outside its tensors") {
  if (testing::kDryRun) return;
  Deferred on;
  Tensor w = testing::rnd({10, 4}, 1, DType::Float32).to(kGpu).set_requires_grad();
  sum(embedding(w, ids({1, 2, 11, -5, 1}, {5}))).backward();
  CHECK_THROWS_WITH_AS(cuda::synchronize(), doctest::Contains("id 11"), Error);
  Tensor x = testing::rnd({3, 5}, 2, DType::Float32).to(kGpu).set_requires_grad();
  sum(gather(x, 1, ids({0, 7, 1, 2, -1, 4}, {3, 2}))).backward();
  CHECK_THROWS_WITH_AS(cuda::synchronize(), doctest::Contains("gather: index 7"), Error);
  Tensor logits = testing::rnd({2, 6}, 3, DType::Float32).to(kGpu).set_requires_grad();
  cross_entropy(logits, ids({6, 1}, {2})).backward();
  CHECK_THROWS_WITH_AS(cuda::synchronize(), doctest::Contains("target 6"), Error);
}

TEST_CASE("deferred index checks: many checks between two waits, and the results equal the immediate mode's") {
  if (testing::kDryRun) return;
  Tensor w = testing::rnd({50, 8}, 4, DType::Float64, -1, 1, false).to(kGpu);
  Tensor i = ids({3, 1, 4, 1, 5, 9, 2, 6}, {2, 4});
  Tensor ref = embedding(w, i);
  Deferred on;
  Tensor acc = zeros({2, 4, 8}, DType::Float64, kGpu);
  for (int k = 0; k < 300; ++k) acc = add(acc, embedding(w, i));  // more checks than device slots
  CHECK_CLOSE_TO("300 lookups", acc, mul(ref, 300.0), (testing::Tol{1e-10, 1e-12}));
}

TEST_CASE("clipping by the global norm on the GPU scales like the CPU, without reading the norm") {
  // clip_by_global_norm_ is what nn::clip_grad_norm and nn::clip_grad_norm_tensor run
  for (double max_norm : {0.5, 1e9}) {  // clipped, and left alone
    CAPTURE(max_norm);
    std::vector<Tensor> cpu, gpu;
    for (int i = 0; i < 3; ++i) {
      Tensor g = testing::rnd({7 + i, 5}, 20 + (uint64_t)i, DType::Float32, -1, 1, false);
      cpu.push_back(g.clone());
      gpu.push_back(g.to(kGpu));
    }
    const double n_cpu = clip_by_global_norm_(cpu, max_norm).item();
    Tensor n_gpu = clip_by_global_norm_(gpu, max_norm);
    CHECK(n_gpu.device() == kGpu);
    CHECK(n_gpu.dtype() == DType::Float64);
    CHECK(n_gpu.item() == doctest::Approx(n_cpu).epsilon(1e-12));
    for (size_t i = 0; i < cpu.size(); ++i)  // the same float32 coefficient (or none), the same products
      CHECK_CLOSE_TO("clipped tensor", gpu[i], cpu[i], (testing::Tol{0, 1e-7}));
  }
  CHECK(global_norm_tensor({zeros({0}, DType::Float32, kGpu)}).item() == 0.0);
}
