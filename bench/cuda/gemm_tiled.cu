// bench/cuda/gemm_tiled.cu — a hand-written tiled SGEMM, explained step by step, checked
// against cuBLAS and then timed next to it at BERT-base shapes. A teaching kernel: the
// library's GEMMs go through cuBLAS (cuda/gemm.cu); this file shows what cuBLAS does for us.
//
// The kernel is the classic two-level blocking (the CUDA Programming Guide's shared-memory
// matrix multiply; Volkov and Demmel, "Benchmarking GPUs to tune dense linear algebra", 2008;
// Simon Boehm's "How to Optimize a CUDA Matmul Kernel", kernel 5):
//   1. each block computes a BM x BN tile of C, walking K in slices of BK;
//   2. per slice, the block copies a BM x BK tile of A and a BK x BN tile of B from global
//      memory into shared memory, coalesced (neighbouring threads read neighbouring floats);
//   3. each thread computes a TM x TN sub-tile of the block's tile from registers: for each of
//      the BK steps it loads TM values of A and TN values of B from shared memory into
//      registers and does TM*TN multiply-adds (an outer product): TM*TN FMAs per TM+TN loads
//      instead of one FMA per two loads;
//   4. after the last slice, each thread writes its TM x TN results.
// Two tile shapes: 128 x 128 (8 x 8 per thread) where there are enough tiles to fill the GPU,
// 64 x 64 (4 x 4 per thread) for the small BERT shapes (128 x 768 has only 6 tiles of 128 x 128
// for 132 SMs).
//
// Everything is row-major: C (M,N) = A (M,K) B (K,N), batched with element strides. Edges are
// handled (zero-filled tiles, guarded stores), so any shape works.
//
// The benchmark (Google Benchmark, manual time from CUDA events around each launch):
//   BM_tiled_sgemm   this kernel                         fp32 FMA, no tensor cores
//   BM_cublas_sgemm  cublasSgemm(StridedBatched), fp32   the same arithmetic, cuBLAS's kernels
//   BM_cublas_tf32   the same with TF32 tensor cores     what the library uses with --tf32
// each at 128x768x768, 128x3072x768, 128x768x3072, 12 x 128x128x64 (q k^T of 12 heads) and
// the batch-32 x 128 variants (4096 rows; 384 heads). Counters: TFLOP/s = 2 M N K batch / time.
// Each shape is checked against cuBLAS fp32 before it is timed ("results match").
//
//   ninja -C build-gpu bench/bench_cuda_gemm && ./build-gpu/bench/bench_cuda_gemm --benchmark_min_time=0.2
#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

// llm.c's cudaCheck: stop with the failing call and file:line
#define CK(call)                                                                                   \
  do {                                                                                             \
    cudaError_t e_ = (call);                                                                       \
    if (e_ != cudaSuccess) {                                                                       \
      std::fprintf(stderr, "CUDA error %s at %s:%d: %s\n", cudaGetErrorString(e_), __FILE__, __LINE__, #call); \
      std::exit(1);                                                                                \
    }                                                                                              \
  } while (0)
#define CKB(call)                                                                                  \
  do {                                                                                             \
    cublasStatus_t s_ = (call);                                                                    \
    if (s_ != CUBLAS_STATUS_SUCCESS) {                                                             \
      std::fprintf(stderr, "cuBLAS error %d at %s:%d: %s\n", (int)s_, __FILE__, __LINE__, #call);  \
      std::exit(1);                                                                                \
    }                                                                                              \
  } while (0)

namespace {

// ---------------------------------------------------------------------------------------
// the kernel

// C_b = A_b B_b for b = blockIdx.z; A_b is (M,K) at A + b*sa, B_b (K,N) at B + b*sb, C_b (M,N)
// at C + b*sc, all row-major and dense within a matrix. Block: (BM/TM) * (BN/TN) threads.
template <int BM, int BN, int BK, int TM, int TN>
__global__ void sgemm_tiled(float* C, const float* A, const float* B, int M, int N, int K, long long sa, long long sb,
                            long long sc) {
  constexpr int kThreads = (BM / TM) * (BN / TN);
  // As is stored transposed (As[k][m]) so that step 3 reads TM consecutive floats of a column;
  // 4 floats of padding per row put the BK values that step 2's neighbouring threads store
  // (same m, consecutive k) in different banks
  __shared__ float As[BK][BM + 4];
  __shared__ float Bs[BK][BN];

  A += blockIdx.z * sa;
  B += blockIdx.z * sb;
  C += blockIdx.z * sc;
  const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;  // the block's tile of C
  // this thread's TM x TN sub-tile within the block's tile
  const int tr = (threadIdx.x / (BN / TN)) * TM, tc = (threadIdx.x % (BN / TN)) * TN;

  float acc[TM][TN] = {};  // the results, in registers for the whole K loop
  float a_reg[TM], b_reg[TN];

  for (int k0 = 0; k0 < K; k0 += BK) {
    // step 2: stage A[row0 : row0+BM, k0 : k0+BK] and B[k0 : k0+BK, col0 : col0+BN]; threads
    // with consecutive indices read consecutive addresses (along K for A, along N for B)
    for (int e = threadIdx.x; e < BM * BK; e += kThreads) {
      const int m = e / BK, k = e % BK;
      const int gm = row0 + m, gk = k0 + k;
      As[k][m] = (gm < M && gk < K) ? A[(long long)gm * K + gk] : 0.0f;
    }
    for (int e = threadIdx.x; e < BK * BN; e += kThreads) {
      const int k = e / BN, n = e % BN;
      const int gk = k0 + k, gn = col0 + n;
      Bs[k][n] = (gk < K && gn < N) ? B[(long long)gk * N + gn] : 0.0f;
    }
    __syncthreads();  // the tiles are complete before anyone reads them

    // step 3: BK outer products of a TM-column of A and a TN-row of B
#pragma unroll
    for (int k = 0; k < BK; ++k) {
#pragma unroll
      for (int i = 0; i < TM; ++i) a_reg[i] = As[k][tr + i];
#pragma unroll
      for (int j = 0; j < TN; ++j) b_reg[j] = Bs[k][tc + j];
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] += a_reg[i] * b_reg[j];
    }
    __syncthreads();  // everyone is done with the tiles before the next slice overwrites them
  }

  // step 4: write the sub-tile (guarded at the edges of C)
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int gm = row0 + tr + i;
    if (gm >= M) continue;
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int gn = col0 + tc + j;
      if (gn < N) C[(long long)gm * N + gn] = acc[i][j];
    }
  }
}

template <int BM, int BN, int BK, int TM, int TN>
void launch_tiled(float* C, const float* A, const float* B, int M, int N, int K, int batch, cudaStream_t s) {
  const dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM, batch);
  sgemm_tiled<BM, BN, BK, TM, TN><<<grid, (BM / TM) * (BN / TN), 0, s>>>(C, A, B, M, N, K, (long long)M * K,
                                                                          (long long)K * N, (long long)M * N);
  CK(cudaGetLastError());
}

int g_sms = 0;  // multiprocessors of the device

// The big tile when it gives at least one tile per SM, else the small one.
void tiled_sgemm(float* C, const float* A, const float* B, int M, int N, int K, int batch, cudaStream_t s) {
  const long long big_tiles = (long long)((M + 127) / 128) * ((N + 127) / 128) * batch;
  if (big_tiles >= g_sms) launch_tiled<128, 128, 8, 8, 8>(C, A, B, M, N, K, batch, s);
  else launch_tiled<64, 64, 8, 4, 4>(C, A, B, M, N, K, batch, s);
}

// ---------------------------------------------------------------------------------------
// cuBLAS, row-major: C = A B is the column-major C^T = B^T A^T, i.e. cuBLAS's (N,M) result
// from its B (N,K) and A (K,M) with leading dimensions N, K, N.
void cublas_sgemm(cublasHandle_t h, float* C, const float* A, const float* B, int M, int N, int K, int batch) {
  const float one = 1.0f, zero = 0.0f;
  if (batch == 1)
    CKB(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, B, N, A, K, &zero, C, N));
  else
    CKB(cublasSgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, B, N, (long long)K * N, A, K,
                                  (long long)M * K, &zero, C, N, (long long)M * N, batch));
}

// ---------------------------------------------------------------------------------------
// the benchmark

struct GemmShape {
  int batch, M, N, K;
  const char* what;
};
// BERT-base at batch 1 x 128 tokens and at batch 32 x 128 (4096 rows, 32 x 12 heads)
const GemmShape kShapes[] = {
    {1, 128, 768, 768, "attention projection, 128 tokens"},
    {1, 128, 3072, 768, "FFN up, 128 tokens"},
    {1, 128, 768, 3072, "FFN down, 128 tokens"},
    {12, 128, 128, 64, "q k^T, 12 heads"},
    {1, 4096, 768, 768, "attention projection, 32 x 128 tokens"},
    {1, 4096, 3072, 768, "FFN up, 32 x 128 tokens"},
    {1, 4096, 768, 3072, "FFN down, 32 x 128 tokens"},
    {384, 128, 128, 64, "q k^T, 32 x 12 heads"},
};

struct Buffers {
  float *A = nullptr, *B = nullptr, *C = nullptr, *R = nullptr;
  GemmShape s{};
};

cudaStream_t g_stream;
cublasHandle_t g_cublas;

// Device buffers for a shape, filled with uniform [-1, 1) values (fixed seed).
Buffers make_buffers(const GemmShape& s) {
  Buffers b;
  b.s = s;
  const size_t na = (size_t)s.batch * s.M * s.K, nb = (size_t)s.batch * s.K * s.N, nc = (size_t)s.batch * s.M * s.N;
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> ha(na), hb(nb);
  for (auto& x : ha) x = u(rng);
  for (auto& x : hb) x = u(rng);
  CK(cudaMalloc(&b.A, na * sizeof(float)));
  CK(cudaMalloc(&b.B, nb * sizeof(float)));
  CK(cudaMalloc(&b.C, nc * sizeof(float)));
  CK(cudaMalloc(&b.R, nc * sizeof(float)));
  CK(cudaMemcpy(b.A, ha.data(), na * sizeof(float), cudaMemcpyHostToDevice));
  CK(cudaMemcpy(b.B, hb.data(), nb * sizeof(float), cudaMemcpyHostToDevice));
  return b;
}
void free_buffers(Buffers& b) {
  cudaFree(b.A);
  cudaFree(b.B);
  cudaFree(b.C);
  cudaFree(b.R);
}

// The tiled kernel's C against cuBLAS fp32's R: |c - r| <= 1e-4 (|r| + 1) (the sums differ
// only in order). Returns an empty string when they match, else the first mismatch.
std::string check_against_cublas(Buffers& b) {
  const GemmShape& s = b.s;
  CKB(cublasSetMathMode(g_cublas, CUBLAS_DEFAULT_MATH));
  cublas_sgemm(g_cublas, b.R, b.A, b.B, s.M, s.N, s.K, s.batch);
  tiled_sgemm(b.C, b.A, b.B, s.M, s.N, s.K, s.batch, g_stream);
  CK(cudaStreamSynchronize(g_stream));
  const size_t nc = (size_t)s.batch * s.M * s.N;
  std::vector<float> c(nc), r(nc);
  CK(cudaMemcpy(c.data(), b.C, nc * sizeof(float), cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(r.data(), b.R, nc * sizeof(float), cudaMemcpyDeviceToHost));
  for (size_t i = 0; i < nc; ++i)
    if (!(std::fabs(c[i] - r[i]) <= 1e-4f * (std::fabs(r[i]) + 1.0f)))
      return "element " + std::to_string(i) + ": tiled " + std::to_string(c[i]) + ", cuBLAS " + std::to_string(r[i]);
  return "";
}

enum class Impl { Tiled, CublasFp32, CublasTf32 };

void run_gemm(benchmark::State& st, Impl impl) {
  const GemmShape& s = kShapes[st.range(0)];
  Buffers b = make_buffers(s);
  const std::string bad = check_against_cublas(b);
  if (!bad.empty()) {
    st.SkipWithError(("tiled kernel disagrees with cuBLAS at " + bad).c_str());
    free_buffers(b);
    return;
  }
  CKB(cublasSetMathMode(g_cublas, impl == Impl::CublasTf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  auto launch = [&] {
    if (impl == Impl::Tiled) tiled_sgemm(b.C, b.A, b.B, s.M, s.N, s.K, s.batch, g_stream);
    else cublas_sgemm(g_cublas, b.C, b.A, b.B, s.M, s.N, s.K, s.batch);
  };
  launch();  // warm-up (cuBLAS picks and loads its kernel)
  cudaEvent_t t0, t1;
  CK(cudaEventCreate(&t0));
  CK(cudaEventCreate(&t1));
  for (auto _ : st) {
    CK(cudaEventRecord(t0, g_stream));
    launch();
    CK(cudaEventRecord(t1, g_stream));
    CK(cudaEventSynchronize(t1));
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, t0, t1));
    st.SetIterationTime(ms * 1e-3);
  }
  CK(cudaEventDestroy(t0));
  CK(cudaEventDestroy(t1));
  CKB(cublasSetMathMode(g_cublas, CUBLAS_DEFAULT_MATH));
  const double flops = 2.0 * s.batch * s.M * s.N * s.K;
  st.counters["TFLOP/s"] = benchmark::Counter(flops * 1e-12, benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(std::to_string(s.batch) + "x" + std::to_string(s.M) + "x" + std::to_string(s.N) + "x" +
              std::to_string(s.K) + " " + s.what);
  free_buffers(b);
}

void BM_tiled_sgemm(benchmark::State& st) { run_gemm(st, Impl::Tiled); }
void BM_cublas_sgemm(benchmark::State& st) { run_gemm(st, Impl::CublasFp32); }
void BM_cublas_tf32(benchmark::State& st) { run_gemm(st, Impl::CublasTf32); }

void shapes(benchmark::internal::Benchmark* b) {
  for (int i = 0; i < (int)(sizeof(kShapes) / sizeof(kShapes[0])); ++i) b->Arg(i);
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace

BENCHMARK(BM_tiled_sgemm)->Apply(shapes);
BENCHMARK(BM_cublas_sgemm)->Apply(shapes);
BENCHMARK(BM_cublas_tf32)->Apply(shapes);

int main(int argc, char** argv) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    std::printf("SKIP: no CUDA device\n");
    return 77;
  }
  cudaDeviceProp p;
  CK(cudaGetDeviceProperties(&p, 0));
  CK(cudaDeviceGetAttribute(&g_sms, cudaDevAttrMultiProcessorCount, 0));
  std::printf("device: %s, %d SMs\n", p.name, g_sms);
  CK(cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking));
  CKB(cublasCreate(&g_cublas));
  CKB(cublasSetStream(g_cublas, g_stream));
  // every shape is checked once up front, so a wrong kernel shows before any timing
  int bad = 0;
  for (const GemmShape& s : kShapes) {
    Buffers b = make_buffers(s);
    const std::string msg = check_against_cublas(b);
    if (!msg.empty()) {
      std::printf("MISMATCH %dx%dx%dx%d: %s\n", s.batch, s.M, s.N, s.K, msg.c_str());
      ++bad;
    }
    free_buffers(b);
  }
  if (bad == 0) std::printf("All results match cuBLAS. Starting benchmarks.\n");
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return bad == 0 ? 0 : 1;
}
