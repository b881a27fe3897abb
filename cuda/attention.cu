// cuda/attention.cu — fused scaled-dot-product attention: scores, mask, softmax, dropout and
// the product with V in one kernel, flash-attention style, and its backward in two.
//
// Dao et al., "FlashAttention" (NeurIPS 2022) and Dao, "FlashAttention-2" (2023): the (T,T)
// score matrix is never written to memory. Keys and values stream through shared memory one
// tile at a time; each query row keeps a running maximum m, a running sum l of exp(s - m) and
// an unnormalised output o, rescaled whenever m grows (the "online softmax" of Milakov and
// Gimelshein, 2018). The forward keeps only lse = m + log(l) per row; the backward recomputes
// the probabilities from it. The formulas are in cuda/attention.h.
//
// How the threads are laid out (all three kernels):
//   - a block of 128 threads owns ROWS rows of one (batch, head); a group of G consecutive
//     threads owns one row, and thread r of the group owns the head dimensions
//     d = r, r + G, r + 2G, ... (16 of them): interleaved, so the G threads of a group read
//     G consecutive words of a shared tile (distinct banks) and all groups read the same
//     words (a broadcast);
//   - a dot product over D is 16 multiply-adds per thread, then log2(G) shuffles;
//   - the block walks the other side (keys for the forward and dQ, queries for dK/dV) in
//     tiles of TILE rows staged in shared memory (32 KiB of tiles per block).
// Every thread runs every loop iteration, also threads whose row lies past T (they compute
// on zeros and write nothing), so the shuffles always see the full warp.
//
// Precision: float32 in float32 (the sums over T are short); float64 in float64. The CPU
// reference (ops/cpu/attention.cpp) accumulates in double, so the two agree to rounding.
// No atomics: dQ and dK/dV come from separate kernels that each recompute the probabilities
// (deterministic, at the price of computing exp(s - lse) twice).
//
// The dropout mask is the dropout op's own (cuda/dropout.h), element ((b H + h) T + i) T + j
// of the (B,H,T,T) probabilities, so the fused op draws exactly the composed op's mask.
#include <climits>
#include <cmath>
#include <limits>
#include <type_traits>

#include "autograd/dispatch.h"
#include "cuda/attention.h"
#include "cuda/common.cuh"
#include "cuda/dropout.h"

namespace bertlab::cuda {

// The tile sizes for element type T and head size up to DMAX (32, 64 or 128).
template <typename T, int DMAX>
struct AttnTiling {
  static constexpr int kBlock = 128;          // threads per block
  static constexpr int G = DMAX / 16;         // threads per row: 2, 4 or 8
  static constexpr int DPT = DMAX / G;        // head dimensions per thread: 16
  static constexpr int ROWS = kBlock / G;     // rows a block owns: 64, 32 or 16
  // rows per shared tile: two tiles of TILE x DMAX elements fill 32 KiB (at most 64 rows)
  static constexpr int TILE = 16384 / (DMAX * (int)sizeof(T)) < 64 ? 16384 / (DMAX * (int)sizeof(T)) : 64;
};

// Sum over the G threads of a row group (G consecutive lanes, G a power of two).
template <int G, typename T>
__device__ __forceinline__ T group_sum(T v) {
  for (int o = G / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// dropout_keep(seed, offset, idx, p), remembering the last Philox block: one Philox call
// gives the words of four consecutive mask elements, and a row of keys walks them in order.
struct KeepBits {
  bool valid = false;
  uint64_t counter = 0;
  philox::U4 r{};
  __device__ bool keep(uint64_t seed, uint64_t offset, uint64_t idx, float p) {
    const uint64_t c = offset + idx / 4;
    if (!valid || c != counter) {
      r = philox::philox4x32(c, seed);
      counter = c;
      valid = true;
    }
    const unsigned w = (unsigned)(idx % 4);
    return dropout_keep_word(w == 0 ? r.x : w == 1 ? r.y : w == 2 ? r.z : r.w, p);
  }
};

// s[jj][d] = rows [j0, j0 + TILE) of a (T,D) matrix whose rows are `st` elements apart,
// zero past T and past D. Every thread of the block takes part.
template <typename T, int TILE, int DMAX>
__device__ void load_tile(T (*s)[DMAX], const T* base, int64_t st, int64_t j0, int64_t T_, int64_t D) {
  for (int e = threadIdx.x; e < TILE * DMAX; e += blockDim.x) {
    const int jj = e / DMAX, d = e % DMAX;
    const int64_t j = j0 + jj;
    s[jj][d] = (j < T_ && d < D) ? base[j * st + d] : (T)0;
  }
}

// v[jj] = x[j0 + jj] for jj < TILE (0 past T, or everywhere when x is null)
template <typename T, int TILE>
__device__ void load_vec(T* v, const T* x, int64_t j0, int64_t T_) {
  for (int jj = threadIdx.x; jj < TILE; jj += blockDim.x) v[jj] = (x && j0 + jj < T_) ? x[j0 + jj] : (T)0;
}

// The block's (batch, head) and the row its thread group owns.
struct AttnPlace {
  int64_t bh, b, h, row;
  int r;  // the thread's place in its group
};
template <int G, int ROWS>
__device__ AttnPlace attn_place(int64_t T_, int64_t H) {
  const int64_t tiles = (T_ + ROWS - 1) / ROWS;
  AttnPlace p;
  p.bh = blockIdx.x / tiles;
  p.b = p.bh / H;
  p.h = p.bh % H;
  p.row = (int64_t)(blockIdx.x % tiles) * ROWS + threadIdx.x / G;
  p.r = threadIdx.x % G;
  return p;
}

template <typename T>
__device__ __forceinline__ const T* row_ptr(const AttnTensor& x, const AttnPlace& p, int64_t t) {
  return static_cast<const T*>(x.data) + p.b * x.sb + p.h * x.sh + t * x.st;
}
template <typename T>
__device__ __forceinline__ T* row_ptr_mut(const AttnTensor& x, const AttnPlace& p, int64_t t) {
  return static_cast<T*>(x.data) + p.b * x.sb + p.h * x.sh + t * x.st;
}

// 1 / (1 - p), the scale of kept elements (0 when p == 1: everything is dropped)
__host__ __device__ inline double keep_scale(double p) { return p >= 1.0 ? 0.0 : 1.0 / (1.0 - p); }

// ---------------------------------------------------------------------------------------
// forward: out (B,H,T,D) and lse (B,H,T) from q, k, v (B,H,T,D) and the mask rows.
// One row group per query row i; K and V stream through shared memory.
template <typename T, int DMAX>
__global__ void attention_forward_kernel(AttnArgs a) {
  using Tl = AttnTiling<T, DMAX>;
  constexpr int G = Tl::G, DPT = Tl::DPT, TILE = Tl::TILE;
  __shared__ T ks[TILE][DMAX], vs[TILE][DMAX], bs[TILE];
  const AttnPlace pl = attn_place<G, Tl::ROWS>(a.T, a.H);
  const int64_t i = pl.row;
  const bool active = i < a.T;
  const T* bias = a.bias ? static_cast<const T*>(a.bias) + pl.b * a.bias_sb : nullptr;

  // this thread's share of q_i, and of the output it accumulates
  T q[DPT], o[DPT];
  const T* qi = row_ptr<T>(a.q, pl, active ? i : 0);
  for (int e = 0; e < DPT; ++e) {
    const int d = pl.r + G * e;
    q[e] = active && d < a.D ? qi[d] : (T)0;
    o[e] = 0;
  }
  const T scale = (T)a.scale;
  const bool drop = a.p > 0;
  const float pf = (float)a.p;
  const uint64_t mask_row = ((uint64_t)pl.bh * a.T + i) * a.T;  // mask index of (i, 0)
  KeepBits bits;
  T m = -std::numeric_limits<T>::infinity();  // running maximum of the scores
  T l = 0;                                     // running sum of exp(s - m)

  for (int64_t j0 = 0; j0 < a.T; j0 += TILE) {
    __syncthreads();  // the previous tile is no longer read
    load_tile<T, TILE, DMAX>(ks, row_ptr<T>(a.k, pl, 0), a.k.st, j0, a.T, a.D);
    load_tile<T, TILE, DMAX>(vs, row_ptr<T>(a.v, pl, 0), a.v.st, j0, a.T, a.D);
    load_vec<T, TILE>(bs, bias, j0, a.T);
    __syncthreads();
    const int jn = a.T - j0 < TILE ? (int)(a.T - j0) : TILE;
    for (int jj = 0; jj < jn; ++jj) {
      T dot = 0;
#pragma unroll
      for (int e = 0; e < DPT; ++e) dot += q[e] * ks[jj][pl.r + G * e];
      const T s = group_sum<G>(dot) * scale + bs[jj];  // the score s[i, j]
      if (s > m) {  // a new maximum: rescale what was summed under the old one
        const T c = std::exp(m - s);
        l *= c;
#pragma unroll
        for (int e = 0; e < DPT; ++e) o[e] *= c;
        m = s;
      }
      const T w = std::exp(s - m);
      l += w;  // the softmax's denominator counts dropped elements too
      if (!drop || bits.keep(a.seed, a.offset, mask_row + (uint64_t)(j0 + jj), pf)) {
#pragma unroll
        for (int e = 0; e < DPT; ++e) o[e] += w * vs[jj][pl.r + G * e];
      }
    }
  }
  if (!active) return;
  const T f = (T)keep_scale(a.p) / l;  // normalise, and scale the kept elements by 1 / (1 - p)
  T* oi = row_ptr_mut<T>(a.out, pl, i);
  for (int e = 0; e < DPT; ++e) {
    const int d = pl.r + G * e;
    if (d < a.D) oi[d] = o[e] * f;
  }
  if (pl.r == 0) static_cast<T*>(a.lse)[pl.bh * a.T + i] = m + std::log(l);
}

// ---------------------------------------------------------------------------------------
// backward, part 1: dq (B,H,T,D) and delta (B,H,T). One row group per query row i; K and V
// stream through shared memory as in the forward.
//   delta_i = dout_i . out_i;  ds[i, j] = p[i, j] (dp[i, j] - delta_i);  dq_i = scale sum_j ds[i, j] k_j
template <typename T, int DMAX>
__global__ void attention_backward_dq_kernel(AttnArgs a, AttnGrads g) {
  using Tl = AttnTiling<T, DMAX>;
  constexpr int G = Tl::G, DPT = Tl::DPT, TILE = Tl::TILE;
  __shared__ T ks[TILE][DMAX], vs[TILE][DMAX], bs[TILE];
  const AttnPlace pl = attn_place<G, Tl::ROWS>(a.T, a.H);
  const int64_t i = pl.row;
  const bool active = i < a.T;
  const int64_t ic = active ? i : 0;
  const T* bias = a.bias ? static_cast<const T*>(a.bias) + pl.b * a.bias_sb : nullptr;

  T q[DPT], dout[DPT], dq[DPT];
  const T* qi = row_ptr<T>(a.q, pl, ic);
  const T* doi = row_ptr<T>(g.dout, pl, ic);
  const T* oi = row_ptr<T>(a.out, pl, ic);
  T dl = 0;
  for (int e = 0; e < DPT; ++e) {
    const int d = pl.r + G * e;
    const bool in = active && d < a.D;
    q[e] = in ? qi[d] : (T)0;
    dout[e] = in ? doi[d] : (T)0;
    dl += in ? dout[e] * oi[d] : (T)0;
    dq[e] = 0;
  }
  const T delta = group_sum<G>(dl);
  if (active && pl.r == 0) static_cast<T*>(g.delta)[pl.bh * a.T + i] = delta;
  const T lse = active ? static_cast<const T*>(a.lse)[pl.bh * a.T + i] : (T)0;
  const T scale = (T)a.scale, kscale = (T)keep_scale(a.p);
  const bool drop = a.p > 0;
  const float pf = (float)a.p;
  const uint64_t mask_row = ((uint64_t)pl.bh * a.T + i) * a.T;
  KeepBits bits;

  for (int64_t j0 = 0; j0 < a.T; j0 += TILE) {
    __syncthreads();
    load_tile<T, TILE, DMAX>(ks, row_ptr<T>(a.k, pl, 0), a.k.st, j0, a.T, a.D);
    load_tile<T, TILE, DMAX>(vs, row_ptr<T>(a.v, pl, 0), a.v.st, j0, a.T, a.D);
    load_vec<T, TILE>(bs, bias, j0, a.T);
    __syncthreads();
    const int jn = a.T - j0 < TILE ? (int)(a.T - j0) : TILE;
    for (int jj = 0; jj < jn; ++jj) {
      T dot = 0, dpv = 0;
#pragma unroll
      for (int e = 0; e < DPT; ++e) {
        dot += q[e] * ks[jj][pl.r + G * e];
        dpv += dout[e] * vs[jj][pl.r + G * e];
      }
      const T s = group_sum<G>(dot) * scale + bs[jj];
      dpv = group_sum<G>(dpv);                       // dout_i . v_j
      const T p = std::exp(s - lse);                 // p[i, j], recomputed
      T dp = dpv;                                    // d loss / d p[i, j]
      if (drop) dp = bits.keep(a.seed, a.offset, mask_row + (uint64_t)(j0 + jj), pf) ? dpv * kscale : (T)0;
      const T ds = p * (dp - delta);
#pragma unroll
      for (int e = 0; e < DPT; ++e) dq[e] += ds * ks[jj][pl.r + G * e];
    }
  }
  if (!active) return;
  T* dqi = row_ptr_mut<T>(g.dq, pl, i);
  for (int e = 0; e < DPT; ++e) {
    const int d = pl.r + G * e;
    if (d < a.D) dqi[d] = dq[e] * scale;
  }
}

// backward, part 2: dk, dv (B,H,T,D) and dbias_bh (B,H,T). One row group per key row j;
// Q, dout, lse and delta stream through shared memory.
//   dv_j = sum_i pd[i, j] dout_i;  dk_j = scale sum_i ds[i, j] q_i;  dbias_bh[j] = sum_i ds[i, j]
template <typename T, int DMAX>
__global__ void attention_backward_dkv_kernel(AttnArgs a, AttnGrads g) {
  using Tl = AttnTiling<T, DMAX>;
  constexpr int G = Tl::G, DPT = Tl::DPT, TILE = Tl::TILE;
  __shared__ T qs[TILE][DMAX], dos[TILE][DMAX], lses[TILE], deltas[TILE];
  const AttnPlace pl = attn_place<G, Tl::ROWS>(a.T, a.H);
  const int64_t j = pl.row;
  const bool active = j < a.T;
  const int64_t jc = active ? j : 0;
  const T bj = (active && a.bias) ? static_cast<const T*>(a.bias)[pl.b * a.bias_sb + j] : (T)0;

  T k[DPT], v[DPT], dk[DPT], dv[DPT];
  const T* kj = row_ptr<T>(a.k, pl, jc);
  const T* vj = row_ptr<T>(a.v, pl, jc);
  for (int e = 0; e < DPT; ++e) {
    const int d = pl.r + G * e;
    const bool in = active && d < a.D;
    k[e] = in ? kj[d] : (T)0;
    v[e] = in ? vj[d] : (T)0;
    dk[e] = dv[e] = 0;
  }
  T db = 0;
  const T scale = (T)a.scale, kscale = (T)keep_scale(a.p);
  const bool drop = a.p > 0;
  const float pf = (float)a.p;
  const T* lse = static_cast<const T*>(a.lse) + pl.bh * a.T;
  const T* delta = static_cast<const T*>(g.delta) + pl.bh * a.T;

  for (int64_t i0 = 0; i0 < a.T; i0 += TILE) {
    __syncthreads();
    load_tile<T, TILE, DMAX>(qs, row_ptr<T>(a.q, pl, 0), a.q.st, i0, a.T, a.D);
    load_tile<T, TILE, DMAX>(dos, row_ptr<T>(g.dout, pl, 0), g.dout.st, i0, a.T, a.D);
    load_vec<T, TILE>(lses, lse, i0, a.T);
    load_vec<T, TILE>(deltas, delta, i0, a.T);
    __syncthreads();
    const int in_ = a.T - i0 < TILE ? (int)(a.T - i0) : TILE;
    for (int ii = 0; ii < in_; ++ii) {
      T dot = 0, dpv = 0;
#pragma unroll
      for (int e = 0; e < DPT; ++e) {
        dot += qs[ii][pl.r + G * e] * k[e];
        dpv += dos[ii][pl.r + G * e] * v[e];
      }
      const T s = group_sum<G>(dot) * scale + bj;
      dpv = group_sum<G>(dpv);
      const T p = std::exp(s - lses[ii]);
      // the mask walks down a column here (index stride T), so each element is its own Philox call
      const bool kept = !drop || dropout_keep(a.seed, a.offset, ((uint64_t)pl.bh * a.T + (uint64_t)(i0 + ii)) * a.T + j, pf);
      const T pd = kept ? p * kscale : (T)0;    // the dropped-out probability
      const T dp = kept ? dpv * kscale : (T)0;
      const T ds = p * (dp - deltas[ii]);
#pragma unroll
      for (int e = 0; e < DPT; ++e) {
        dv[e] += pd * dos[ii][pl.r + G * e];
        dk[e] += ds * qs[ii][pl.r + G * e];
      }
      db += ds;
    }
  }
  if (!active) return;
  T* dkj = row_ptr_mut<T>(g.dk, pl, j);
  T* dvj = row_ptr_mut<T>(g.dv, pl, j);
  for (int e = 0; e < DPT; ++e) {
    const int d = pl.r + G * e;
    if (d < a.D) {
      dkj[d] = dk[e] * scale;
      dvj[d] = dv[e];
    }
  }
  if (g.dbias_bh && pl.r == 0) static_cast<T*>(g.dbias_bh)[pl.bh * a.T + j] = db;
}

// ---------------------------------------------------------------------------------------
// launchers

// Calls f(std::integral_constant<int, DMAX>{}) with the smallest supported DMAX >= D.
template <typename F>
static void dispatch_head_dim(int64_t D, F&& f) {
  if (D <= 32) f(std::integral_constant<int, 32>{});
  else if (D <= 64) f(std::integral_constant<int, 64>{});
  else if (D <= kAttentionMaxHeadDim) f(std::integral_constant<int, 128>{});
  else fail("scaled_dot_product_attention: head size " + std::to_string(D) + " exceeds the CUDA kernel's " +
            std::to_string(kAttentionMaxHeadDim));
}

// blocks for B*H heads of T rows, ROWS rows per block
static unsigned attention_blocks(const AttnArgs& a, int rows) {
  const int64_t blocks = a.B * a.H * ((a.T + rows - 1) / rows);
  if (blocks > INT_MAX) fail("scaled_dot_product_attention: " + std::to_string(blocks) + " blocks exceed one grid");
  return (unsigned)blocks;
}

void attention_forward(DType t, const AttnArgs& a) {
  if (a.B * a.H * a.T == 0) return;
  dispatch_float(t, "scaled_dot_product_attention", [&](auto tag) {
    using T = decltype(tag);
    dispatch_head_dim(a.D, [&](auto dmax) {
      using Tl = AttnTiling<T, decltype(dmax)::value>;
      attention_forward_kernel<T, decltype(dmax)::value><<<attention_blocks(a, Tl::ROWS), Tl::kBlock, 0, stream()>>>(a);
      CUDA_CHECK_LAUNCH();
    });
  });
}

void attention_backward(DType t, const AttnArgs& a, const AttnGrads& g) {
  if (a.B * a.H * a.T == 0) return;
  dispatch_float(t, "scaled_dot_product_attention backward", [&](auto tag) {
    using T = decltype(tag);
    dispatch_head_dim(a.D, [&](auto dmax) {
      using Tl = AttnTiling<T, decltype(dmax)::value>;
      const unsigned blocks = attention_blocks(a, Tl::ROWS);
      // dq first: it writes delta, which the dk/dv kernel reads
      attention_backward_dq_kernel<T, decltype(dmax)::value><<<blocks, Tl::kBlock, 0, stream()>>>(a, g);
      CUDA_CHECK_LAUNCH();
      attention_backward_dkv_kernel<T, decltype(dmax)::value><<<blocks, Tl::kBlock, 0, stream()>>>(a, g);
      CUDA_CHECK_LAUNCH();
    });
  });
}

}  // namespace bertlab::cuda
