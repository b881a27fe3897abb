// autograd/bfloat16.h — the bfloat16 element type: the top 16 bits of an IEEE float32.
//
//   float32   s eeeeeeee mmmmmmmmmmmmmmmmmmmmmmm    1 + 8 + 23 bits
//   bfloat16  s eeeeeeee mmmmmmm                    1 + 8 +  7 bits
//
// Same sign and exponent as float32, so the same range (about 1e-38 to 3.4e38, subnormals,
// infinities, NaN) with 8 significant bits instead of 24: a relative rounding error of at most
// 2^-9 (about 0.2%). Widening to float32 is exact (append 16 zero bits). Narrowing rounds to
// the nearest bfloat16, ties to even, as PyTorch, the AMX / AVX512-BF16 instructions
// (vcvtneps2bf16) and CUDA's __float2bfloat16_rn do; a NaN stays a NaN (quiet, sign kept).
//
// A plain struct of 16 bits with explicit conversions, usable from host code and CUDA kernels
// alike: `(float)b` widens, `bfloat16(x)` rounds. No arithmetic is defined on it: kernels widen,
// compute in float32, and round once at the end.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define BERTLAB_BF16_HD __host__ __device__ inline
#else
#define BERTLAB_BF16_HD inline
#endif

namespace bertlab {

BERTLAB_BF16_HD uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
BERTLAB_BF16_HD float bits_float(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

// float32 -> bfloat16 bits, round to nearest, ties to even. Adding 0x7fff plus the lowest
// kept bit to the 32-bit pattern carries into the kept half exactly when the dropped half is
// above one half ulp, or equal to it with the kept half odd; a carry out of the mantissa
// bumps the exponent, which is right (and turns the largest finite values into infinity,
// which is also right: they round up past bfloat16's largest finite value).
BERTLAB_BF16_HD uint16_t float_to_bf16_bits(float f) {
  uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);  // NaN: quiet it
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}
BERTLAB_BF16_HD float bf16_bits_to_float(uint16_t b) { return bits_float((uint32_t)b << 16); }

// float64 -> bfloat16 bits, rounded once (no double rounding through float32): the double is
// first narrowed to float32 with round-to-odd (truncate, then set the last bit if anything was
// dropped), which keeps enough information for the second rounding to be correct (float32 has
// 16 more bits than bfloat16, round-to-odd needs 2; Boldo & Melquiond 2008).
BERTLAB_BF16_HD uint16_t double_to_bf16_bits(double d) {
  if (d != d) return float_to_bf16_bits((float)d);  // NaN
  float f = (float)d;  // nearest float; may be above |d| in magnitude
  uint32_t u = float_bits(f);
  if ((double)f != d && (u & 0x7fffffffu) < 0x7f800000u) {  // inexact and finite
    const double af = f < 0 ? -(double)f : (double)f, ad = d < 0 ? -d : d;
    if (af > ad) u -= 1;  // step toward zero: the truncation (|f| > 0 here, so no wrap)
    u |= 1u;              // sticky bit: round-to-odd
  }
  // An overflow to infinity in (float)d happened only beyond FLT_MAX + half an ulp, far past
  // the point where bfloat16 rounds to infinity anyway.
  return float_to_bf16_bits(bits_float(u));
}

struct bfloat16 {
  uint16_t bits = 0;

  bfloat16() = default;
  BERTLAB_BF16_HD explicit bfloat16(float f) : bits(float_to_bf16_bits(f)) {}
  BERTLAB_BF16_HD explicit bfloat16(double d) : bits(double_to_bf16_bits(d)) {}
  // Integers go through double: exact up to 2^53, then rounded twice (no use of it needs more).
  BERTLAB_BF16_HD explicit bfloat16(int64_t i) : bits(double_to_bf16_bits((double)i)) {}
  BERTLAB_BF16_HD explicit bfloat16(int i) : bits(double_to_bf16_bits((double)i)) {}

  BERTLAB_BF16_HD operator float() const { return bf16_bits_to_float(bits); }

  static BERTLAB_BF16_HD bfloat16 from_bits(uint16_t b) {
    bfloat16 x;
    x.bits = b;
    return x;
  }
};
static_assert(sizeof(bfloat16) == 2, "bfloat16 is 16 bits");

// Bulk conversions (CPU): n elements, dense. Used by the autocast casts and the bf16 GEMM's
// packing; written as plain loops the compiler vectorises.
void float_to_bf16(const float* src, bfloat16* dst, int64_t n);
void bf16_to_float(const bfloat16* src, float* dst, int64_t n);

}  // namespace bertlab
