// cuda/index.cu — indexing kernels: the index check, index_select and gather (forward
// gather, backward scatter-add, side by side), and where.
//
// The scatter-adds are deterministic, like the CPU's (ops/cpu/index.cpp), and give the CPU's
// bits exactly: every destination element is summed by one thread, in increasing position.
//   gather backward:        one thread per column (the positions along dim) walks it in
//                           order; distinct columns write distinct elements.
//   index_select backward:  (and so embedding backward) the index is sorted together with
//                           the positions 0..n-1 (CUB's stable radix sort), so equal indices
//                           form runs in increasing position; the block at the head of a run
//                           adds up that run's rows. Atomics would be simpler, but floating
//                           point addition is not associative and their order varies run to
//                           run. (PyTorch's embedding_dense_backward sorts the same way.)
#include <cub/device/device_radix_sort.cuh>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "autograd/dispatch.h"
#include "cuda/common.cuh"
#include "cuda/index.h"
#include "cuda/strided.cuh"

namespace bertlab::cuda {

// ---------------------------------------------------------------------------------------
// the index check

// *first = min over bad i of i, where idx[i] is outside [0, bound) and not the ignored value.
// idx is (n); *first starts at ULLONG_MAX ("none").
__global__ void first_bad_index_kernel(unsigned long long* first, const int64_t* idx, int64_t n, int64_t bound,
                                       bool skip_ignore, int64_t ignore) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const int64_t v = idx[i];
    if ((v < 0 || v >= bound) && !(skip_ignore && v == ignore)) atomicMin(first, (unsigned long long)i);
  }
}

// The answer is a host value, so this waits for the GPU (as reading any result does).
int64_t first_bad_index(const int64_t* idx, int64_t n, int64_t bound, bool skip_ignore, int64_t ignore) {
  if (n == 0) return -1;
  DeviceBuffer first(sizeof(unsigned long long));
  CUDA_CHECK(cudaMemsetAsync(first.p, 0xff, sizeof(unsigned long long), stream()));  // ULLONG_MAX
  first_bad_index_kernel<<<grid_for(n), kThreads, 0, stream()>>>(first.as<unsigned long long>(), idx, n, bound,
                                                                  skip_ignore, ignore);
  CUDA_CHECK_LAUNCH();
  unsigned long long host = 0;
  memcpy_d2h(&host, first.p, sizeof host);
  return host == ULLONG_MAX ? -1 : (int64_t)host;
}

// Deferred checks: a fixed array of device slots, one per queued check, allocated once; the
// host keeps each check's message maker. One stream, one host thread (as the whole backend).
static constexpr size_t kDeferredSlots = 256;
static bool g_deferred = [] {
  const char* e = std::getenv("BERTLAB_CUDA_DEFERRED_INDEX_CHECKS");
  return e && e[0] && e[0] != '0';
}();
static unsigned long long* g_slots = nullptr;  // device, kDeferredSlots entries
static std::vector<std::function<std::string(int64_t)>> g_pending;

void set_deferred_index_checks(bool on) { g_deferred = on; }
bool deferred_index_checks() { return g_deferred; }

void check_index_deferred(const int64_t* idx, int64_t n, int64_t bound, bool skip_ignore, int64_t ignore,
                          std::function<std::string(int64_t)> report) {
  if (n == 0) return;
  if (g_pending.size() == kDeferredSlots) raise_deferred_index_errors();  // all slots queued: check them now
  if (!g_slots) g_slots = static_cast<unsigned long long*>(cuda::malloc(kDeferredSlots * sizeof(unsigned long long)));
  unsigned long long* slot = g_slots + g_pending.size();
  CUDA_CHECK(cudaMemsetAsync(slot, 0xff, sizeof *slot, stream()));  // ULLONG_MAX: none bad
  first_bad_index_kernel<<<grid_for(n), kThreads, 0, stream()>>>(slot, idx, n, bound, skip_ignore, ignore);
  CUDA_CHECK_LAUNCH();
  g_pending.push_back(std::move(report));
}

void raise_deferred_index_errors() {
  if (g_pending.empty()) return;
  std::vector<std::function<std::string(int64_t)>> pending;
  pending.swap(g_pending);  // a report that reads a value back re-enters here with nothing queued
  std::vector<unsigned long long> first(pending.size());
  CUDA_CHECK(cudaMemcpyAsync(first.data(), g_slots, first.size() * sizeof(unsigned long long), cudaMemcpyDeviceToHost,
                             stream()));
  CUDA_CHECK(cudaStreamSynchronize(stream()));
  for (size_t i = 0; i < first.size(); ++i)
    if (first[i] != ULLONG_MAX) fail(pending[i]((int64_t)first[i]));
}

// ---------------------------------------------------------------------------------------
// index_select: x (outer, D, inner) -> out (outer, n, inner)

// out[o, j, i] = x[o, index[j], i]; out is (outer, n, inner), x is (outer, D, inner), index is
// (n). E is an unsigned integer of the element's size: a copy needs no arithmetic type. An
// index outside [0, D) (only possible while a deferred check is pending) gives 0.
template <typename E>
__global__ void index_select_forward_kernel(E* out, const E* x, const int64_t* index, int64_t outer, int64_t D,
                                            int64_t n, int64_t inner) {
  for (int64_t p = first_index(); p < outer * n * inner; p += grid_stride()) {
    const int64_t i = p % inner, oj = p / inner, j = oj % n, o = oj / n, d = index[j];
    out[p] = (d >= 0 && d < D) ? x[(o * D + d) * inner + i] : (E)0;
  }
}

// Calls f(E{}) with the unsigned integer type of t's size.
template <typename F>
static void dispatch_bits(DType t, F&& f) {
  if (dtype_size(t) == 4) f(uint32_t{});
  else f(uint64_t{});
}

void index_select_forward(DType t, void* out, const void* x, const int64_t* index, int64_t outer, int64_t D,
                          int64_t n, int64_t inner) {
  const int64_t total = outer * n * inner;
  if (total == 0) return;
  dispatch_bits(t, [&](auto tag) {
    using E = decltype(tag);
    index_select_forward_kernel<E><<<grid_for(total), kThreads, 0, stream()>>>(
        static_cast<E*>(out), static_cast<const E*>(x), index, outer, D, n, inner);
    CUDA_CHECK_LAUNCH();
  });
}

// pos[j] = j; pos is (n)
__global__ void iota_kernel(int64_t* pos, int64_t n) {
  for (int64_t j = first_index(); j < n; j += grid_stride()) pos[j] = j;
}

// keys and pos are (n): the index sorted, and where each entry came from. Each run of equal
// keys d is summed in increasing position:
//   dx[o, d, i] = sum over k in the run of dout[o, pos[k], i]
// The sorted entries are cut into chunks of kChunk; block (c, o), one thread per column,
// takes the runs whose head lies in chunk c. A short run (one that ends by the end of chunk
// c + 1, so every run of up to kChunk entries) is summed whole, in the CPU's order:
// bit-identical to ops/cpu/index.cpp. A long run (token type ids: two values, each
// thousands of times) is summed piece by piece, one piece per chunk, into `part` (slot 1:
// the piece holding the head, slot 0: the piece that continues a run from the chunk
// before), and index_select_join_kernel adds the pieces in chunk order: deterministic, and
// spread over many blocks instead of one thread walking thousands of rows.
// dx is (outer, D, inner) and zeroed by the caller for indices that never occur; dout is
// (outer, n, inner); part is (nchunks, 2, outer, inner).
constexpr int64_t kChunk = 64;

// Is the run of key d that contains position p (its head at or before p) a long one?
// The head is found from the chunk boundaries alone: a run is short iff it ends by the end
// of the chunk after its head's chunk.
__device__ __forceinline__ bool long_run_from_head(const int64_t* keys, int64_t n, int64_t head_chunk_end,
                                                   int64_t d) {
  const int64_t lim = min(n, head_chunk_end + kChunk);
  return lim < n && keys[lim] == d;
}

template <typename T>
__global__ void index_select_backward_kernel(T* dx, T* part, const T* dout, const int64_t* keys, const int64_t* pos,
                                             int64_t outer, int64_t D, int64_t n, int64_t inner) {
  const int64_t c = blockIdx.x, begin = c * kChunk, end = min(n, begin + kChunk);
  auto slot = [&](int s, int64_t o, int64_t i) -> T& { return part[((c * 2 + s) * outer + o) * inner + i]; };
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y)
    for (int64_t i = threadIdx.x; i < inner; i += blockDim.x) {
      int64_t k = begin;
      if (begin > 0 && keys[begin] == keys[begin - 1]) {  // a run from an earlier chunk goes on here
        const int64_t d = keys[begin], pb = begin - kChunk;
        const bool head_in_prev = !(pb > 0 && keys[pb] == d && keys[pb - 1] == d);
        const bool ends_here = end == n || keys[end] != d;
        T acc = 0;
        for (; k < end && keys[k] == d; ++k) acc += dout[(o * n + pos[k]) * inner + i];
        if (!(head_in_prev && ends_here) && d >= 0 && d < D) slot(0, o, i) = acc;  // a long run's piece
      }
      while (k < end) {  // runs whose head is in this chunk
        const int64_t d = keys[k];
        const bool is_long = long_run_from_head(keys, n, end, d);
        T acc = 0;
        if (is_long) {  // the head's piece; the run goes on past this chunk
          for (; k < end; ++k) acc += dout[(o * n + pos[k]) * inner + i];
          if (d >= 0 && d < D) slot(1, o, i) = acc;
        } else {  // the whole run, into the next chunk if need be
          for (; k < n && keys[k] == d; ++k) acc += dout[(o * n + pos[k]) * inner + i];
          if (d >= 0 && d < D) dx[(o * D + d) * inner + i] = acc;  // else: out of range, a deferred check reports it
        }
      }
    }
}

// Block (c, o): if the last run whose head is in chunk c is a long one, adds its pieces in
// chunk order into dx.
template <typename T>
__global__ void index_select_join_kernel(T* dx, const T* part, const int64_t* keys, int64_t outer, int64_t D,
                                         int64_t n, int64_t inner) {
  const int64_t c = blockIdx.x, begin = c * kChunk, end = min(n, begin + kChunk);
  const int64_t d = keys[end - 1];
  const bool head_here = begin == 0 || keys[begin - 1] != d || keys[begin] != d;
  if (!head_here || !long_run_from_head(keys, n, end, d) || d < 0 || d >= D) return;
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y)
    for (int64_t i = threadIdx.x; i < inner; i += blockDim.x) {
      T acc = part[((c * 2 + 1) * outer + o) * inner + i];
      for (int64_t cc = c + 1; cc * kChunk < n; ++cc) {  // the chunks after it start with d
        acc += part[((cc * 2 + 0) * outer + o) * inner + i];
        const int64_t e = min(n, (cc + 1) * kChunk);
        if (e == n || keys[e] != d) break;  // the run ends in chunk cc
      }
      dx[(o * D + d) * inner + i] = acc;
    }
}

void index_select_backward(DType t, void* dx, const void* dout, const int64_t* index, int64_t outer, int64_t D,
                           int64_t n, int64_t inner) {
  dispatch_float(t, "index_select backward", [&](auto tag) {
    using T = decltype(tag);
    const int64_t total = outer * D * inner;
    if (total == 0) return;
    memset_zero(dx, (size_t)total * sizeof(T));
    if (n == 0) return;
    if (n > INT_MAX) fail("index_select backward: " + std::to_string(n) + " indices are more than one sort handles");

    // sort (index[j], j) by index: a stable sort keeps equal indices in increasing j
    DeviceBuffer keys(n * sizeof(int64_t)), pos_in(n * sizeof(int64_t)), pos(n * sizeof(int64_t));
    iota_kernel<<<grid_for(n), kThreads, 0, stream()>>>(pos_in.as<int64_t>(), n);
    CUDA_CHECK_LAUNCH();
    int end_bit = 1;  // indices lie in [0, D): only their low bits need sorting
    while (end_bit < 63 && (int64_t(1) << end_bit) < D) ++end_bit;
    size_t temp_bytes = 0;
    CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, index, keys.as<int64_t>(), pos_in.as<int64_t>(),
                                               pos.as<int64_t>(), (int)n, 0, end_bit, stream()));
    DeviceBuffer temp(temp_bytes);
    CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.p, temp_bytes, index, keys.as<int64_t>(), pos_in.as<int64_t>(),
                                               pos.as<int64_t>(), (int)n, 0, end_bit, stream()));

    const int threads = inner >= 256 ? 256 : inner > 64 ? 128 : 32;
    const unsigned grid_y = (unsigned)std::min<int64_t>(outer, 65535);
    const int64_t nchunks = (n + kChunk - 1) / kChunk;
    DeviceBuffer part((size_t)nchunks * 2 * outer * inner * sizeof(T));
    index_select_backward_kernel<T><<<dim3((unsigned)nchunks, grid_y), threads, 0, stream()>>>(
        static_cast<T*>(dx), part.as<T>(), static_cast<const T*>(dout), keys.as<int64_t>(), pos.as<int64_t>(), outer,
        D, n, inner);
    CUDA_CHECK_LAUNCH();
    if (nchunks > 1) {
      index_select_join_kernel<T><<<dim3((unsigned)nchunks, grid_y), threads, 0, stream()>>>(
          static_cast<T*>(dx), part.as<T>(), keys.as<int64_t>(), outer, D, n, inner);
      CUDA_CHECK_LAUNCH();
    }
  });
}

// ---------------------------------------------------------------------------------------
// gather along `dim`: the index (and out) seen as (outer, n, inner) around dim

// What a gather kernel needs of the layouts: index's shape, x's strides.
struct GatherGeometry {
  int ndim = 0, dim = 0;
  int64_t shape[kMaxDims] = {};     // the index's (and out's) shape
  int64_t xstrides[kMaxDims] = {};  // x's strides
  int64_t outer = 1, n = 1, inner = 1;
  int64_t xdim = 0;  // x's size along dim: the range of the indices
};
static GatherGeometry gather_geometry(const Layout& lx, const Layout& li, int dim) {
  GatherGeometry g;
  g.ndim = li.ndim;
  g.dim = dim;
  for (int d = 0; d < li.ndim; ++d) {
    g.shape[d] = li.shape[d];
    g.xstrides[d] = lx.strides[d];
    if (d < dim) g.outer *= li.shape[d];
    if (d > dim) g.inner *= li.shape[d];
  }
  g.n = li.shape[dim];
  g.xdim = lx.shape[dim];
  return g;
}

// out[p] = x[p with p[dim] replaced by index[p]]; out and index are dense with shape
// g.shape, x is read through g.xstrides.
template <typename E>
__global__ void gather_forward_kernel(E* out, const E* x, const int64_t* index, GatherGeometry g) {
  const int64_t total = g.outer * g.n * g.inner;
  for (int64_t p = first_index(); p < total; p += grid_stride()) {
    const int64_t k = index[p];
    if (k < 0 || k >= g.xdim) {  // out of range (a deferred check will report it)
      out[p] = (E)0;
      continue;
    }
    int64_t rem = p, off = 0;
    for (int d = g.ndim - 1; d >= 0; --d) {
      const int64_t coord = rem % g.shape[d];
      rem /= g.shape[d];
      off += (d == g.dim ? k : coord) * g.xstrides[d];
    }
    out[p] = x[off];
  }
}

// One thread per column (o, i) of the index: for j = 0 .. n-1 in order,
//   dx[column's base + index[o, j, i] * xstride[dim]] += dout[o, j, i]
// dx is dense with strides g.xstrides and zeroed by the caller; dout and index are dense
// (outer, n, inner).
template <typename T>
__global__ void gather_backward_kernel(T* dx, const T* dout, const int64_t* index, GatherGeometry g) {
  for (int64_t col = first_index(); col < g.outer * g.inner; col += grid_stride()) {
    const int64_t o = col / g.inner, i = col % g.inner;
    int64_t base = 0, rest = i;
    for (int d = g.ndim - 1; d > g.dim; --d) {  // coordinates after dim come from i
      base += (rest % g.shape[d]) * g.xstrides[d];
      rest /= g.shape[d];
    }
    rest = o;
    for (int d = g.dim - 1; d >= 0; --d) {  // and those before dim from o
      base += (rest % g.shape[d]) * g.xstrides[d];
      rest /= g.shape[d];
    }
    const int64_t step = g.xstrides[g.dim];
    for (int64_t j = 0; j < g.n; ++j) {
      const int64_t p = (o * g.n + j) * g.inner + i, k = index[p];
      if (k >= 0 && k < g.xdim) dx[base + k * step] += dout[p];
    }
  }
}

void gather_forward(DType t, void* out, const void* x, const Layout& lx, const int64_t* index, const Layout& li,
                    int dim) {
  const GatherGeometry g = gather_geometry(lx, li, dim);
  const int64_t total = g.outer * g.n * g.inner;
  if (total == 0) return;
  dispatch_bits(t, [&](auto tag) {
    using E = decltype(tag);
    gather_forward_kernel<E><<<grid_for(total), kThreads, 0, stream()>>>(static_cast<E*>(out),
                                                                          static_cast<const E*>(x), index, g);
    CUDA_CHECK_LAUNCH();
  });
}

void gather_backward(DType t, void* dx, const Layout& lx, const void* dout, const int64_t* index, const Layout& li,
                     int dim) {
  const GatherGeometry g = gather_geometry(lx, li, dim);
  if (g.outer * g.n * g.inner == 0) return;
  dispatch_float(t, "gather backward", [&](auto tag) {
    using T = decltype(tag);
    gather_backward_kernel<T><<<grid_for(g.outer * g.inner), kThreads, 0, stream()>>>(
        static_cast<T*>(dx), static_cast<const T*>(dout), index, g);
    CUDA_CHECK_LAUNCH();
  });
}

// ---------------------------------------------------------------------------------------
// where

// y = cond != 0 ? a : b; y, cond, a, b share one shape (ix.shape), each with its own strides
// (0 where broadcast).
template <typename T>
__global__ void where_kernel(T* y, const T* cond, const T* a, const T* b, StridedIndex<4> ix) {
  for (int64_t i = first_index(); i < ix.numel; i += grid_stride()) {
    int64_t off[4];
    ix.offsets(i, off);
    y[off[0]] = cond[off[1]] != (T)0 ? a[off[2]] : b[off[3]];
  }
}

void where(DType t, const Layout& ly, void* y, const void* cond, const Layout& lc, const void* a, const Layout& la,
           const void* b, const Layout& lb) {
  const Layout* layouts[4] = {&ly, &lc, &la, &lb};
  const StridedIndex<4> ix = make_strided_index<4>(layouts);
  if (ix.numel == 0) return;
  dispatch_all(t, "where", [&](auto tag) {
    using T = decltype(tag);
    where_kernel<T><<<grid_for(ix.numel), kThreads, 0, stream()>>>(
        static_cast<T*>(y), static_cast<const T*>(cond), static_cast<const T*>(a), static_cast<const T*>(b), ix);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace bertlab::cuda
