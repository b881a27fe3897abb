// ops/cpu/vec_math.h — exp and erf for float32 that the compiler can vectorise.
//
// glibc's expf / erff are scalar calls, so a loop over them runs one element at a time; these
// are straight-line code (no calls, no branches: selects only) that a `#pragma omp simd` loop
// turns into AVX-512 instructions. Used where the hot loops of BERT need them: softmax,
// cross-entropy and GELU.
//
// vexp: Cody-Waite range reduction x = n ln2 + r, |r| <= ln2/2, then a degree-7 polynomial
//   for e^r (the Cephes expf coefficients), scaled by 2^n through the exponent bits.
//   Relative error about 1e-7 (1-2 ulp) on [-87.3, 88.7]; 0 below -87.3 (where expf is
//   subnormal or 0), +inf above 88.7.
// verf: erf through erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2) (Numerical Recipes'
//   erfcc, from Chebyshev fitting): fractional error of erfc below 1.2e-7; with float
//   rounding, |erf error| below 3e-7 everywhere (tests/ops/test_vec_math.cpp).
// For float64 both are std::exp / std::erf.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace bertlab::cpu {

inline float vexp(float x) {
  const float hi = 88.7228391f, lo = -87.3365448f;
  const float xc = x > hi ? hi : (x < lo ? lo : x);
  // round to nearest by adding and subtracting 1.5 * 2^23 (a call to floor or nearbyint would
  // keep GCC from vectorising the loop)
  const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = xc - n * 0.693359375f;  // ln 2 split in two so that n * C1 is exact
  r = r + n * 2.12194440e-4f;
  const float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r2 + r + 1.0f;
  const int32_t bits = ((int32_t)n + 127) << 23;  // 2^n as a float
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  float y = er * scale;
  y = x < lo ? 0.0f : y;
  y = x > hi ? INFINITY : y;
  return x != x ? x : y;  // NaN stays NaN
}
inline double vexp(double x) { return std::exp(x); }

inline float verf(float x) {
  const float z = x < 0 ? -x : x;
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  const float erfc = t * vexp(-z * z + p);
  const float e = 1.0f - erfc;
  return x < 0 ? -e : e;
}
inline double verf(double x) { return std::erf(x); }

}  // namespace bertlab::cpu
