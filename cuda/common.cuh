// cuda/common.cuh — what every .cu file of the backend shares (private to cuda/).
//
// - CUDA_CHECK / CUBLAS_CHECK: run a runtime or cuBLAS call and throw bertlab::Error naming
//   the call, the error string and file:line (llm.c's cudaCheck, as an exception).
// - stream() and cublas(): the one stream all work is queued on, and the one cuBLAS handle
//   bound to it. One stream keeps every kernel, copy and GEMM in program order, so the
//   caching allocator may hand a freed block out again without waiting for the GPU.
// - launch sizes for grid-stride loops, and warp / block reductions.
//
// This header includes cuda_runtime.h, so only .cu files include it; the headers ops/ sees
// (cuda/*.h) stay plain C++.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "autograd/tensor.h"  // bertlab::Error, fail
#include "cuda/cuda.h"

namespace bertlab::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t st, const char* call, const char* file, int line);

}  // namespace bertlab::cuda

// Throws bertlab::Error("CUDA error at cuda/copy.cu:42: cudaMemcpyAsync(...) failed: ...").
#define CUDA_CHECK(call)                                                          \
  do {                                                                            \
    cudaError_t cuda_check_err_ = (call);                                         \
    if (cuda_check_err_ != cudaSuccess)                                           \
      ::bertlab::cuda::throw_cuda_error(cuda_check_err_, #call, __FILE__, __LINE__); \
  } while (0)

#define CUBLAS_CHECK(call)                                                          \
  do {                                                                              \
    cublasStatus_t cublas_check_st_ = (call);                                       \
    if (cublas_check_st_ != CUBLAS_STATUS_SUCCESS)                                  \
      ::bertlab::cuda::throw_cublas_error(cublas_check_st_, #call, __FILE__, __LINE__); \
  } while (0)

// After a <<<...>>> launch: reports a bad launch configuration at once. Faults inside the
// kernel surface at the next synchronising call (run with CUDA_LAUNCH_BLOCKING=1 to see them
// at the launch that caused them).
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

namespace bertlab::cuda {

cudaStream_t stream();    // created on first use (non-blocking); never destroyed
cublasHandle_t cublas();  // created on first use, bound to stream()
int num_sms();            // multiprocessors on the current device

constexpr int kThreads = 256;  // block size of the elementwise kernels

// Blocks for a grid-stride loop over n elements: enough to fill the GPU, no more (each
// thread then handles several elements).
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t blocks = (n + threads - 1) / threads;
  const int64_t cap = (int64_t)num_sms() * 32;
  if (blocks > cap) blocks = cap;
  return (unsigned)(blocks < 1 ? 1 : blocks);
}

// ---------------------------------------------------------------------------------------
// Reductions inside a warp and a block (sum). Every thread of the warp / block must call
// them; the result is valid in every thread.

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
template <typename T>
__device__ __forceinline__ T warp_max(T v) {
  for (int o = 16; o > 0; o >>= 1) {
    T w = __shfl_xor_sync(0xffffffffu, v, o);
    v = w > v ? w : v;
  }
  return v;
}

// blockDim.x must be a multiple of 32 (at most 1024).
template <typename T>
__device__ T block_sum(T v) {
  __shared__ T partial[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_sum(v);
  __syncthreads();  // `partial` may still be read by a previous call
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = lane < warps ? partial[lane] : (T)0;
  return warp_sum(v);
}
template <typename T>
__device__ T block_max(T v) {
  __shared__ T partial[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = lane < warps ? partial[lane] : partial[0];
  return warp_max(v);
}

// ---------------------------------------------------------------------------------------
// Who owns a row. The row kernels (softmax, layernorm, cross-entropy) are written once for a
// "row group" of threads that walk one row together and reduce across it:
//   WarpRow:  one warp per row, 8 rows per 256-thread block; for rows of up to 1024 elements
//             (BERT's 128-wide attention rows, 768-wide hidden rows): shuffles only.
//   BlockRow: one whole block per row, for longer rows (a 30522-wide vocabulary row).
// In a kernel:  for (int64_t c = g.lane(); c < C; c += g.size()) ...;  s = g.sum(s);

struct WarpRow {
  static constexpr int kRowsPerBlock = 8;
  __device__ int64_t row() const { return blockIdx.x * (int64_t)kRowsPerBlock + threadIdx.x / 32; }
  __device__ int lane() const { return threadIdx.x % 32; }
  __device__ int size() const { return 32; }
  template <typename T> __device__ T sum(T v) const { return warp_sum(v); }
  template <typename T> __device__ T max(T v) const { return warp_max(v); }
};

struct BlockRow {
  __device__ int64_t row() const { return blockIdx.x; }
  __device__ int lane() const { return threadIdx.x; }
  __device__ int size() const { return blockDim.x; }
  template <typename T> __device__ T sum(T v) const { return block_sum(v); }
  template <typename T> __device__ T max(T v) const { return block_max(v); }
};

// Calls launch(group, grid, block) with the row group that suits rows of C elements.
template <typename Launch>
void launch_rows(int64_t N, int64_t C, Launch&& launch) {
  if (N > 0x7fffffff) fail("row kernel: " + std::to_string(N) + " rows exceed one grid");
  if (C <= 1024) {
    const int64_t blocks = (N + WarpRow::kRowsPerBlock - 1) / WarpRow::kRowsPerBlock;
    launch(WarpRow{}, dim3((unsigned)blocks), dim3(32 * WarpRow::kRowsPerBlock));
  } else {
    launch(BlockRow{}, dim3((unsigned)N), dim3(512));
  }
}

// ---------------------------------------------------------------------------------------
// Scratch memory from the caching allocator (cuda/allocator.cu), handed back when it goes
// out of scope. Handing it back does not wait for the GPU: the kernels that use it were
// queued on the one stream before anything that can reuse the block.
struct DeviceBuffer {
  void* p;
  explicit DeviceBuffer(size_t nbytes) : p(cuda::malloc(nbytes ? nbytes : 1)) {}
  ~DeviceBuffer() { cuda::free(p); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <typename T> T* as() const { return static_cast<T*>(p); }
};

// Grid-stride loop over [0, n): for (int64_t i = first_index(); i < n; i += grid_stride())
__device__ __forceinline__ int64_t first_index() { return blockIdx.x * (int64_t)blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_stride() { return (int64_t)gridDim.x * blockDim.x; }

}  // namespace bertlab::cuda
