// tests/cuda/test_cuda.cpp — the CUDA backend's runtime: device query, the caching allocator,
// host/device copies, strided copies and dtype conversion, Philox fills equal to the CPU's,
// gradient accumulation, and errors. Also this executable's main(): without a GPU (or in a
// build without CUDA) it prints "SKIP: no CUDA device" and exits 77, which meson reports as
// SKIP, before any test runs.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tests/cuda/cuda_helpers.h"

using namespace bertlab;
using testing::check_cuda_vs_cpu;
using testing::kGpu;
using testing::kExact;
using testing::rnd;
using testing::Tol;

int main(int argc, char** argv) {
  if (testing::kDryRun) {
    std::printf("DRY RUN: the CPU against itself (built with BERTLAB_TEST_DEVICE_CPU)\n");
  } else if (!cuda::available()) {
    std::string why;
    try {
      cuda::require("test_cuda");
    } catch (const Error& e) {
      why = e.what();
    }
    std::printf("SKIP: no CUDA device (%s)\n", why.c_str());
    return 77;
  } else {
    std::printf("CUDA device: %s\n", cuda::device_name().c_str());
  }
  doctest::Context ctx(argc, argv);
  const int res = ctx.run();
  try {
    cuda::synchronize();  // surface a fault still in flight
  } catch (const Error& e) {
    std::printf("after the tests: %s\n", e.what());
    return 1;
  }
  return res;
}

// Tests of the device itself have nothing to check in a dry run.
#define SKIP_IN_DRY_RUN()                                         \
  do {                                                            \
    if (testing::kDryRun) {                                       \
      MESSAGE("dry run on the CPU: nothing to check here");       \
      return;                                                     \
    }                                                             \
  } while (0)

static bool caching_disabled() {
  const char* env = std::getenv("BERTLAB_CUDA_NO_CACHE");
  return env && env[0] && env[0] != '0';
}

TEST_CASE("the backend reports a device with a name") {
  SKIP_IN_DRY_RUN();
  CHECK(cuda::built());
  CHECK(cuda::device_count() >= 1);
  CHECK(!cuda::device_name().empty());
  CHECK_NOTHROW(cuda::require("test"));
}

// ---------------------------------------------------------------------------------------
// the caching allocator

TEST_CASE("a freed block is reused by the next allocation of its size, without cudaMalloc") {
  SKIP_IN_DRY_RUN();
  if (caching_disabled()) {
    MESSAGE("BERTLAB_CUDA_NO_CACHE is set: caching is off, nothing to check");
    return;
  }
  void* p = cuda::malloc(1 << 20);
  cuda::free(p);
  const auto before = cuda::allocator_stats();
  void* q = cuda::malloc(1 << 20);
  const auto after = cuda::allocator_stats();
  CHECK(after.num_device_mallocs == before.num_device_mallocs);
  CHECK(q == p);
  CHECK(after.allocated >= before.allocated + (1 << 20));
  cuda::free(q);
  CHECK(cuda::allocator_stats().allocated == before.allocated);

  // the same through tensors: a training step's second iteration allocates nothing new
  { Tensor a = empty({256, 300}, DType::Float32, kGpu); }
  const size_t n = cuda::allocator_stats().num_device_mallocs;
  for (int i = 0; i < 5; ++i) {
    Tensor a = empty({256, 300}, DType::Float32, kGpu);
    Tensor b = empty({256, 300}, DType::Float32, kGpu);
    fill_(a, 1.0);
  }
  CHECK(cuda::allocator_stats().num_device_mallocs <= n + 1);  // b's block may be new once
}

TEST_CASE("allocator statistics add up and empty_cache returns cached blocks") {
  SKIP_IN_DRY_RUN();
  const auto s0 = cuda::allocator_stats();
  {
    Tensor a = zeros({1000, 1000}, DType::Float32, kGpu);
    const auto s1 = cuda::allocator_stats();
    CHECK(s1.allocated >= s0.allocated + 4000000);
    CHECK(s1.reserved >= s1.allocated);
    CHECK(s1.peak_allocated >= s1.allocated);
  }
  const auto s2 = cuda::allocator_stats();
  CHECK(s2.allocated == s0.allocated);
  cuda::empty_cache();
  const auto s3 = cuda::allocator_stats();
  CHECK(s3.reserved == s3.allocated);  // nothing cached any more
}

TEST_CASE("an allocation the device cannot hold fails with the size and the statistics") {
  SKIP_IN_DRY_RUN();
  const size_t huge = size_t(1) << 52;  // 4 PiB
  std::string msg;
  try {
    cuda::malloc(huge);
  } catch (const Error& e) {
    msg = e.what();
  }
  INFO(msg);
  CHECK(msg.find("out of device memory allocating 4503599627370496 bytes") != std::string::npos);
  CHECK(msg.find("reserved") != std::string::npos);
  // the device is still usable afterwards
  CHECK(full({3}, 2.0, DType::Float32, kGpu).tolist<float>() == std::vector<float>{2, 2, 2});
}

// ---------------------------------------------------------------------------------------
// copies

TEST_CASE("values survive host -> device -> host for every dtype") {
  std::vector<float> f{1.5f, -2.25f, 3.0f, 1e-30f, 1e30f};
  std::vector<double> d{1.5, -2.25, 3.0, 1e-300, 1e300};
  std::vector<int64_t> i{1, -2, 3, int64_t(1) << 40, -(int64_t(1) << 50)};
  CHECK(from_vector(f, {5}, kGpu).tolist<float>() == f);
  CHECK(from_vector(d, {5}, kGpu).tolist<double>() == d);
  CHECK(from_vector(i, {5}, kGpu).tolist<int64_t>() == i);
  CHECK(zeros({7}, DType::Float64, kGpu).tolist<double>() == std::vector<double>(7, 0.0));
  CHECK(ones({2, 2}, DType::Int64, kGpu).tolist<int64_t>() == std::vector<int64_t>(4, 1));
  Tensor s = scalar_tensor(2.5, DType::Float32, kGpu);
  CHECK(s.item() == 2.5);
  if (!testing::kDryRun) CHECK(s.str().find("device=cuda") != std::string::npos);
  CHECK(arange(5, DType::Int64, kGpu).tolist<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
}

TEST_CASE("contiguous() of strided CUDA views equals the CPU's, bit for bit") {
  for (DType t : {DType::Float32, DType::Float64, DType::Int64}) {
    Tensor x = rnd({3, 4, 5, 6}, 1, DType::Float64, -100, 100, false).to(t);
    Tensor g = x.to(kGpu);
    auto same = [&](const char* what, const Tensor& a, const Tensor& b) {
      INFO(what << " " << dtype_name(t));
      CHECK(a.is_contiguous());
      CHECK(a.device() == kGpu);
      CHECK_CLOSE_TO(what, a, b, kExact);
    };
    same("permute", permute(g, {3, 1, 0, 2}).contiguous(), permute(x, {3, 1, 0, 2}).contiguous());
    same("transpose", transpose(g, 1, 3).contiguous(), transpose(x, 1, 3).contiguous());
    same("narrow", narrow(g, 2, 1, 3).contiguous(), narrow(x, 2, 1, 3).contiguous());
    same("select", select(g, 1, 2).contiguous(), select(x, 1, 2).contiguous());
    same("expand (stride 0)", expand(narrow(g, 0, 0, 1), {4, 4, 5, 6}).contiguous(),
         expand(narrow(x, 0, 0, 1), {4, 4, 5, 6}).contiguous());
    same("narrow of a permute", narrow(permute(g, {2, 0, 3, 1}), 2, 2, 3).contiguous(),
         narrow(permute(x, {2, 0, 3, 1}), 2, 2, 3).contiguous());
  }
}

TEST_CASE("dtype conversion on the GPU equals the CPU's for every pair of dtypes") {
  const std::vector<DType> types{DType::Float32, DType::Float64, DType::Int64};
  Tensor base = rnd({4, 7}, 2, DType::Float64, -50, 50, false);
  for (DType from : types)
    for (DType to : types) {
      Tensor x = base.to(from);
      INFO(dtype_name(from) << " -> " << dtype_name(to));
      CHECK_CLOSE_TO("to(dtype)", x.to(kGpu).to(to), x.to(to), kExact);
      // converting a strided view converts and gathers in one kernel
      CHECK_CLOSE_TO("to(dtype) of a view", transpose(x.to(kGpu), 0, 1).to(to),
                     transpose(x, 0, 1).to(to), kExact);
    }
}

TEST_CASE("copy_ and fill_ write through strided CUDA views") {
  Tensor cpu = zeros({4, 6}, DType::Float64), gpu = zeros({4, 6}, DType::Float64, kGpu);
  Tensor src = rnd({2, 4}, 3, DType::Float64, -1, 1, false);
  auto view = [](const Tensor& t, int64_t col) { return transpose(narrow(t, 1, col, 2), 0, 1); };  // (2, 4), strided
  copy_(view(cpu, 1), src);
  copy_(view(gpu, 1), src);                   // host -> strided device view (staged through a dense copy)
  copy_(view(cpu, 3), src.to(DType::Float32));
  copy_(view(gpu, 3), src.to(kGpu).to(DType::Float32));  // device -> device, converting
  fill_(narrow(transpose(cpu, 0, 1), 0, 0, 1), 7.0);
  fill_(narrow(transpose(gpu, 0, 1), 0, 0, 1), 7.0);
  CHECK_CLOSE_TO("after copy_ and fill_", gpu, cpu, kExact);
  // device -> strided host view
  Tensor back = zeros({6, 4}, DType::Float64);
  copy_(transpose(back, 0, 1), gpu);
  CHECK_CLOSE_TO("device -> strided host", transpose(back, 0, 1), cpu, kExact);
  // clone keeps the device and the values
  Tensor c = gpu.clone();
  CHECK(c.device() == kGpu);
  CHECK(c.raw_data() != gpu.raw_data());
  CHECK_CLOSE_TO("clone", c, cpu, kExact);
}

// ---------------------------------------------------------------------------------------
// random numbers

TEST_CASE("Philox fills on the GPU draw the CPU's numbers") {
  const int64_t n = 100003;
  SUBCASE("uniform and integer draws are bit-identical") {
    for (DType t : {DType::Float32, DType::Float64}) {
      Generator gc(7), gg(7);
      gc.offset = gg.offset = 12345;
      Tensor a = rand({n}, gc, -2.0, 3.0, t), b = rand({n}, gg, -2.0, 3.0, t, kGpu);
      INFO(dtype_name(t));
      CHECK_CLOSE_TO("rand", b, a, kExact);
      CHECK(gc.offset == gg.offset);
    }
    Generator gc(8), gg(8);
    CHECK(randint({n}, gc, -5, 1000).tolist<int64_t>() == randint({n}, gg, -5, 1000, kGpu).tolist<int64_t>());
  }
  SUBCASE("float32 normals are bit-identical; float64 normals agree to a few ulp") {
    Generator gc(9), gg(9);
    Tensor a = randn({n}, gc, 0.5, 2.0, DType::Float32), b = randn({n}, gg, 0.5, 2.0, DType::Float32, kGpu);
    // log and cos differ in the last bit between glibc and CUDA; rounding to float hides that
    // unless a double lands within a few ulp of a float rounding boundary (~1 in 10^8 draws)
    CHECK_CLOSE_TO("randn float32", b, a, kExact);
    Generator hc(10), hg(10);
    Tensor c = randn({n}, hc, 0.0, 1.0, DType::Float64), d = randn({n}, hg, 0.0, 1.0, DType::Float64, kGpu);
    CHECK_CLOSE_TO("randn float64", d, c, (Tol{1e-15, 1e-14}));
    std::vector<double> cv = c.tolist<double>(), dv = d.tolist<double>();
    int64_t same = 0;
    for (int64_t i = 0; i < n; ++i) same += cv[i] == dv[i];
    MESSAGE("float64 normals bit-identical to the CPU's: " << same << " of " << n);
  }
  SUBCASE("a strided view is filled as its dense shape would be") {
    Generator gc(11), gg(11);
    Tensor cpu = zeros({5, 8}, DType::Float32), gpu = zeros({5, 8}, DType::Float32, kGpu);
    uniform_(transpose(narrow(cpu, 1, 2, 4), 0, 1), gc, 0.0, 1.0);
    uniform_(transpose(narrow(gpu, 1, 2, 4), 0, 1), gg, 0.0, 1.0);
    CHECK_CLOSE_TO("uniform_ of a view", gpu, cpu, kExact);
  }
}

// ---------------------------------------------------------------------------------------
// autograd on the GPU

TEST_CASE("gradients that meet at a tensor are summed on the GPU as on the CPU") {
  for (DType t : testing::float_types()) {
    Tensor x = rnd({3, 5}, 12, t);
    check_cuda_vs_cpu(std::string("x*x + 3x + x ") + dtype_name(t),
                      [](const std::vector<Tensor>& v) { return add(add(mul(v[0], v[0]), mul(v[0], 3.0)), v[0]); }, {x},
                      testing::tol(t, {1e-6, 1e-6}, {1e-14, 1e-14}), testing::tol(t, {1e-6, 1e-6}, {1e-14, 1e-14}));
  }
  // a second backward accumulates into the leaf's existing .grad
  Tensor c = rnd({4}, 13, DType::Float64), g = c.detach().to(kGpu).set_requires_grad(true);
  for (int i = 0; i < 2; ++i) {
    sum(mul(c, c)).backward();
    sum(mul(g, g)).backward();
  }
  CHECK(g.grad().device() == kGpu);
  CHECK_CLOSE_TO("accumulated .grad", g.grad(), c.grad(), (Tol{1e-15, 1e-15}));
}

// ---------------------------------------------------------------------------------------
// errors

TEST_CASE("mixing CPU and CUDA tensors fails naming both devices") {
  SKIP_IN_DRY_RUN();
  Tensor a = ones({2, 3}), b = ones({2, 3}, DType::Float32, Device::CUDA);
  CHECK_THROWS_WITH_AS(add(a, b), doctest::Contains("on cpu"), Error);
  CHECK_THROWS_WITH_AS(add(a, b), doctest::Contains("on cuda"), Error);
  CHECK_THROWS_WITH_AS(matmul(b, transpose(a, 0, 1)), doctest::Contains("different devices"), Error);
  CHECK_THROWS_WITH_AS(linear(a, b), doctest::Contains("cuda"), Error);
}

TEST_CASE("TF32 is off by default and can be switched on and off") {
  SKIP_IN_DRY_RUN();
  CHECK_FALSE(cuda::allow_tf32());
  cuda::set_allow_tf32(true);
  CHECK(cuda::allow_tf32());
  Tensor a = rnd({64, 64}, 14, DType::Float32, -1, 1, false), b = rnd({64, 64}, 15, DType::Float32, -1, 1, false);
  Tensor fast = matmul(a.to(kGpu), b.to(kGpu));
  cuda::set_allow_tf32(false);
  CHECK_FALSE(cuda::allow_tf32());
  // TF32 keeps 10 mantissa bits of each input: about 1e-3 relative per product
  CHECK_CLOSE_TO("tf32 matmul", fast, matmul(a, b), (Tol{5e-2, 1e-2}));
}
