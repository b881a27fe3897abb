// autograd/bfloat16.cpp — bulk float32 <-> bfloat16 conversions (see bfloat16.h).
//
// Plain loops over the scalar conversions: at -O3 gcc turns both into vector code (the
// narrowing is an integer add, a compare for NaN and a shift, lane by lane).
#include "autograd/bfloat16.h"

namespace bertlab {

void float_to_bf16(const float* src, bfloat16* dst, int64_t n) {
  uint16_t* d = reinterpret_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = float_to_bf16_bits(src[i]);
}

void bf16_to_float(const bfloat16* src, float* dst, int64_t n) {
  const uint16_t* s = reinterpret_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_bits_to_float(s[i]);
}

}  // namespace bertlab
