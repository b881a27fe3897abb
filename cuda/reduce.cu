// cuda/reduce.cu — sum and max (with argmax) over the middle axis of an (outer, R, inner) block.
//
// ops/reduce.cpp reduces any run of adjacent dimensions by viewing the dense input as
// (outer, R, inner). Two shapes of work:
//   rows    (inner == 1):  one block per row; its threads stride along the row and meet in a
//                          block reduction (warp shuffles, then shared memory);
//   columns (inner > 1):   a 32 x 8 block per 32 neighbouring columns: threadIdx.x walks the
//                          columns (so every read of a warp is one coalesced line) and
//                          threadIdx.y walks R; the 8 partial results meet in shared memory.
// When that gives too few blocks to fill the GPU (a long row, or a sum over the batch of a
// few columns such as a bias gradient), a sum is split along R into `splits` chunks: the
// first pass writes (outer, splits, inner) partial sums, the second sums those. The order of
// additions is fixed, so results are deterministic run to run.
//
// As on the CPU (ops/cpu/reduce.cpp), float32 and float64 sums accumulate in double and
// int64 sums in int64, so the GPU result differs from the CPU's only by the order of the
// double additions. Max returns the first index of the maximum; a NaN wins (PyTorch's rule).
#include <type_traits>

#include "autograd/dispatch.h"
#include "cuda/common.cuh"
#include "cuda/cuda.h"
#include "cuda/reduce.h"

namespace bertlab::cuda {

template <typename T>
using SumAcc = std::conditional_t<std::is_same_v<T, int64_t>, int64_t, double>;

// ---------------------------------------------------------------------------------------
// sum

// Block (o, s) sums x[o, r] over its chunk r in [s * chunk, (s + 1) * chunk) into
// y[o, s]. x is (outer, R); y is (outer, splits) with splits = gridDim.y; grid.x = outer.
template <typename In, typename Out, typename Acc>
__global__ void sum_rows_kernel(Out* y, const In* x, int64_t R, int64_t chunk) {
  const int64_t o = blockIdx.x, s = blockIdx.y;
  const int64_t r0 = s * chunk, r1 = min(R, r0 + chunk);
  const In* row = x + o * R;
  Acc acc = 0;
  for (int64_t r = r0 + threadIdx.x; r < r1; r += blockDim.x) acc += (Acc)row[r];
  acc = block_sum(acc);
  if (threadIdx.x == 0) y[o * gridDim.y + s] = (Out)acc;
}

// Thread (i, ty) of block (o, tile, s) sums x[o, r, i] over r = r0 + ty, r0 + ty + 8, ...
// within its chunk; the 8 partial sums of a column meet in shared memory and are written to
// y[o, s, i]. x is (outer, R, inner); y is (outer, splits, inner); block is (32, 8);
// grid.x = outer * tiles (tiles = ceil(inner / 32)), grid.y = splits.
constexpr int kColsX = 32, kColsY = 8;
template <typename In, typename Out, typename Acc>
__global__ void sum_cols_kernel(Out* y, const In* x, int64_t R, int64_t inner, int64_t chunk) {
  __shared__ Acc part[kColsY][kColsX];
  const int64_t tiles = (inner + kColsX - 1) / kColsX;
  const int64_t o = blockIdx.x / tiles, i = (blockIdx.x % tiles) * kColsX + threadIdx.x;
  const int64_t s = blockIdx.y, r0 = s * chunk, r1 = min(R, r0 + chunk);
  Acc acc = 0;
  if (i < inner)
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kColsY) acc += (Acc)x[(o * R + r) * inner + i];
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && i < inner) {
    Acc total = 0;
    for (int k = 0; k < kColsY; ++k) total += part[k][threadIdx.x];
    y[(o * gridDim.y + s) * inner + i] = (Out)total;
  }
}

// Threads for a block that walks a row of `len` elements: a power of two from 32 to 256.
static int row_threads(int64_t len) { return len > 128 ? 256 : len > 64 ? 128 : len > 32 ? 64 : 32; }

// One pass of either kernel: (outer, R, inner) -> (outer, splits, inner).
template <typename In, typename Out, typename Acc>
static void sum_pass(Out* y, const In* x, int64_t outer, int64_t R, int64_t inner, int64_t splits) {
  const int64_t chunk = (R + splits - 1) / splits;
  if (inner == 1) {
    sum_rows_kernel<In, Out, Acc><<<dim3((unsigned)outer, (unsigned)splits), row_threads(chunk), 0, stream()>>>(y, x, R, chunk);
  } else {
    const int64_t tiles = (inner + kColsX - 1) / kColsX;
    sum_cols_kernel<In, Out, Acc>
        <<<dim3((unsigned)(outer * tiles), (unsigned)splits), dim3(kColsX, kColsY), 0, stream()>>>(y, x, R, inner,
                                                                                                   chunk);
  }
  CUDA_CHECK_LAUNCH();
}

// How many chunks to cut R into so that about 4 blocks per SM are busy.
static int64_t sum_splits(int64_t outer, int64_t R, int64_t inner) {
  const int64_t blocks = inner == 1 ? outer : outer * ((inner + kColsX - 1) / kColsX);
  const int64_t target = 4 * (int64_t)num_sms();
  const int64_t min_chunk = inner == 1 ? 4096 : 64;  // keep each thread busy for a while
  if (blocks >= target || R < 2 * min_chunk) return 1;
  int64_t splits = std::min<int64_t>(target / blocks, (R + min_chunk - 1) / min_chunk);
  splits = std::min<int64_t>(splits, 1024);
  return splits < 1 ? 1 : splits;
}

template <typename T>
static void sum_launch(int64_t outer, int64_t R, int64_t inner, const T* x, T* y) {
  using Acc = SumAcc<T>;
  const int64_t splits = sum_splits(outer, R, inner);
  if (splits == 1) {
    sum_pass<T, T, Acc>(y, x, outer, R, inner, 1);
    return;
  }
  DeviceBuffer partial((size_t)(outer * splits * inner) * sizeof(Acc));  // (outer, splits, inner)
  sum_pass<T, Acc, Acc>(partial.as<Acc>(), x, outer, R, inner, splits);
  sum_pass<Acc, T, Acc>(y, partial.as<Acc>(), outer, splits, inner, 1);
}

// ---------------------------------------------------------------------------------------
// max with argmax

// Is (v, i) a better maximum than (best, bi)? The larger value wins, a NaN beats any
// number, and on a tie the smaller index wins (the first occurrence, as the CPU's scan).
// bi < 0 marks "nothing seen yet".
template <typename T>
__device__ __forceinline__ bool better_max(T v, int64_t i, T best, int64_t bi) {
  if (bi < 0) return true;
  const bool vn = v != v, bn = best != best;  // NaN tests (always false for int64)
  if (vn || bn) return vn && bn ? i < bi : vn;
  if (v != best) return v > best;
  return i < bi;
}

// Block o scans row x[o, :] (threads stride along it), then a tree in shared memory picks
// the winner. x is (outer, R); y and idx are (outer); blockDim.x is a power of two <= 256.
template <typename T>
__global__ void max_rows_kernel(T* y, int64_t* idx, const T* x, int64_t R) {
  __shared__ T sv[256];
  __shared__ int64_t si[256];
  const int64_t o = blockIdx.x;
  const T* row = x + o * R;
  T best = row[0];
  int64_t bi = -1;
  for (int64_t r = threadIdx.x; r < R; r += blockDim.x)
    if (better_max(row[r], r, best, bi)) {
      best = row[r];
      bi = r;
    }
  sv[threadIdx.x] = best;
  si[threadIdx.x] = bi;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      const unsigned j = threadIdx.x + half;
      if (si[j] >= 0 && better_max(sv[j], si[j], sv[threadIdx.x], si[threadIdx.x])) {
        sv[threadIdx.x] = sv[j];
        si[threadIdx.x] = si[j];
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    y[o] = sv[0];
    if (idx) idx[o] = si[0];
  }
}

// Columns: thread (i, ty) scans r = ty, ty + 8, ... of column (o, i); thread ty == 0 then
// merges the 8 candidates. x is (outer, R, inner); y and idx are (outer, inner);
// block (32, 8); grid.x = outer * ceil(inner / 32).
template <typename T>
__global__ void max_cols_kernel(T* y, int64_t* idx, const T* x, int64_t R, int64_t inner) {
  __shared__ T sv[kColsY][kColsX];
  __shared__ int64_t si[kColsY][kColsX];
  const int64_t tiles = (inner + kColsX - 1) / kColsX;
  const int64_t o = blockIdx.x / tiles, i = (blockIdx.x % tiles) * kColsX + threadIdx.x;
  T best = T{};
  int64_t bi = -1;
  if (i < inner)
    for (int64_t r = threadIdx.y; r < R; r += kColsY) {
      const T v = x[(o * R + r) * inner + i];
      if (better_max(v, r, best, bi)) {
        best = v;
        bi = r;
      }
    }
  sv[threadIdx.y][threadIdx.x] = best;
  si[threadIdx.y][threadIdx.x] = bi;
  __syncthreads();
  if (threadIdx.y == 0 && i < inner) {
    for (int k = 1; k < kColsY; ++k)
      if (si[k][threadIdx.x] >= 0 && better_max(sv[k][threadIdx.x], si[k][threadIdx.x], best, bi)) {
        best = sv[k][threadIdx.x];
        bi = si[k][threadIdx.x];
      }
    y[o * inner + i] = best;
    if (idx) idx[o * inner + i] = bi;
  }
}

template <typename T>
static void max_launch(int64_t outer, int64_t R, int64_t inner, const T* x, T* y, int64_t* idx) {
  if (inner == 1) {
    max_rows_kernel<T><<<(unsigned)outer, row_threads(R), 0, stream()>>>(y, idx, x, R);
  } else {
    const int64_t tiles = (inner + kColsX - 1) / kColsX;
    max_cols_kernel<T><<<(unsigned)(outer * tiles), dim3(kColsX, kColsY), 0, stream()>>>(y, idx, x, R, inner);
  }
  CUDA_CHECK_LAUNCH();
}

void reduce(ReduceOp op, DType t, int64_t outer, int64_t R, int64_t inner, const void* x, void* y,
            int64_t* idx) {
  if (outer * inner == 0) return;
  if (R == 0) {
    if (op == ReduceOp::Max) fail("max: cannot reduce an empty dimension");
    memset_zero(y, (size_t)(outer * inner) * dtype_size(t));
    return;
  }
  if (outer * std::max<int64_t>(1, (inner + kColsX - 1) / kColsX) > 0x7fffffff)
    fail("reduce: " + std::to_string(outer) + " x " + std::to_string(inner) + " outputs exceed one grid");
  dispatch_all(t, "reduce", [&](auto tag) {
    using T = decltype(tag);
    if (op == ReduceOp::Sum) sum_launch<T>(outer, R, inner, static_cast<const T*>(x), static_cast<T*>(y));
    else max_launch<T>(outer, R, inner, static_cast<const T*>(x), static_cast<T*>(y), idx);
  });
}

// ---------------------------------------------------------------------------------------
// backward of max

// dx[o, idx[o, i], i] = dy[o, i]; dy and idx are (outer, inner); dx is (outer, R, inner) and
// zeroed by the caller, so every other element stays 0.
template <typename T>
__global__ void max_backward_kernel(T* dx, const T* dy, const int64_t* idx, int64_t outer, int64_t R,
                                    int64_t inner) {
  for (int64_t oi = first_index(); oi < outer * inner; oi += grid_stride()) {
    const int64_t o = oi / inner, i = oi % inner;
    dx[(o * R + idx[oi]) * inner + i] = dy[oi];
  }
}

void reduce_max_backward(DType t, int64_t outer, int64_t R, int64_t inner, const void* dy,
                         const int64_t* idx, void* dx) {
  const int64_t n = outer * inner;
  if (n == 0) return;
  dispatch_float(t, "max backward", [&](auto tag) {
    using T = decltype(tag);
    max_backward_kernel<T><<<grid_for(n), kThreads, 0, stream()>>>(static_cast<T*>(dx),
                                                                     static_cast<const T*>(dy), idx, outer, R, inner);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace bertlab::cuda
