// bench/bench_matmul.cpp — bertlab matmul against a direct cblas_sgemm at BERT-base shapes.
//
// Each pair runs the same product through the framework (Tensor in, new Tensor out:
// shape checks, allocation, layout analysis, dispatch) and straight through OpenBLAS on
// preallocated buffers, and reports GFLOP/s. The framework's overhead is the ratio of the
// two; the goal is 5% or less. Results are checked against each other before timing.
//
// BM_cblas_sgemm_new_output is the raw call into a new output buffer each time (what any
// tensor-returning API pays); the machine is noisy, so interleave the repetitions:
//   ninja -C build bench/bench_matmul && ./build/bench/bench_matmul --benchmark_repetitions=10 \
//     --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "autograd/openmp_env.h"
#include <cblas.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "autograd/autocast.h"
#include "ops/cpu/gemm_bf16.h"
#include "ops/cpu/gemm_packed.h"
#include "ops/ops.h"

using namespace bertlab;

namespace {

struct Shape3 {
  int64_t batch, M, N, K;
};
// BERT-base: attention projections (128x768 @ 768x768), FFN up (128x768 @ 768x3072),
// FFN down (128x3072 @ 3072x768), and per-head scores q k^T (12 x 128x64 @ 64x128).
const Shape3 kShapes[] = {{1, 128, 768, 768}, {1, 128, 3072, 768}, {1, 128, 768, 3072}, {12, 128, 128, 64}};

void check_close(const Tensor& got, const std::vector<float>& ref, const char* what) {
  std::vector<float> g = got.tolist<float>();
  for (size_t i = 0; i < g.size(); ++i)
    if (std::fabs(g[i] - ref[i]) > 1e-3f * (1.0f + std::fabs(ref[i]))) {
      std::fprintf(stderr, "%s: mismatch at %zu: %g vs %g\n", what, i, g[i], ref[i]);
      std::abort();
    }
}

void set_counters(benchmark::State& st, const Shape3& s) {
  double flops = 2.0 * s.batch * s.M * s.N * s.K;
  st.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(std::to_string(s.batch) + "x" + std::to_string(s.M) + "x" + std::to_string(s.N) + "x" + std::to_string(s.K));
}

void BM_cblas_sgemm(benchmark::State& st) {
  const Shape3 s = kShapes[st.range(0)];
  Generator g(1);
  Tensor a = randn({s.batch, s.M, s.K}, g), b = randn({s.batch, s.K, s.N}, g), c = zeros({s.batch, s.M, s.N});
  for (auto _ : st) {
    for (int64_t z = 0; z < s.batch; ++z)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.M, s.N, s.K, 1.0f, a.data<float>() + z * s.M * s.K, s.K,
                  b.data<float>() + z * s.K * s.N, s.N, 0.0f, c.data<float>() + z * s.M * s.N, s.N);
    benchmark::DoNotOptimize(c.data<float>());
    benchmark::ClobberMemory();
  }
  set_counters(st, s);
}

// The same raw call, but into a freshly allocated output each time, as any API that returns
// a new tensor must: separates the cost of allocating (and first writing) the output from
// the framework's own overhead.
void BM_cblas_sgemm_new_output(benchmark::State& st) {
  const Shape3 s = kShapes[st.range(0)];
  Generator g(1);
  Tensor a = randn({s.batch, s.M, s.K}, g), b = randn({s.batch, s.K, s.N}, g);
  for (auto _ : st) {
    Tensor c = empty({s.batch, s.M, s.N});
    for (int64_t z = 0; z < s.batch; ++z)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.M, s.N, s.K, 1.0f, a.data<float>() + z * s.M * s.K, s.K,
                  b.data<float>() + z * s.K * s.N, s.N, 0.0f, c.data<float>() + z * s.M * s.N, s.N);
    benchmark::DoNotOptimize(c.raw_data());
    benchmark::ClobberMemory();
  }
  set_counters(st, s);
}

void BM_bertlab_matmul(benchmark::State& st) {
  const Shape3 s = kShapes[st.range(0)];
  Generator g(1);
  Tensor a = randn({s.batch, s.M, s.K}, g), b = randn({s.batch, s.K, s.N}, g);
  if (s.batch == 1) {
    a = reshape(a, {s.M, s.K});
    b = reshape(b, {s.K, s.N});
  }
  {  // check against OpenBLAS before timing
    std::vector<float> ref(s.batch * s.M * s.N);
    for (int64_t z = 0; z < s.batch; ++z)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.M, s.N, s.K, 1.0f, a.data<float>() + z * s.M * s.K, s.K,
                  b.data<float>() + z * s.K * s.N, s.N, 0.0f, ref.data() + z * s.M * s.N, s.N);
    check_close(matmul(a, b), ref, "matmul");
  }
  for (auto _ : st) {
    Tensor c = matmul(a, b);
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_counters(st, s);
}

// The attention product as BERT computes it: q (B,H,T,D) @ k^T, with k a transposed view.
void BM_bertlab_matmul_transposed_view(benchmark::State& st) {
  const Shape3 s = kShapes[3];
  Generator g(1);
  Tensor q = randn({1, s.batch, s.M, s.K}, g), k = randn({1, s.batch, s.N, s.K}, g);
  for (auto _ : st) {
    Tensor c = matmul(q, transpose(k, -1, -2));
    benchmark::DoNotOptimize(c.raw_data());
  }
  set_counters(st, s);
}

void BM_bertlab_linear(benchmark::State& st) {
  const Shape3 s = kShapes[st.range(0)];
  Generator g(1);
  Tensor x = randn({s.M, s.K}, g), w = randn({s.N, s.K}, g), bias = randn({s.N}, g);
  for (auto _ : st) {
    Tensor y = linear(x, w, bias);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_counters(st, s);
}

}  // namespace

// The bf16 GEMM (ops/cpu/gemm_bf16.h, the kernel BERTLAB_BF16_GEMM picks) on bfloat16
// operands already in memory, float32 output, at the same shapes: against BM_cblas_sgemm.
void BM_gemm_bf16(benchmark::State& st) {
  const Shape3 s = kShapes[st.range(0)];
  Generator g(1);
  Tensor a = randn({s.batch, s.M, s.K}, g).to(DType::BFloat16), b = randn({s.batch, s.K, s.N}, g).to(DType::BFloat16);
  Tensor c = zeros({s.batch, s.M, s.N});
  for (auto _ : st) {
    cpu::gemm_bf16(false, false, s.M, s.N, s.K, 1.0, a.data<bertlab::bfloat16>(), s.K, s.M * s.K, b.data<bertlab::bfloat16>(), s.N,
                   s.K * s.N, 0.0, c.data<float>(), s.N, s.M * s.N, s.batch);
    benchmark::DoNotOptimize(c.data<float>());
    benchmark::ClobberMemory();
  }
  set_counters(st, s);
  st.SetLabel(std::string("bf16 kernel ") + cpu::bf16_gemm_name(cpu::bf16_gemm_kernel()) + ", " +
              std::to_string(s.batch) + "x" + std::to_string(s.M) + "x" + std::to_string(s.N) + "x" + std::to_string(s.K));
}

// linear under bfloat16 autocast (float32 input rounded per call, weight cached): against
// BM_bertlab_linear in float32.
void BM_bertlab_linear_bf16(benchmark::State& st) {
  const Shape3 s = kShapes[st.range(0)];
  Generator g(1);
  Tensor x = randn({s.M, s.K}, g), w = randn({s.N, s.K}, g), bias = randn({s.N}, g);
  AutocastGuard ac(DType::BFloat16);
  for (auto _ : st) {
    Tensor y = linear(x, w, bias);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_counters(st, s);
}

// The AMX peak of this machine (gemm_bf16.h: tile multiplies on registers only, every thread),
// measured once; the bf16 GEMMs below report their share of it.
double amx_peak() {
  static const double p = cpu::amx_peak_gflops(0.3);
  return p;
}
void BM_amx_peak(benchmark::State& st) {
  if (!cpu::bf16_gemm_available(cpu::Bf16Gemm::Amx)) {
    st.SkipWithError("no AMX-BF16 on this CPU");
    return;
  }
  double g = 0;
  for (auto _ : st) g = cpu::amx_peak_gflops(0.2);
  st.counters["GFLOP/s"] = g;
}

// linear's bf16 forward product as autocast runs it: float32 x (rounded as packed) times the
// weight packed once (pack_b_bf16, outside the loop), at BERT shapes and the issue's
// 4096 x 768 x 3072 (M x N x K: the FFN down-projection of 32 sequences of 128 tokens) and its
// transpose 4096 x 3072 x 768. Needs the amx or avx512_bf16 kernel.
const Shape3 kLinearShapes[] = {{1, 128, 768, 768},   {1, 128, 3072, 768},  {1, 128, 768, 3072},
                                {1, 1024, 3072, 768}, {1, 4096, 768, 3072}, {1, 4096, 3072, 768}};
void BM_bf16_packed_xWt(benchmark::State& st) {
  const Shape3 s = kLinearShapes[st.range(0)];
  if (cpu::bf16_gemm_kernel() == cpu::Bf16Gemm::Fp32) {
    st.SkipWithError("the bf16 kernel in use is fp32");
    return;
  }
  Generator g(1);
  Tensor x = randn({s.M, s.K}, g), w = randn({s.N, s.K}, g), c = zeros({s.M, s.N});
  Tensor packed = cpu::pack_b_bf16(w.data<float>(), true, s.K, s.N, s.K);
  const cpu::Bf16Operand a{x.data<float>(), false, false, s.K};
  for (auto _ : st) {
    cpu::gemm_bf16_packed(s.M, s.N, s.K, 1.0, a, packed, 0.0, c.data<float>(), s.N);
    benchmark::DoNotOptimize(c.data<float>());
    benchmark::ClobberMemory();
  }
  set_counters(st, s);
  if (cpu::bf16_gemm_available(cpu::Bf16Gemm::Amx)) {
    const double flops = 2.0 * s.M * s.N * s.K;
    st.counters["share_of_amx_peak"] =
        benchmark::Counter(flops * 1e-9 / amx_peak(), benchmark::Counter::kIsIterationInvariantRate);
  }
  st.SetLabel(std::string("bf16 kernel ") + cpu::bf16_gemm_name(cpu::bf16_gemm_kernel()) + ", " + std::to_string(s.M) +
              "x" + std::to_string(s.N) + "x" + std::to_string(s.K));
}
// The same product with x already in bfloat16 (row-major), as torch.matmul takes it in bf16: the
// AMX kernel reads x's tiles in place (K a multiple of 32), so this is the GEMM alone.
void BM_bf16_packed_xWt_bf16_x(benchmark::State& st) {
  const Shape3 s = kLinearShapes[st.range(0)];
  if (cpu::bf16_gemm_kernel() == cpu::Bf16Gemm::Fp32) {
    st.SkipWithError("the bf16 kernel in use is fp32");
    return;
  }
  Generator g(1);
  Tensor x = randn({s.M, s.K}, g).to(DType::BFloat16), w = randn({s.N, s.K}, g), c = zeros({s.M, s.N});
  Tensor packed = cpu::pack_b_bf16(w.data<float>(), true, s.K, s.N, s.K);
  const cpu::Bf16Operand a{x.data<bertlab::bfloat16>(), true, false, s.K};  // (cblas.h has its own bfloat16)
  for (auto _ : st) {
    cpu::gemm_bf16_packed(s.M, s.N, s.K, 1.0, a, packed, 0.0, c.data<float>(), s.N);
    benchmark::DoNotOptimize(c.data<float>());
    benchmark::ClobberMemory();
  }
  set_counters(st, s);
  if (cpu::bf16_gemm_available(cpu::Bf16Gemm::Amx)) {
    const double flops = 2.0 * s.M * s.N * s.K;
    st.counters["share_of_amx_peak"] =
        benchmark::Counter(flops * 1e-9 / amx_peak(), benchmark::Counter::kIsIterationInvariantRate);
  }
  st.SetLabel(std::string("bf16 kernel ") + cpu::bf16_gemm_name(cpu::bf16_gemm_kernel()) + ", " + std::to_string(s.M) +
              "x" + std::to_string(s.N) + "x" + std::to_string(s.K) + ", x in bf16");
}
// The same products in float32 through OpenBLAS (x W^T), for the ratio.
void BM_sgemm_xWt_large(benchmark::State& st) {
  const Shape3 s = kLinearShapes[st.range(0)];
  Generator g(1);
  Tensor x = randn({s.M, s.K}, g), w = randn({s.N, s.K}, g), c = zeros({s.M, s.N});
  for (auto _ : st) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.M, s.N, s.K, 1.0f, x.data<float>(), s.K, w.data<float>(),
                s.K, 0.0f, c.data<float>(), s.N);
    benchmark::DoNotOptimize(c.data<float>());
    benchmark::ClobberMemory();
  }
  set_counters(st, s);
}
BENCHMARK(BM_amx_peak)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_bf16_packed_xWt)->DenseRange(0, 5)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_bf16_packed_xWt_bf16_x)->DenseRange(0, 5)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_sgemm_xWt_large)->DenseRange(0, 5)->Unit(benchmark::kMicrosecond)->UseRealTime();

// x W^T as linear computes it (W is [out, in]): OpenBLAS (B transposed) against the packed
// kernel (ops/cpu/gemm_packed.h) with W packed once, outside the loop.
void BM_sgemm_xWt(benchmark::State& st) {
  const Shape3 s = kShapes[st.range(0)];
  Generator g(1);
  Tensor x = randn({s.M, s.K}, g), w = randn({s.N, s.K}, g), c = zeros({s.M, s.N});
  for (auto _ : st) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.M, s.N, s.K, 1.0f, x.data<float>(), s.K, w.data<float>(),
                s.K, 0.0f, c.data<float>(), s.N);
    benchmark::DoNotOptimize(c.data<float>());
    benchmark::ClobberMemory();
  }
  set_counters(st, s);
}
void BM_packed_xWt(benchmark::State& st) {
  const Shape3 s = kShapes[st.range(0)];
  Generator g(1);
  Tensor x = randn({s.M, s.K}, g), w = randn({s.N, s.K}, g), c = zeros({s.M, s.N});
  Tensor packed = cpu::pack_weight(w.data<float>(), s.N, s.K, s.K);
  for (auto _ : st) {
    cpu::gemm_packed(s.M, s.N, s.K, x.data<float>(), s.K, packed, 0.0f, c.data<float>(), s.N);
    benchmark::DoNotOptimize(c.data<float>());
    benchmark::ClobberMemory();
  }
  set_counters(st, s);
}
BENCHMARK(BM_sgemm_xWt)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_packed_xWt)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_gemm_bf16)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_bertlab_linear_bf16)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_cblas_sgemm)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_cblas_sgemm_new_output)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_bertlab_matmul)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_bertlab_matmul_transposed_view)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_bertlab_linear)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond)->UseRealTime();
int main(int argc, char** argv) {
  bertlab::prefer_passive_openmp(argv);  // autograd/openmp_env.h
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
