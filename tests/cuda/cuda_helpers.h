// tests/cuda/cuda_helpers.h — the one harness the CUDA tests share: run a computation on the
// CPU and on the GPU from the same inputs, backward from the same output weights, and compare
// the outputs and every input gradient (ggml's test-backend-ops idea: the CPU is the
// reference). Tolerance |got - ref| <= atol + rtol |ref|; a failure names the worst element.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "cuda/cuda.h"
#include "cuda/gemm.h"
#include "ops/ops.h"
#include "tests/gradcheck.h"

namespace bertlab::testing {

// The device under test. Compiled with -DBERTLAB_TEST_DEVICE_CPU, every test instead runs the
// CPU against itself: a dry run of the tests' own logic (shapes, tolerances, setup) on a
// machine without a GPU. Tests of the device itself (allocator, device mixing) are skipped then.
#ifdef BERTLAB_TEST_DEVICE_CPU
constexpr Device kGpu = Device::CPU;
constexpr bool kDryRun = true;
#else
constexpr Device kGpu = Device::CUDA;
constexpr bool kDryRun = false;
#endif

struct Tol {
  double atol = 0, rtol = 0;
};
constexpr Tol kExact{0, 0};

// Picks the tolerance for the dtype under test.
inline Tol tol(DType t, Tol f32, Tol f64) { return t == DType::Float32 ? f32 : f64; }

// A CPU leaf of dtype t with values uniform in [lo, hi), requiring grad when asked.
inline Tensor rnd(const Shape& shape, uint64_t seed, DType t, double lo = -1.0, double hi = 1.0,
                  bool requires_grad = true) {
  Generator g(seed);
  Tensor x = rand(shape, g, lo, hi, t);
  if (requires_grad && is_floating(t)) x.set_requires_grad(true);
  return x;
}

// got (any device) against ref within tol; `what` says which tensor is compared.
#define CHECK_CLOSE_TO(what, got, ref, tl)                                                   \
  do {                                                                                       \
    auto close_ = ::bertlab::testing::allclose(got, ref, (tl).atol, (tl).rtol);              \
    INFO((what) << ": " << close_.message);                                                  \
    CHECK(close_.ok);                                                                        \
  } while (0)

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Runs f on `cpu_inputs` and on copies of them moved to the GPU (leaves that require grad
// where the CPU ones do). Checks: the GPU output is on the GPU and matches the CPU output
// within `fwd`; then, when the output requires grad, both run backward from the same random
// weighting of the output, and every input's gradient matches within `bwd`.
inline void check_cuda_vs_cpu(const std::string& what, const Fn& f, const std::vector<Tensor>& cpu_inputs, Tol fwd,
                              Tol bwd) {
  std::vector<Tensor> cpu, gpu;
  for (const Tensor& x : cpu_inputs) {
    Tensor c = x.detach();
    if (x.requires_grad()) c.set_requires_grad(true);
    Tensor d = x.detach().to(kGpu);
    if (x.requires_grad()) d.set_requires_grad(true);
    cpu.push_back(c);
    gpu.push_back(d);
  }
  Tensor y_cpu = f(cpu), y_gpu = f(gpu);
  INFO("case: " << what);
  REQUIRE(y_gpu.device() == kGpu);
  CHECK_CLOSE_TO("forward", y_gpu, y_cpu, fwd);
  if (!y_cpu.requires_grad()) return;
  REQUIRE(y_gpu.requires_grad());
  Generator g(4242);
  Tensor w = rand(y_cpu.shape(), g, 0.5, 1.5, y_cpu.dtype());
  y_cpu.backward(w);
  y_gpu.backward(w.to(kGpu));
  for (size_t k = 0; k < cpu.size(); ++k) {
    if (!cpu[k].requires_grad()) continue;
    INFO("gradient of input " << k << " " << shape_str(cpu[k].shape()));
    REQUIRE(cpu[k].grad().defined() == gpu[k].grad().defined());
    if (!cpu[k].grad().defined()) continue;
    CHECK(gpu[k].grad().device() == kGpu);
    CHECK_CLOSE_TO("backward", gpu[k].grad(), cpu[k].grad(), bwd);
  }
}

// Both floating dtypes, for loops over them.
inline const std::vector<DType>& float_types() {
  static const std::vector<DType> t{DType::Float32, DType::Float64};
  return t;
}

}  // namespace bertlab::testing
