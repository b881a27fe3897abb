// bench/bench_cuda_kernels.cu — the memory-bound CUDA kernels against the device's copy
// bandwidth, at BERT-base shapes for a batch of 32 x 128 tokens.
//
// softmax, LayerNorm, GELU, embedding, cross-entropy and AdamW do a few operations per element
// they read or write, so memory bandwidth bounds them. BM_copy measures that bound in the same
// run (cudaMemcpyAsync device to device, 256 MiB, bytes read + written); each kernel reports
// the bytes it must move per call (each input read once, each output written once: a lower
// bound on its real traffic) as GB/s, and of_copy = its GB/s / the copy's GB/s.
//
// The kernels are called through their launchers (cuda/*.h) on buffers allocated once, so
// the time is the kernel's, not the framework's; CUDA events on the backend's stream time
// each launch (Google Benchmark's manual time). Before timing, each kernel's result is
// compared with the CPU op on the same inputs (the CPU kernel or the CPU op's autograd
// backward); a mismatch skips that benchmark with the worst element in the error.
//
//   ninja -C build-gpu bench/bench_cuda_kernels && ./build-gpu/bench/bench_cuda_kernels --benchmark_min_time=0.1
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>

#include "autograd/graph.h"
#include "cuda/common.cuh"  // stream(), CUDA_CHECK: the events go on the backend's one stream
#include "cuda/cross_entropy.h"
#include "cuda/elementwise.h"
#include "cuda/embedding.h"
#include "cuda/layernorm.h"
#include "cuda/optim.h"
#include "cuda/softmax.h"
#include "ops/cpu/optim.h"
#include "ops/ops.h"

using namespace bertlab;
using bertlab::cuda::stream;

namespace {

constexpr Device kGpu = Device::CUDA;
constexpr DType kF32 = DType::Float32;

// BERT-base, batch 32 x 128
constexpr int64_t kTokens = 32 * 128, kHidden = 768, kFfn = 3072, kVocab = 30522, kHeads = 12, kSeq = 128;
constexpr int64_t kParams = 110'000'000;  // about bert-base's parameter count (AdamW over all of them)

double g_copy_gbs = 0;  // the device's copy bandwidth, measured in main()

// got (any device) against ref (CPU): |got - ref| <= atol + rtol |ref|. Empty when close,
// else the worst element.
std::string compare(const Tensor& got, const Tensor& ref, double atol, double rtol) {
  std::vector<float> g = got.to(Device::CPU).tolist<float>();
  std::vector<float> r = ref.to(Device::CPU).tolist<float>();
  if (g.size() != r.size()) return "size " + std::to_string(g.size()) + " vs " + std::to_string(r.size());
  double worst = 0;
  size_t at = 0;
  bool bad = false;
  for (size_t i = 0; i < g.size(); ++i) {
    const double d = std::fabs(g[i] - r[i]), lim = atol + rtol * std::fabs(r[i]);
    if (!(d <= lim)) {
      bad = true;
      if (!(d <= worst)) worst = d, at = i;
    }
  }
  if (!bad) return "";
  return "element " + std::to_string(at) + ": GPU " + std::to_string(g[at]) + ", CPU " + std::to_string(r[at]) +
         " (|diff| " + std::to_string(worst) + ")";
}

// Runs the check; on a mismatch marks the benchmark as failed and returns false.
bool verified(benchmark::State& st, const char* what, const std::string& mismatch) {
  if (mismatch.empty()) return true;
  st.SkipWithError((std::string(what) + " disagrees with the CPU op at " + mismatch).c_str());
  return false;
}

// Times launch() with a pair of CUDA events per iteration and reports bytes per call as GB/s.
void time_kernel(benchmark::State& st, const std::function<void()>& launch, double bytes) {
  launch();  // warm-up
  CUDA_CHECK(cudaStreamSynchronize(stream()));
  cudaEvent_t t0, t1;
  CUDA_CHECK(cudaEventCreate(&t0));
  CUDA_CHECK(cudaEventCreate(&t1));
  double total_s = 0;
  int64_t n = 0;
  for (auto _ : st) {
    CUDA_CHECK(cudaEventRecord(t0, stream()));
    launch();
    CUDA_CHECK(cudaEventRecord(t1, stream()));
    CUDA_CHECK(cudaEventSynchronize(t1));
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, t0, t1));
    st.SetIterationTime(ms * 1e-3);
    total_s += ms * 1e-3;
    ++n;
  }
  CUDA_CHECK(cudaEventDestroy(t0));
  CUDA_CHECK(cudaEventDestroy(t1));
  const double gbs = total_s > 0 ? bytes * (double)n / total_s * 1e-9 : 0.0;
  st.counters["GB/s"] = gbs;
  if (g_copy_gbs > 0) st.counters["of_copy"] = gbs / g_copy_gbs;
  st.counters["MB"] = bytes * 1e-6;
}

Tensor randn_gpu(const Shape& s, uint64_t seed, double std = 1.0) {
  Generator g(seed);
  return randn(s, g, 0.0, std, kF32, kGpu);
}

// ---------------------------------------------------------------------------------------
// the copy bound

double copy_gbs(int reps) {
  const size_t n = 256ull << 20;
  void* a = cuda::malloc(n);
  void* b = cuda::malloc(n);
  cuda::memset_zero(a, n);
  cudaEvent_t t0, t1;
  CUDA_CHECK(cudaEventCreate(&t0));
  CUDA_CHECK(cudaEventCreate(&t1));
  CUDA_CHECK(cudaMemcpyAsync(b, a, n, cudaMemcpyDeviceToDevice, stream()));  // warm-up
  CUDA_CHECK(cudaEventRecord(t0, stream()));
  for (int i = 0; i < reps; ++i) CUDA_CHECK(cudaMemcpyAsync(b, a, n, cudaMemcpyDeviceToDevice, stream()));
  CUDA_CHECK(cudaEventRecord(t1, stream()));
  CUDA_CHECK(cudaEventSynchronize(t1));
  float ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&ms, t0, t1));
  CUDA_CHECK(cudaEventDestroy(t0));
  CUDA_CHECK(cudaEventDestroy(t1));
  cuda::free(a);
  cuda::free(b);
  return 2.0 * (double)n * reps / (ms * 1e-3) * 1e-9;
}

void BM_copy(benchmark::State& st) {
  const size_t n = 256ull << 20;
  void* a = cuda::malloc(n);
  void* b = cuda::malloc(n);
  cuda::memset_zero(a, n);
  time_kernel(st, [&] { CUDA_CHECK(cudaMemcpyAsync(b, a, n, cudaMemcpyDeviceToDevice, stream())); }, 2.0 * (double)n);
  st.SetLabel("cudaMemcpyAsync d2d 256 MiB");
  cuda::free(a);
  cuda::free(b);
}

// ---------------------------------------------------------------------------------------
// softmax over the attention scores (32*12*128 rows of 128)

void BM_softmax_forward(benchmark::State& st) {
  const int64_t N = kTokens * kHeads, C = kSeq;
  Tensor x = randn_gpu({N, C}, 1, 3.0), y = empty({N, C}, kF32, kGpu);
  auto launch = [&] { cuda::softmax_forward(kF32, y.raw_data(), x.raw_data(), N, C, false); };
  launch();
  if (!verified(st, "softmax", compare(y, softmax(x.to(Device::CPU)), 1e-7, 1e-5))) return;
  time_kernel(st, launch, 2.0 * N * C * 4);
  st.SetLabel("(32*12*128, 128)");
}

void BM_softmax_backward(benchmark::State& st) {
  const int64_t N = kTokens * kHeads, C = kSeq;
  Tensor x = randn_gpu({N, C}, 2, 3.0), dy = randn_gpu({N, C}, 3), dx = empty({N, C}, kF32, kGpu);
  Tensor y = softmax(x);
  auto launch = [&] { cuda::softmax_backward(kF32, dx.raw_data(), dy.raw_data(), y.raw_data(), N, C, false); };
  launch();
  Tensor xc = x.to(Device::CPU).set_requires_grad();
  softmax(xc).backward(dy.to(Device::CPU));
  if (!verified(st, "softmax backward", compare(dx, xc.grad(), 1e-6, 1e-4))) return;
  time_kernel(st, launch, 3.0 * N * C * 4);
  st.SetLabel("(32*12*128, 128)");
}

// ---------------------------------------------------------------------------------------
// LayerNorm over the hidden states (4096, 768)

void BM_layernorm_forward(benchmark::State& st) {
  const int64_t N = kTokens, C = kHidden;
  Tensor x = randn_gpu({N, C}, 4), w = randn_gpu({C}, 5), b = randn_gpu({C}, 6);
  Tensor y = empty({N, C}, kF32, kGpu), mean = empty({N}, kF32, kGpu), rstd = empty({N}, kF32, kGpu);
  auto launch = [&] {
    cuda::layernorm_forward(kF32, y.raw_data(), mean.raw_data(), rstd.raw_data(), x.raw_data(), w.raw_data(),
                            b.raw_data(), N, C, 1e-12);
  };
  launch();
  Tensor ref = layer_norm(x.to(Device::CPU), w.to(Device::CPU), b.to(Device::CPU), 1e-12);
  if (!verified(st, "layer_norm", compare(y, ref, 1e-5, 1e-4))) return;
  time_kernel(st, launch, (2.0 * N * C + 2.0 * C + 2.0 * N) * 4);
  st.SetLabel("(4096, 768)");
}

void BM_layernorm_backward(benchmark::State& st) {
  const int64_t N = kTokens, C = kHidden;
  Tensor x = randn_gpu({N, C}, 7), w = randn_gpu({C}, 8), b = randn_gpu({C}, 9), dy = randn_gpu({N, C}, 10);
  Tensor y = empty({N, C}, kF32, kGpu), mean = empty({N}, kF32, kGpu), rstd = empty({N}, kF32, kGpu);
  Tensor dx = empty({N, C}, kF32, kGpu), dw = empty({C}, kF32, kGpu), db = empty({C}, kF32, kGpu);
  cuda::layernorm_forward(kF32, y.raw_data(), mean.raw_data(), rstd.raw_data(), x.raw_data(), w.raw_data(),
                          b.raw_data(), N, C, 1e-12);
  auto launch = [&] {
    cuda::layernorm_backward(kF32, dx.raw_data(), dw.raw_data(), db.raw_data(), dy.raw_data(), x.raw_data(),
                             w.raw_data(), mean.raw_data(), rstd.raw_data(), N, C);
  };
  launch();
  Tensor xc = x.to(Device::CPU).set_requires_grad(), wc = w.to(Device::CPU).set_requires_grad(),
         bc = b.to(Device::CPU).set_requires_grad();
  layer_norm(xc, wc, bc, 1e-12).backward(dy.to(Device::CPU));
  if (!verified(st, "layer_norm backward dx", compare(dx, xc.grad(), 1e-4, 1e-3))) return;
  if (!verified(st, "layer_norm backward dw", compare(dw, wc.grad(), 1e-3, 1e-3))) return;
  if (!verified(st, "layer_norm backward db", compare(db, bc.grad(), 1e-3, 1e-3))) return;
  time_kernel(st, launch, (3.0 * N * C + 3.0 * C + 2.0 * N) * 4);
  st.SetLabel("(4096, 768)");
}

// ---------------------------------------------------------------------------------------
// GELU over the FFN activations (4096, 3072)

void BM_gelu_forward(benchmark::State& st) {
  const int64_t n = kTokens * kFfn;
  Tensor x = randn_gpu({kTokens, kFfn}, 11, 2.0), y = empty({kTokens, kFfn}, kF32, kGpu);
  auto launch = [&] { cuda::unary(UnaryOp::GeluErf, kF32, n, x.raw_data(), y.raw_data(), 0.0); };
  launch();
  if (!verified(st, "gelu", compare(y, gelu(x.to(Device::CPU)), 1e-6, 1e-5))) return;
  time_kernel(st, launch, 2.0 * n * 4);
  st.SetLabel("(4096, 3072)");
}

void BM_gelu_backward(benchmark::State& st) {
  const int64_t n = kTokens * kFfn;
  Tensor x = randn_gpu({kTokens, kFfn}, 12, 2.0), dy = randn_gpu({kTokens, kFfn}, 13);
  Tensor dx = empty({kTokens, kFfn}, kF32, kGpu);
  auto launch = [&] {
    cuda::unary_backward(UnaryBackOp::GeluErfBack, kF32, n, dy.raw_data(), x.raw_data(), dx.raw_data(), 0.0);
  };
  launch();
  Tensor xc = x.to(Device::CPU).set_requires_grad();
  gelu(xc).backward(dy.to(Device::CPU));
  if (!verified(st, "gelu backward", compare(dx, xc.grad(), 1e-6, 1e-5))) return;
  time_kernel(st, launch, 3.0 * n * 4);
  st.SetLabel("(4096, 3072)");
}

// ---------------------------------------------------------------------------------------
// the word embedding (30522, 768) looked up by 4096 ids

void BM_embedding_forward(benchmark::State& st) {
  const int64_t n = kTokens, V = kVocab, C = kHidden;
  Generator g(14);
  Tensor w = randn_gpu({V, C}, 15), ids = randint({n}, g, 0, V, kGpu), out = empty({n, C}, kF32, kGpu);
  auto launch = [&] { cuda::embedding_forward(kF32, out.raw_data(), ids.data<int64_t>(), w.raw_data(), n, V, C); };
  launch();
  if (!verified(st, "embedding", compare(out, embedding(w.to(Device::CPU), ids.to(Device::CPU)), 0, 0))) return;
  time_kernel(st, launch, 2.0 * n * C * 4 + n * 8.0);
  st.SetLabel("30522x768, 4096 ids");
}

void BM_embedding_backward(benchmark::State& st) {
  const int64_t n = kTokens, V = kVocab, C = kHidden;
  Generator g(16);
  Tensor ids = randint({n}, g, 0, 2000, kGpu);  // frequent ids repeat, as words do
  Tensor dout = randn_gpu({n, C}, 17), dw = empty({V, C}, kF32, kGpu);
  auto launch = [&] { cuda::embedding_backward(kF32, dw.raw_data(), ids.data<int64_t>(), dout.raw_data(), n, V, C); };
  launch();
  Tensor wc = zeros({V, C}, kF32).set_requires_grad();
  embedding(wc, ids.to(Device::CPU)).backward(dout.to(Device::CPU));
  if (!verified(st, "embedding backward", compare(dw, wc.grad(), 0, 0))) return;
  // the whole (V,C) gradient is written (zeros where no id occurs), dout read once
  time_kernel(st, launch, (double)V * C * 4 + (double)n * C * 4 + n * 8.0);
  st.SetLabel("30522x768, 4096 ids (the dense dweight write dominates)");
}

// ---------------------------------------------------------------------------------------
// cross-entropy over the MLM logits (4096, 30522), 15% of targets kept

Tensor mlm_targets(int64_t n, int64_t V, uint64_t seed) {
  Generator g(seed);
  std::vector<int64_t> t = randint({n}, g, 0, V).tolist<int64_t>();
  for (int64_t i = 0; i < n; ++i)
    if (i % 7 != 0) t[i] = -100;  // most positions are not predicted
  return from_vector(t, {n});
}

void BM_cross_entropy_forward(benchmark::State& st) {
  const int64_t N = kTokens, C = kVocab;
  Tensor logits = randn_gpu({N, C}, 18, 2.0), targets = mlm_targets(N, C, 19).to(kGpu);
  Tensor losses = empty({N}, kF32, kGpu), lse = empty({N}, kF32, kGpu);
  auto launch = [&] {
    cuda::cross_entropy_forward(kF32, losses.raw_data(), lse.raw_data(), logits.raw_data(), targets.data<int64_t>(),
                                N, C, -100);
  };
  launch();
  Tensor ref = cross_entropy(logits.to(Device::CPU), targets.to(Device::CPU), -100, Reduction::None);
  if (!verified(st, "cross_entropy", compare(losses, ref, 1e-5, 1e-5))) return;
  time_kernel(st, launch, (double)N * C * 4 + N * 16.0);
  st.SetLabel("(4096, 30522)");
}

void BM_cross_entropy_backward(benchmark::State& st) {
  const int64_t N = kTokens, C = kVocab;
  Tensor logits = randn_gpu({N, C}, 20, 2.0), targets = mlm_targets(N, C, 21).to(kGpu);
  Tensor losses = empty({N}, kF32, kGpu), lse = empty({N}, kF32, kGpu), dl = randn_gpu({N}, 22);
  Tensor dlogits = empty({N, C}, kF32, kGpu);
  cuda::cross_entropy_forward(kF32, losses.raw_data(), lse.raw_data(), logits.raw_data(), targets.data<int64_t>(), N,
                              C, -100);
  auto launch = [&] {
    cuda::cross_entropy_backward(kF32, dlogits.raw_data(), dl.raw_data(), logits.raw_data(), lse.raw_data(),
                                 targets.data<int64_t>(), N, C, -100);
  };
  launch();
  Tensor lc = logits.to(Device::CPU).set_requires_grad();
  cross_entropy(lc, targets.to(Device::CPU), -100, Reduction::None).backward(dl.to(Device::CPU));
  if (!verified(st, "cross_entropy backward", compare(dlogits, lc.grad(), 1e-6, 1e-4))) return;
  time_kernel(st, launch, 2.0 * N * C * 4 + N * 16.0);
  st.SetLabel("(4096, 30522)");
}

// ---------------------------------------------------------------------------------------
// AdamW over bert-base's parameters (one flat buffer: the optimizer runs this kernel once per
// parameter tensor, about 200 launches over the same bytes)

void BM_adamw(benchmark::State& st) {
  // the check on 1M elements against the CPU kernel, three steps
  {
    const int64_t n = 1 << 20;
    Tensor p = randn_gpu({n}, 23), g = randn_gpu({n}, 24), m = zeros({n}, kF32, kGpu), v = zeros({n}, kF32, kGpu);
    Tensor pc = p.to(Device::CPU), gc = g.to(Device::CPU), mc = zeros({n}), vc = zeros({n});
    for (int64_t step = 1; step <= 3; ++step) {
      const double bc1 = 1 - std::pow(0.9, (double)step), bc2 = 1 - std::pow(0.999, (double)step);
      cuda::adamw_step(kF32, n, p.raw_data(), g.raw_data(), m.raw_data(), v.raw_data(), 1e-3, 0.9, 0.999, 1e-8, 0.01,
                       bc1, bc2);
      cpu::adamw_step(kF32, n, pc.raw_data(), gc.raw_data(), mc.raw_data(), vc.raw_data(), 1e-3, 0.9, 0.999, 1e-8,
                      0.01, bc1, bc2);
    }
    if (!verified(st, "adamw", compare(p, pc, 1e-7, 1e-6))) return;
  }
  const int64_t n = kParams;
  Tensor p = zeros({n}, kF32, kGpu), g = zeros({n}, kF32, kGpu), m = zeros({n}, kF32, kGpu), v = zeros({n}, kF32, kGpu);
  auto launch = [&] {
    cuda::adamw_step(kF32, n, p.raw_data(), g.raw_data(), m.raw_data(), v.raw_data(), 1e-4, 0.9, 0.999, 1e-8, 0.01,
                     0.5, 0.5);
  };
  time_kernel(st, launch, 7.0 * n * 4);  // p, g, m, v read; p, m, v written
  st.SetLabel("110M parameters");
}

}  // namespace

BENCHMARK(BM_copy)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_softmax_forward)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_softmax_backward)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_layernorm_forward)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_layernorm_backward)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_gelu_forward)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_gelu_backward)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_embedding_forward)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_embedding_backward)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_cross_entropy_forward)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_cross_entropy_backward)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_adamw)->UseManualTime()->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  if (!cuda::available()) {
    std::printf("SKIP: no CUDA device\n");
    return 77;
  }
  g_copy_gbs = copy_gbs(20);
  std::printf("device: %s; copy bandwidth (cudaMemcpyAsync d2d, read + write): %.0f GB/s\n",
              cuda::device_name().c_str(), g_copy_gbs);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
