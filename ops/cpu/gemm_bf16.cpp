// ops/cpu/gemm_bf16.cpp — see gemm_bf16.h.
//
// Each product is cut into blocks of 32 x 32 of C. A block is computed whole (all of K) into a
// small float32 buffer, then written to C with alpha and beta, so the kernels never read C and
// the edges (M, N not multiples of 32) need no special code: the packed operands are padded
// with zeros and only the block's valid part is written. The blocks are shared out between
// the OpenMP threads with the column blocks outermost, so consecutive blocks of a thread reuse
// the same two B panels while A's rows pass over them. A batch of small products (attention's
// heads) is shared out one product per thread instead, each packed into the thread's own
// buffers.
#include "ops/cpu/gemm_bf16.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <omp.h>

#include "autograd/tensor.h"
#include "ops/cpu/cpu_features.h"
#include "ops/cpu/gemm.h"
#include "ops/cpu/vec_math.h"

namespace bertlab::cpu {

const char* bf16_gemm_name(Bf16Gemm k) {
  switch (k) {
    case Bf16Gemm::Fp32: return "fp32";
    case Bf16Gemm::Avx512Bf16: return "avx512_bf16";
    case Bf16Gemm::Amx: return "amx";
  }
  return "?";
}

bool bf16_gemm_available(Bf16Gemm k) {
  const CpuFeatures& f = cpu_features();
  switch (k) {
    case Bf16Gemm::Fp32: return true;
    case Bf16Gemm::Avx512Bf16: return f.avx512_bf16;
    case Bf16Gemm::Amx: return f.amx_bf16 && f.avx512f;
  }
  return false;
}

Bf16Gemm parse_bf16_gemm(const std::string& v) {
  if (v.empty() || v == "auto") {
    for (Bf16Gemm k : {Bf16Gemm::Amx, Bf16Gemm::Avx512Bf16})
      if (bf16_gemm_available(k)) return k;
    return Bf16Gemm::Fp32;
  }
  for (Bf16Gemm k : {Bf16Gemm::Amx, Bf16Gemm::Avx512Bf16, Bf16Gemm::Fp32})
    if (v == bf16_gemm_name(k)) {
      if (!bf16_gemm_available(k))
        fail("BERTLAB_BF16_GEMM is \"" + v + "\", but this processor cannot run it (this CPU: " +
             cpu_features_str() + ")");
      return k;
    }
  fail("BERTLAB_BF16_GEMM is \"" + v.substr(0, 40) +
       "\": expected auto, amx, avx512_bf16 or fp32 (the bf16 GEMM kernels of this build; this CPU: " +
       cpu_features_str() + ")");
}

static std::atomic<int> g_forced{-1};

Bf16Gemm bf16_gemm_kernel() {
  const int forced = g_forced.load(std::memory_order_relaxed);
  if (forced >= 0) return (Bf16Gemm)forced;
  static const Bf16Gemm k = [] {
    const char* v = std::getenv("BERTLAB_BF16_GEMM");
    return parse_bf16_gemm(v ? v : "");
  }();
  return k;
}

void set_bf16_gemm_kernel(Bf16Gemm k) {
  if (!bf16_gemm_available(k))
    fail(std::string("bf16 GEMM kernel ") + bf16_gemm_name(k) + " is not available on this CPU (" +
         cpu_features_str() + ")");
  g_forced.store((int)k, std::memory_order_relaxed);
}

namespace {

constexpr int64_t kBlock = 32;  // C is computed in blocks of 32 x 32

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

uint16_t bits_of(float v) { return float_to_bf16_bits(v); }
uint16_t bits_of(bfloat16 v) { return v.bits; }

// ---- packing ----------------------------------------------------------------------------

// ---- vector helpers (AVX-512, which both bfloat16 kernels need anyway) -------------------
//
// bits16(s): 16 values as bfloat16 bits, one per 32-bit lane (low half), rounded as
// float_to_bf16_bits does (nearest, ties to even, NaN quieted). pairs16(r0, r1): lane i holds
// the pair (r0[i], r1[i]) as the kernels read it, r0's value in the low half: the packed B
// stores each column's pair of rows this way, and the tiled A each row's pair of columns.
#if defined(__x86_64__)
#define BL_AVX512 __attribute__((target("avx512f")))
BL_AVX512 inline __m512i bits16(const float* s) {
  const __m512i u = _mm512_loadu_si512(s);
  const __m512i hi = _mm512_srli_epi32(u, 16);
  const __m512i bias = _mm512_add_epi32(_mm512_and_si512(hi, _mm512_set1_epi32(1)), _mm512_set1_epi32(0x7fff));
  const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, bias), 16);
  const __mmask16 nan =
      _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
  return _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(hi, _mm512_set1_epi32(0x40)));
}
BL_AVX512 inline __m512i bits16(const bfloat16* s) {
  return _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s)));
}
template <typename T>
BL_AVX512 inline __m512i pairs16(const T* r0, const T* r1) {
  return _mm512_or_si512(bits16(r0), _mm512_slli_epi32(bits16(r1), 16));
}
// 32 consecutive values as 32 bfloat16 bits in one register (lane i: the pair s[2i], s[2i+1]),
// built in registers (through memory, the 64-byte reload of two 32-byte stores stalls)
template <typename T>
BL_AVX512 inline __m512i bits32(const T* s) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(bits16(s))),
                            _mm512_cvtepi32_epi16(bits16(s + 16)), 1);
}
// the 16 lanes of v to base[i * stride] (stride in 32-bit units)
BL_AVX512 inline void scatter16(uint32_t* base, int stride, __m512i v) {
  const __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                         _mm512_set1_epi32(stride));
  _mm512_i32scatter_epi32(base, idx, v, 4);
}
#else
#define BL_AVX512
#endif

// The packed A is tiled: block mb (rows 32 mb .. 32 mb + 31) holds, for each step kb of 32
// along K, the 32 rows' 32 values (32 x 64 bytes, two AMX tiles of 16 rows) contiguously, so a
// tile load reads 1 KiB in one stream. Row m's values k .. k+31 (k a multiple of 32) start at
// a_row(m) + k * 32; consecutive rows of a block are 32 values (64 bytes) apart.
uint16_t* a_row(uint16_t* dst, int64_t Kp, int64_t m) { return dst + (m / 32) * 32 * Kp + (m % 32) * 32; }
int64_t a_col(int64_t k) { return (k >> 5) * 1024 + (k & 31); }

// Rows [r0, r1) of the packed A (Mp x Kp), r0 and r1 multiples of 16:
// A(m, k) = trans ? src[k*ld + m] : src[m*ld + k]. Padding (m >= M or k >= K) is zeros.
// dst holds the packed rows from row0 on (a multiple of 32): a whole A, or one chunk of it.
template <typename T>
BL_AVX512 void pack_a_rows(const T* src, bool trans, int64_t ld, int64_t M, int64_t K, int64_t Kp, uint16_t* dst,
                           int64_t r0, int64_t r1, int64_t row0 = 0) {
  if (!trans) {
    for (int64_t m = r0; m < r1; ++m) {
      uint16_t* d = a_row(dst, Kp, m - row0);
      for (int64_t k = 0; k < Kp; k += 32) {
        uint16_t* dk = d + k * 32;
        const int64_t n = m < M ? std::clamp<int64_t>(K - k, 0, 32) : 0;
        const T* s = src + m * ld + k;
#if defined(__x86_64__)
        if (n == 32) {
          _mm512_storeu_si512(dk, bits32(s));
          continue;
        }
#endif
        for (int64_t i = 0; i < n; ++i) dk[i] = bits_of(s[i]);
        for (int64_t i = n; i < 32; ++i) dk[i] = 0;
      }
    }
    return;
  }
  // Transposed: stored row k holds A's column k, rows m contiguous. 16 rows at a time: a pair of
  // stored rows (k, k+1) gives 16 rows' pairs, one 32-bit lane each, scattered 64 bytes apart.
  for (int64_t m0 = r0; m0 < r1; m0 += 16) {
    const int64_t mv = std::clamp<int64_t>(M - m0, 0, 16);  // rows of this group that exist
    for (int64_t i = 0; i < 16; ++i) {  // zeros: rows past M (all k), and k past K
      uint16_t* d = a_row(dst, Kp, m0 + i - row0);
      for (int64_t k = i < mv ? K : 0; k < Kp; ++k) d[a_col(k)] = 0;
    }
    if (mv == 0) continue;
    int64_t k = 0;
#if defined(__x86_64__)
    if (mv == 16)
      for (; k + 1 < K; k += 2)
        scatter16(reinterpret_cast<uint32_t*>(a_row(dst, Kp, m0 - row0) + a_col(k)), 16,
                  pairs16(src + k * ld + m0, src + (k + 1) * ld + m0));
#endif
    for (; k < K; ++k)
      for (int64_t i = 0; i < mv; ++i) a_row(dst, Kp, m0 + i - row0)[a_col(k)] = bits_of(src[k * ld + m0 + i]);
  }
}

// Panels [p0, p1) of the packed B (gemm_bf16.h): B(k, n) = trans ? src[n*ld + k] : src[k*ld + n].
template <typename T>
BL_AVX512 void pack_b_panels(const T* src, bool trans, int64_t ld, int64_t K, int64_t N, int64_t Kp, uint16_t* dst,
                             int64_t p0, int64_t p1) {
  const int64_t K2 = Kp / 2;
  for (int64_t p = p0; p < p1; ++p) {
    uint16_t* P = dst + p * K2 * 32;
    const int64_t nv = std::clamp<int64_t>(N - 16 * p, 0, 16);  // columns of this panel that exist
    if (trans) {
      // stored row n is column n of B, k contiguous: 32 values of it are 16 pairs, one for
      // each of 16 panel rows kk, scattered 64 bytes apart
      for (int64_t j = 0; j < 16; ++j) {
        const int64_t n = 16 * p + j;
        int64_t k = 0;
        if (j < nv) {
          const T* s = src + n * ld;
#if defined(__x86_64__)
          for (; k + 32 <= K; k += 32)
            scatter16(reinterpret_cast<uint32_t*>(P + (k >> 1) * 32 + 2 * j), 16, bits32(s + k));
#endif
          for (; k < K; ++k) P[(k >> 1) * 32 + 2 * j + (k & 1)] = bits_of(s[k]);
        }
        for (; k < Kp; ++k) P[(k >> 1) * 32 + 2 * j + (k & 1)] = 0;
      }
      continue;
    }
    // stored row k is row k of B: two rows give a whole panel row kk (16 pairs, 64 bytes)
    for (int64_t kk = 0; kk < K2; ++kk) {
      uint16_t* d = P + kk * 32;
      const int64_t k = 2 * kk;
#if defined(__x86_64__)
      if (nv == 16 && k + 1 < K) {
        _mm512_storeu_si512(d, pairs16(src + k * ld + 16 * p, src + (k + 1) * ld + 16 * p));
        continue;
      }
#endif
      for (int64_t e = 0; e < 2; ++e) {
        const T* s = src + (k + e) * ld + 16 * p;
        const int64_t valid = k + e < K ? nv : 0;
        for (int64_t j = 0; j < 16; ++j) d[2 * j + e] = j < valid ? bits_of(s[j]) : 0;
      }
    }
  }
}

// ---- the block kernels: one 32 x 32 block of C (all of K) into buf (32 x 32 float32) -----

// Where the AMX kernel finds A's tiles. Packed (tiled, above): row block mb at p + mb * 32 Kp,
// its tile rows 64 bytes apart, step k at k * 32, rows 16-31 at + 512. Direct: a row-major
// bfloat16 A read in place, no packing (tileloadd takes a row stride): row block mb at
// p + mb * 32 lda, rows lda * 2 bytes apart, step k at k, rows 16-31 at + 16 lda. Direct needs
// K a multiple of 32 (a tile row is 32 values) and 32 whole rows per block.
struct AView {
  const uint16_t* p;
  int64_t block, kmul, half, stride;  // elements, elements, elements, bytes
  static AView tiled(const uint16_t* p, int64_t Kp) { return {p, 32 * Kp, 32, 512, 64}; }
  static AView direct(const uint16_t* p, int64_t lda) { return {p, 32 * lda, 1, 16 * lda, 2 * lda}; }
};

#if defined(__x86_64__)
// The AMX instructions, written out rather than taken from GCC 12's <amxtileintrin.h>: its
// _tile_loadconfig tells the compiler it reads 8 bytes of the 64-byte configuration (so the
// compiler may drop the stores that fill the rest: a #GP on ldtilecfg), and its _tile_loadd
// does not say it reads memory at all (so stores into a packed buffer could be moved past it).
#define BL_TILE_ZERO(t) __asm__ volatile("tilezero %%tmm" #t ::)
#define BL_TILE_LOAD(t, base, stride) \
  __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #t ::"r"((const void*)(base)), "r"((long)(stride)) : "memory")
#define BL_TILE_STORE(t, base, stride) \
  __asm__ volatile("tilestored %%tmm" #t ", (%0,%1,1)" ::"r"((void*)(base)), "r"((long)(stride)) : "memory")
// tmm c += tmm a (16 rows x 32 bfloat16) times tmm b (16 pairs x 16 columns), float32 sums
#define BL_TILE_DPBF16(c, a, b) __asm__ volatile("tdpbf16ps %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::)

// The tile configuration (palette 1): eight tiles of 16 rows x 64 bytes, i.e. tmm0-3 hold
// 16 x 16 float32 of C, tmm4-5 16 x 32 bfloat16 of A, tmm6-7 16 pairs x 16 columns of B.
struct alignas(64) TileConfig {
  uint8_t palette_id = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

__attribute__((target("amx-tile,amx-bf16"))) void amx_begin() {
  TileConfig c;
  for (int i = 0; i < 8; ++i) {
    c.rows[i] = 16;
    c.colsb[i] = 64;
  }
  __asm__ volatile("ldtilecfg %0" ::"m"(c));
}
__attribute__((target("amx-tile"))) void amx_end() { __asm__ volatile("tilerelease" ::: "memory"); }


// The AMX driver for large products, blocked for the caches: rows in chunks of kChunkM
// (the chunk's packed A, up to kChunkM x Kp, stays in L2 while this thread's column blocks pass
// over it) and K in steps of kChunkK (one column block's two B panels over kChunkK, 16 KiB, stay
// in L1 while the chunk's row blocks pass under them). The partial sums of the chunk's blocks
// wait in cbuf (kChunkM x 32 float32) between K steps, loaded into and stored from the C tiles.
constexpr int64_t kChunkM = 256;
constexpr int64_t kChunkK = 256;
__attribute__((target("amx-tile,amx-bf16"))) void amx_chunk(const AView& A, int64_t Kp, const uint16_t* B0,
                                                             const uint16_t* B1, int64_t mblocks, float* cbuf) {
  for (int64_t k0 = 0; k0 < Kp; k0 += kChunkK) {
    const int64_t k1 = std::min(Kp, k0 + kChunkK);
    for (int64_t mb = 0; mb < mblocks; ++mb) {
      const uint16_t* a = A.p + mb * A.block;
      float* c = cbuf + mb * 32 * 32;
      if (k0 == 0) {
        BL_TILE_ZERO(0);
        BL_TILE_ZERO(1);
        BL_TILE_ZERO(2);
        BL_TILE_ZERO(3);
      } else {
        BL_TILE_LOAD(0, c, 128);
        BL_TILE_LOAD(1, c + 16, 128);
        BL_TILE_LOAD(2, c + 16 * 32, 128);
        BL_TILE_LOAD(3, c + 16 * 32 + 16, 128);
      }
      for (int64_t k = k0; k < k1; k += 32) {
        // each load just before the first multiply that needs it, so that it overlaps the
        // multiplies already issued (the tile registers are not renamed: a load into tmm4
        // waits until the multiplies reading the old tmm4 are done)
        BL_TILE_LOAD(4, a + k * A.kmul, A.stride);
        BL_TILE_LOAD(6, B0 + k * 16, 64);
        BL_TILE_DPBF16(0, 4, 6);
        BL_TILE_LOAD(7, B1 + k * 16, 64);
        BL_TILE_DPBF16(1, 4, 7);
        BL_TILE_LOAD(5, a + k * A.kmul + A.half, A.stride);
        BL_TILE_DPBF16(2, 5, 6);
        BL_TILE_DPBF16(3, 5, 7);
      }
      BL_TILE_STORE(0, c, 128);
      BL_TILE_STORE(1, c + 16, 128);
      BL_TILE_STORE(2, c + 16 * 32, 128);
      BL_TILE_STORE(3, c + 16 * 32 + 16, 128);
    }
  }
}

// The same block with vdpbf16ps: rows in strips of 8, each strip's 8 x 32 sums in 16 zmm
// registers. Per pair of k: two loads of B (one per panel), and for each row one broadcast of
// its pair (A[m][2kk], A[m][2kk+1]) and two dot products. `rows`: the block's rows that exist.
__attribute__((target("avx512f,avx512bf16"))) void avx512_block(const uint16_t* A, int64_t Kp, const uint16_t* B0,
                                                                 const uint16_t* B1, float* buf, int64_t rows) {
  for (int64_t r0 = 0; r0 < rows; r0 += 8) {
    __m512 c[8][2];
    for (int i = 0; i < 8; ++i) c[i][0] = c[i][1] = _mm512_setzero_ps();
    const uint16_t* a = A + r0 * 32;  // (tiled A: row r's pair kk at r * 32 + (kk / 16) * 1024 + (kk % 16) * 2)
    for (int64_t kk = 0; kk < Kp / 2; ++kk) {
      const __m512bh b0 = (__m512bh)_mm512_loadu_si512(B0 + kk * 32);
      const __m512bh b1 = (__m512bh)_mm512_loadu_si512(B1 + kk * 32);
      for (int i = 0; i < 8; ++i) {
        int32_t pair;
        std::memcpy(&pair, a + i * 32 + (kk >> 4) * 1024 + (kk & 15) * 2, 4);
        const __m512bh ai = (__m512bh)_mm512_set1_epi32(pair);
        c[i][0] = _mm512_dpbf16_ps(c[i][0], ai, b0);
        c[i][1] = _mm512_dpbf16_ps(c[i][1], ai, b1);
      }
    }
    for (int i = 0; i < 8; ++i) {
      _mm512_storeu_ps(buf + (r0 + i) * 32, c[i][0]);
      _mm512_storeu_ps(buf + (r0 + i) * 32 + 16, c[i][1]);
    }
  }
}
#else
void amx_begin() {}
void amx_end() {}
constexpr int64_t kChunkM = 256;
void amx_chunk(const AView&, int64_t, const uint16_t*, const uint16_t*, int64_t, float*) { fail("amx: not x86-64"); }
void avx512_block(const uint16_t*, int64_t, const uint16_t*, const uint16_t*, float*, int64_t) {
  fail("avx512_bf16: not x86-64");
}
#endif

// Where a product's blocks are written and what is done to them on the way (Bf16Result):
// C = act(alpha * sums + beta * C + bias), C float32 or bfloat16. at(r, c): the same from
// row r, column c on.
struct Out {
  float alpha = 1, beta = 0;
  void* C = nullptr;
  int64_t ldc = 0;
  bool bf16 = false;
  const float* bias = nullptr;
  Epilogue act = Epilogue::None;
  Out at(int64_t r, int64_t c) const {
    Out o = *this;
    const int64_t off = r * ldc + c;
    o.C = bf16 ? (void*)(static_cast<uint16_t*>(C) + off) : (void*)(static_cast<float*>(C) + off);
    if (bias) o.bias = bias + c;
    return o;
  }
};

// One row of a block through the epilogue: plain loops on 512-bit vectors (GCC's default for
// -march=native on these processors is 256), GELU through verf as the gelu op computes it.
template <bool GELU, typename T>
__attribute__((target("prefer-vector-width=512"))) inline void write_row(const float* b, int64_t cols, float alpha,
                                                                          float beta, const float* bias, T* c) {
  auto act = [](float x) { return GELU ? 0.5f * x * (1.0f + verf(x * 0.7071067811865476f)) : x; };
  auto load = [](const T& v) {
    if constexpr (std::is_same_v<T, float>) return v;
    else return bf16_bits_to_float(v);
  };
  auto store = [](T& dst, float x) {
    if constexpr (std::is_same_v<T, float>) dst = x;
    else dst = float_to_bf16_bits(x);
  };
  if (beta == 0.0f) {  // C is not read (it may hold anything)
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) store(c[j], act(alpha * b[j] + bias[j]));
  } else {
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) store(c[j], act(alpha * b[j] + beta * load(c[j]) + bias[j]));
  }
}

// C's block (rows x cols valid) from the block of sums in buf (rows kBlock apart).
void write_block(const float* buf, int64_t rows, int64_t cols, const Out& o) {
  alignas(64) static const float zeros[kBlock] = {};
  const float* bias = o.bias ? o.bias : zeros;
  const bool gelu = o.act == Epilogue::GeluErf;
  for (int64_t i = 0; i < rows; ++i) {
    const float* b = buf + i * kBlock;
    if (o.bf16) {
      uint16_t* c = static_cast<uint16_t*>(o.C) + i * o.ldc;
      gelu ? write_row<true>(b, cols, o.alpha, o.beta, bias, c) : write_row<false>(b, cols, o.alpha, o.beta, bias, c);
    } else {
      float* c = static_cast<float*>(o.C) + i * o.ldc;
      gelu ? write_row<true>(b, cols, o.alpha, o.beta, bias, c) : write_row<false>(b, cols, o.alpha, o.beta, bias, c);
    }
  }
}

// One product from packed operands: blocks [i0, i1) of the (Np/32) x (Mp/32) grid, column
// blocks outermost. The calling thread has loaded the tile configuration (AMX).
struct Packed {
  const uint16_t* b;  // Np/16 panels of Kp/2 x 32
  int64_t M, N, Kp;
};
void run_blocks(Bf16Gemm kernel, const AView& A, const Packed& p, const Out& out,
                int64_t i0, int64_t i1) {
  alignas(64) float buf[kBlock * kBlock];  // (aligned: see Workspace)
  const int64_t mblocks = round_up(p.M, kBlock) / kBlock, K2 = p.Kp / 2;
  for (int64_t i = i0; i < i1; ++i) {
    const int64_t nb = i / mblocks, mb = i % mblocks;
    AView a = A;  // (avx512_block reads only the tiled form)
    a.p += mb * A.block;
    const uint16_t* b0 = p.b + (2 * nb) * K2 * 32;
    const uint16_t* b1 = b0 + K2 * 32;
    const int64_t rows = std::min(kBlock, p.M - mb * kBlock), cols = std::min(kBlock, p.N - nb * kBlock);
    if (kernel == Bf16Gemm::Amx)
      amx_chunk(a, p.Kp, b0, b1, 1, buf);  // one block: buf is amx_chunk's cbuf for one row block
    else
      avx512_block(a.p, p.Kp, b0, b1, buf, rows);
    write_block(buf, rows, cols, out.at(mb * kBlock, nb * kBlock));
  }
}

// AMX over column blocks [n0, n1) of one product, all rows, chunked (amx_chunk); A whole.
void run_amx_columns(const AView& A, const Packed& p, const Out& out, int64_t n0,
                     int64_t n1) {
  alignas(64) static thread_local float cbuf_store[kChunkM * kBlock];
  float* cbuf = cbuf_store;
  const int64_t K2 = p.Kp / 2, Mp = round_up(p.M, kBlock);
  for (int64_t m0 = 0; m0 < Mp; m0 += kChunkM) {
    const int64_t mblocks = std::min(kChunkM, Mp - m0) / kBlock;
    AView a = A;
    a.p += m0 / kBlock * A.block;
    for (int64_t nb = n0; nb < n1; ++nb) {
      const uint16_t* b0 = p.b + (2 * nb) * K2 * 32;
      amx_chunk(a, p.Kp, b0, b0 + K2 * 32, mblocks, cbuf);
      const int64_t cols = std::min(kBlock, p.N - nb * kBlock);
      for (int64_t mb = 0; mb < mblocks; ++mb) {
        const int64_t r = m0 + mb * kBlock, rows = std::min(kBlock, p.M - r);
        write_block(cbuf + mb * kBlock * kBlock, rows, cols, out.at(r, nb * kBlock));
      }
    }
  }
}

// A thread's packing buffers, kept between calls (no allocation or page faults per product)
// and 64-byte aligned: a tile row that straddles two cache lines makes tileloadd several
// times slower (measured: 4 tile loads from L1 took 72 ns at a 16-byte offset, 11 ns aligned).
struct Workspace {
  uint16_t* p = nullptr;
  size_t n = 0;
  Workspace() = default;
  Workspace(const Workspace&) = delete;
  ~Workspace() { std::free(p); }
  uint16_t* get(size_t count) {
    if (count > n) {
      std::free(p);
      p = static_cast<uint16_t*>(std::aligned_alloc(64, (count * 2 + 63) / 64 * 64));
      if (!p) fail("gemm_bf16: out of memory for a " + std::to_string(count * 2) + "-byte packing buffer");
      n = count;
    }
    return p;
  }
};
thread_local Workspace tl_a, tl_b, tl_chunk;

// AMX over rows [r0, r1) (multiples of 32) of one product, all column blocks, for a large M:
// each chunk of kChunkM rows is packed by this thread into its own buffer (tl_chunk) just
// before its column blocks run, so the packed rows are read back from L2, not written out to
// memory and read again. Row blocks wholly inside a direct A (A.p set) are read in place.
// pack(dst, m0, m1, row0): rows [m0, m1) of the packed A into dst, which starts at row row0.
template <typename PackRows>
void run_amx_rows(const AView* direct, PackRows&& pack, const Packed& p, const Out& out, int64_t r0, int64_t r1) {
  alignas(64) static thread_local float cbuf_store[kChunkM * kBlock];
  float* cbuf = cbuf_store;
  const int64_t K2 = p.Kp / 2, nblocks = round_up(p.N, kBlock) / kBlock, whole = p.M / kBlock * kBlock;
  for (int64_t m0 = r0; m0 < r1; m0 += kChunkM) {
    const int64_t m1 = std::min(r1, m0 + kChunkM), mblocks = (m1 - m0) / kBlock;
    AView a;
    if (direct && m1 <= whole) {
      a = *direct;
      a.p += m0 / kBlock * direct->block;
    } else {
      uint16_t* buf = tl_chunk.get((size_t)(kChunkM * p.Kp));
      pack(buf, m0, m1, m0);
      a = AView::tiled(buf, p.Kp);
    }
    for (int64_t nb = 0; nb < nblocks; ++nb) {
      const uint16_t* b0 = p.b + (2 * nb) * K2 * 32;
      amx_chunk(a, p.Kp, b0, b0 + K2 * 32, mblocks, cbuf);
      const int64_t cols = std::min(kBlock, p.N - nb * kBlock);
      for (int64_t mb = 0; mb < mblocks; ++mb) {
        const int64_t r = m0 + mb * kBlock, rows = std::min(kBlock, p.M - r);
        if (rows <= 0) break;
        write_block(cbuf + mb * kBlock * kBlock, rows, cols, out.at(r, nb * kBlock));
      }
    }
  }
}

int64_t num_blocks(int64_t M, int64_t N) { return (round_up(M, kBlock) / kBlock) * (round_up(N, kBlock) / kBlock); }

template <typename F>
void dispatch_elem(const Bf16Operand& x, F&& f) {
  if (x.bf16)
    f(static_cast<const bfloat16*>(x.data));
  else
    f(static_cast<const float*>(x.data));
}

int64_t where(const Bf16Operand& x, int64_t b) { return x.offsets ? x.offsets[b] : b * x.stride; }

// The bfloat16 kernels on one or more products; packed_b: B already packed (batch 1 only).
void gemm_kernel(Bf16Gemm kernel, int64_t M, int64_t N, int64_t K, const Bf16Operand& A, const Bf16Operand* B,
                 const uint16_t* packed_b, const Out& out, int64_t stride_c,
                 const int64_t* c_off, int64_t batch) {
  const int64_t Kp = round_up(K, 32), Mp = round_up(M, kBlock), Np = round_up(N, kBlock);
  const double work = (double)batch * Mp * Np * Kp;
  const bool amx = kernel == Bf16Gemm::Amx;
  auto pack_a = [&](int64_t b, uint16_t* dst, int64_t r0, int64_t r1) {
    dispatch_elem(A, [&](auto* src) { pack_a_rows(src + where(A, b), A.trans, A.ld, M, K, Kp, dst, r0, r1); });
  };
  auto pack_b = [&](int64_t b, uint16_t* dst, int64_t p0, int64_t p1) {
    dispatch_elem(*B, [&](auto* src) { pack_b_panels(src + where(*B, b), B->trans, B->ld, K, N, Kp, dst, p0, p1); });
  };
  auto c_at = [&](int64_t b) {  // the batch's C matrices (float32, no bias: gemm_bf16)
    Out o = out;
    o.C = static_cast<float*>(out.C) + (c_off ? c_off[b] : b * stride_c);
    return o;
  };

  if (batch == 1) {
    // A read in place by the AMX kernel: bfloat16, row-major, K a multiple of 32 (AView)
    const bool direct = amx && A.bf16 && !A.trans && K % 32 == 0;
    const AView dview = AView::direct(direct ? static_cast<const uint16_t*>(A.data) + where(A, 0) : nullptr, A.ld);
    const int nt_max = work > 4e6 ? omp_get_max_threads() : 1;
    // Large M: the threads split the rows, each packing its chunks as it goes (run_amx_rows).
    // Otherwise they split the column blocks (each thread reads only its part of B, which is
    // what costs at small M) over an A packed beforehand by all of them (unless direct).
    const bool by_rows = amx && Mp >= nt_max * kChunkM;
    const bool pack_all = !by_rows && !(direct && M % kBlock == 0);
    uint16_t* ap = pack_all ? tl_a.get((size_t)(Mp * Kp)) : nullptr;
    uint16_t* bp = packed_b ? nullptr : tl_b.get((size_t)(Np * Kp));
    const Packed p{packed_b ? packed_b : bp, M, N, Kp};
    const int64_t blocks = num_blocks(M, N);
#pragma omp parallel if (work > 4e6)
    {
      if (pack_all) {
#pragma omp for schedule(static) nowait
        for (int64_t r = 0; r < Mp; r += 16) pack_a(0, ap, r, r + 16);
      }
      if (!packed_b) {
#pragma omp for schedule(static) nowait
        for (int64_t q = 0; q < Np / 16; ++q) pack_b(0, bp, q, q + 1);
      }
#pragma omp barrier
      const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
      const int64_t nblocks = Np / kBlock;
      if (by_rows) {
        const int64_t per = round_up((Mp + nt - 1) / nt, kBlock);
        const int64_t r0 = std::min(Mp, per * t), r1 = std::min(Mp, per * (t + 1));
        auto pack_rows = [&](uint16_t* dst, int64_t m0, int64_t m1, int64_t row0) {
          dispatch_elem(A, [&](auto* src) { pack_a_rows(src + where(A, 0), A.trans, A.ld, M, K, Kp, dst, m0, m1, row0); });
        };
        amx_begin();
        run_amx_rows(direct ? &dview : nullptr, pack_rows, p, out, r0, r1);
        amx_end();
      } else if (amx && nblocks >= nt) {  // each thread its own column blocks, all rows
        amx_begin();
        run_amx_columns(pack_all ? AView::tiled(ap, Kp) : dview, p, out, nblocks * t / nt,
                        nblocks * (t + 1) / nt);
        amx_end();
      } else {  // contiguous ranges of blocks: a thread's blocks share B panels
        if (amx) amx_begin();
        run_blocks(kernel, pack_all ? AView::tiled(ap, Kp) : dview, p, out, blocks * t / nt,
                   blocks * (t + 1) / nt);
        if (amx) amx_end();
      }
    }
    return;
  }
#pragma omp parallel if (work > 4e6)
  {
    uint16_t* ap = tl_a.get((size_t)(Mp * Kp));
    uint16_t* bp = tl_b.get((size_t)(Np * Kp));
    if (amx) amx_begin();
#pragma omp for schedule(dynamic)
    for (int64_t b = 0; b < batch; ++b) {
      pack_a(b, ap, 0, Mp);
      pack_b(b, bp, 0, Np / 16);
      const Packed p{bp, M, N, Kp};
      run_blocks(kernel, AView::tiled(ap, Kp), p, c_at(b), 0, num_blocks(M, N));
    }
    if (amx) amx_end();
  }
}

// The fp32 kernel on the general form: each operand as a dense float32 matrix of bfloat16
// values (widened, or rounded), then one sgemm call per product (or one for the batch).
void gemm_fp32(int64_t M, int64_t N, int64_t K, double alpha, const Bf16Operand& A, const Bf16Operand& B,
               double beta, float* C, int64_t ldc, int64_t stride_c, const int64_t* c_off, int64_t batch) {
  // As stored: A is M x K (or K x M when transposed), B is K x N (or N x K).
  const int64_t ar = A.trans ? K : M, ac = A.trans ? M : K, br = B.trans ? N : K, bc = B.trans ? K : N;
  std::vector<float> a((size_t)(batch * ar * ac)), b((size_t)(batch * br * bc));
  auto dense = [](const Bf16Operand& x, int64_t i, int64_t R, int64_t Cn, float* dst) {
    dispatch_elem(x, [&](auto* src) {
      src += where(x, i);
      for (int64_t r = 0; r < R; ++r)
        for (int64_t c = 0; c < Cn; ++c) dst[r * Cn + c] = bf16_bits_to_float(bits_of(src[r * x.ld + c]));
    });
  };
#pragma omp parallel for schedule(static) if (batch * (ar * ac + br * bc) > 65536)
  for (int64_t i = 0; i < batch; ++i) {
    dense(A, i, ar, ac, a.data() + i * ar * ac);
    dense(B, i, br, bc, b.data() + i * br * bc);
  }
  if (!c_off) {
    gemm(DType::Float32, A.trans, B.trans, M, N, K, alpha, a.data(), ac, ar * ac, b.data(), bc, br * bc, beta, C,
         ldc, stride_c, batch);
    return;
  }
  std::vector<int64_t> ao(batch), bo(batch);
  for (int64_t i = 0; i < batch; ++i) {
    ao[i] = i * ar * ac;
    bo[i] = i * br * bc;
  }
  gemm(DType::Float32, A.trans, B.trans, M, N, K, alpha, a.data(), ac, ao.data(), b.data(), bc, bo.data(), beta, C,
       ldc, c_off, batch);
}

void check_sizes(const char* what, int64_t M, int64_t N, int64_t K, int64_t batch) {
  if (M < 0 || N < 0 || K < 0 || batch < 0)
    fail(std::string(what) + ": negative size M=" + std::to_string(M) + " N=" + std::to_string(N) +
         " K=" + std::to_string(K) + " batch=" + std::to_string(batch));
}

// K = 0: an empty sum, C = beta * C (C's old values are not read when beta is 0).
void scale_c(int64_t M, int64_t N, double beta, float* C, int64_t ldc, int64_t stride_c, const int64_t* c_off,
             int64_t batch) {
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float& c = C[(c_off ? c_off[b] : b * stride_c) + i * ldc + j];
        c = beta == 0 ? 0.0f : (float)(beta * c);
      }
}

}  // namespace

void gemm_bf16(int64_t M, int64_t N, int64_t K, double alpha, const Bf16Operand& A, const Bf16Operand& B,
               double beta, float* C, int64_t ldc, int64_t stride_c, const int64_t* c_offsets, int64_t batch) {
  check_sizes("gemm_bf16", M, N, K, batch);
  if (M == 0 || N == 0 || batch == 0) return;
  if (K == 0) return scale_c(M, N, beta, C, ldc, stride_c, c_offsets, batch);
  const Bf16Gemm k = bf16_gemm_kernel();
  if (k == Bf16Gemm::Fp32) return gemm_fp32(M, N, K, alpha, A, B, beta, C, ldc, stride_c, c_offsets, batch);
  Out out;
  out.alpha = (float)alpha;
  out.beta = (float)beta;
  out.C = C;
  out.ldc = ldc;
  gemm_kernel(k, M, N, K, A, &B, nullptr, out, stride_c, c_offsets, batch);
}

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const bfloat16* A,
               int64_t lda, int64_t stride_a, const bfloat16* B, int64_t ldb, int64_t stride_b, double beta,
               float* C, int64_t ldc, int64_t stride_c, int64_t batch) {
  Bf16Operand a{A, true, trans_a, lda, stride_a, nullptr}, b{B, true, trans_b, ldb, stride_b, nullptr};
  gemm_bf16(M, N, K, alpha, a, b, beta, C, ldc, stride_c, nullptr, batch);
}

Tensor pack_b_bf16(const float* B, bool trans, int64_t K, int64_t N, int64_t ld) {
  check_sizes("pack_b_bf16", 0, N, K, 1);
  const int64_t Kp = round_up(std::max<int64_t>(K, 1), 32), Np = round_up(std::max<int64_t>(N, 1), kBlock);
  Tensor out = empty({Np / 16, Kp / 2, 32}, DType::BFloat16);
  uint16_t* dst = reinterpret_cast<uint16_t*>(out.data<bfloat16>());
#pragma omp parallel for schedule(static) if (Np * Kp > 65536)
  for (int64_t q = 0; q < Np / 16; ++q) pack_b_panels(B, trans, ld, K, N, Kp, dst, q, q + 1);
  return out;
}

void gemm_bf16_packed(int64_t M, int64_t N, int64_t K, double alpha, const Bf16Operand& A, const Tensor& packed_b,
                      double beta, const Bf16Result& C) {
  check_sizes("gemm_bf16_packed", M, N, K, 1);
  const int64_t Kp = round_up(std::max<int64_t>(K, 1), 32), Np = round_up(std::max<int64_t>(N, 1), kBlock);
  if (packed_b.dtype() != DType::BFloat16 || packed_b.dim() != 3 || packed_b.size(0) != Np / 16 ||
      packed_b.size(1) != Kp / 2 || packed_b.size(2) != 32 || !packed_b.is_contiguous())
    fail("gemm_bf16_packed: packed B " + shape_str(packed_b.shape()) + " is not the packed form of a " +
         std::to_string(K) + " x " + std::to_string(N) + " matrix (pack_b_bf16)");
  const Bf16Gemm k = bf16_gemm_kernel();
  if (k == Bf16Gemm::Fp32) fail("gemm_bf16_packed: needs the amx or avx512_bf16 kernel, the kernel in use is fp32");
  if (M == 0 || N == 0) return;
  Out out;
  out.alpha = (float)alpha;
  out.beta = (float)beta;
  out.C = C.data;
  out.ldc = C.ld;
  out.bf16 = C.bf16;
  out.bias = C.bias;
  out.act = C.act;
  if (K == 0) {  // an empty sum: the epilogue on beta * C alone
    alignas(64) static const float zeros[kBlock * kBlock] = {};
    for (int64_t r = 0; r < M; r += kBlock)
      for (int64_t c = 0; c < N; c += kBlock)
        write_block(zeros, std::min(kBlock, M - r), std::min(kBlock, N - c), out.at(r, c));
    return;
  }
  gemm_kernel(k, M, N, K, A, nullptr, reinterpret_cast<const uint16_t*>(packed_b.data<bfloat16>()), out, 0, nullptr, 1);
}

void gemm_bf16_packed(int64_t M, int64_t N, int64_t K, double alpha, const Bf16Operand& A, const Tensor& packed_b,
                      double beta, float* C, int64_t ldc) {
  gemm_bf16_packed(M, N, K, alpha, A, packed_b, beta, Bf16Result{C, false, ldc});
}

#if defined(__x86_64__)
__attribute__((target("amx-tile,amx-bf16"))) static void amx_spin(int64_t iters) {
  amx_begin();
  BL_TILE_ZERO(0);
  BL_TILE_ZERO(1);
  BL_TILE_ZERO(2);
  BL_TILE_ZERO(3);
  BL_TILE_ZERO(4);
  BL_TILE_ZERO(5);
  BL_TILE_ZERO(6);
  BL_TILE_ZERO(7);
  for (int64_t i = 0; i < iters; ++i) {
    BL_TILE_DPBF16(0, 4, 6);
    BL_TILE_DPBF16(1, 4, 7);
    BL_TILE_DPBF16(2, 5, 6);
    BL_TILE_DPBF16(3, 5, 7);
  }
  amx_end();
}
#endif

double amx_peak_gflops(double seconds) {
#if defined(__x86_64__)
  if (!bf16_gemm_available(Bf16Gemm::Amx)) return 0;
  using clock = std::chrono::steady_clock;
  // calibrate on one thread, then every thread runs the same count
  int64_t iters = 10000;
  for (;;) {
    const auto t0 = clock::now();
    amx_spin(iters);
    const double s = std::chrono::duration<double>(clock::now() - t0).count();
    if (s > 0.02 || iters > (int64_t)1e9) {
      iters = std::max<int64_t>(1, (int64_t)(iters * seconds / s));
      break;
    }
    iters *= 4;
  }
  int threads = 1;
  const auto t0 = clock::now();
#pragma omp parallel
  {
#pragma omp single
    threads = omp_get_num_threads();
    amx_spin(iters);
  }
  const double s = std::chrono::duration<double>(clock::now() - t0).count();
  return (double)threads * iters * 4 * (2.0 * 16 * 16 * 32) / s * 1e-9;
#else
  (void)seconds;
  return 0;
#endif
}

}  // namespace bertlab::cpu
