// bench/bench_memory.cpp — the memory-bound ops against the machine's copy bandwidth.
//
// softmax, layer_norm, gelu and embedding read and write each element once or twice, so
// their speed limit is memory bandwidth, not arithmetic. BM_copy measures that limit in the
// same run (a large memcpy, bytes read + written); each op reports the bytes it must move
// per call as GB/s, so op GB/s / copy GB/s is the fraction of the bound reached.
// Shapes are BERT-base activations at batch 8 x 128: (8*128, 768), FFN (8*128, 3072), and
// attention probabilities (8*12*128, 128).
//
//   ./build/bench/bench_memory --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "autograd/openmp_env.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "autograd/graph.h"
#include "ops/ops.h"

using namespace bertlab;

namespace {

void set_bytes(benchmark::State& st, double bytes) {
  st.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_copy(benchmark::State& st) {
  const size_t n = 64ull << 20;  // 64 MiB, far beyond the caches
  std::vector<char> a(n, 1), b(n, 0);
  for (auto _ : st) {
    std::memcpy(b.data(), a.data(), n);
    benchmark::DoNotOptimize(b.data());
    benchmark::ClobberMemory();
  }
  set_bytes(st, 2.0 * n);  // read + write
}

void BM_softmax(benchmark::State& st) {
  NoGradGuard ng;
  Generator g(0);
  Tensor x = randn({8 * 12 * 128, 128}, g);
  {  // check before timing: rows sum to 1
    std::vector<float> y = softmax(x, -1).tolist<float>();
    double s = 0;
    for (int i = 0; i < 128; ++i) s += y[i];
    if (std::fabs(s - 1.0) > 1e-4) std::abort();
  }
  for (auto _ : st) {
    Tensor y = softmax(x, -1);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(st, 2.0 * x.numel() * 4);
}

void BM_layer_norm(benchmark::State& st) {
  NoGradGuard ng;
  Generator g(0);
  Tensor x = randn({8 * 128, 768}, g), w = ones({768}), b = zeros({768});
  {  // check: each row has mean 0
    std::vector<float> y = layer_norm(x, w, b, 1e-12).tolist<float>();
    double s = 0;
    for (int i = 0; i < 768; ++i) s += y[i];
    if (std::fabs(s) > 1e-3) std::abort();
  }
  for (auto _ : st) {
    Tensor y = layer_norm(x, w, b, 1e-12);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(st, 2.0 * x.numel() * 4);
}

void BM_gelu(benchmark::State& st) {
  NoGradGuard ng;
  Generator g(0);
  Tensor x = randn({8 * 128, 3072}, g);
  if (std::fabs(gelu(from_vector(std::vector<float>{1.0f}, {1})).item() - 0.8413447) > 1e-5) std::abort();
  for (auto _ : st) {
    Tensor y = gelu(x);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(st, 2.0 * x.numel() * 4);
}

void BM_embedding(benchmark::State& st) {
  NoGradGuard ng;
  Generator g(0);
  Tensor w = randn({30522, 768}, g), ids = randint({8, 128}, g, 0, 30522);
  {  // check: row 0 of the output is row ids[0] of the table
    Tensor y = embedding(w, ids);
    if (select(select(select(y, 0, 0), 0, 0), 0, 5).item() != select(select(w, 0, ids.tolist<int64_t>()[0]), 0, 5).item())
      std::abort();
  }
  for (auto _ : st) {
    Tensor y = embedding(w, ids);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(st, 2.0 * 8 * 128 * 768 * 4);  // rows read + output written
}

}  // namespace

BENCHMARK(BM_copy)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_softmax)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_layer_norm)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_gelu)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_embedding)->Unit(benchmark::kMicrosecond)->UseRealTime();
int main(int argc, char** argv) {
  bertlab::prefer_passive_openmp(argv);  // autograd/openmp_env.h
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
