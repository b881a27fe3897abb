// cuda/philox.h — Philox4x32-10 counter-based random numbers, host and device.
//
// Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3" (SC 2011).
// The same (key, counter) gives the same four 32-bit words on the CPU and on the GPU, so a
// seed draws the same normal numbers and the same dropout mask on either device, whatever
// the thread count. Plain C++: compiles with g++ and with nvcc.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define BERTLAB_HD __host__ __device__ __forceinline__
#else
#define BERTLAB_HD inline
#endif

namespace bertlab::philox {

struct U4 {
  uint32_t x, y, z, w;
};

BERTLAB_HD uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  uint64_t p = (uint64_t)a * (uint64_t)b;
  *hi = (uint32_t)(p >> 32);
  return (uint32_t)p;
}

// Ten rounds of Philox4x32 on counter c with key k (the seed).
BERTLAB_HD U4 philox4x32(uint64_t counter, uint64_t seed) {
  uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0, hi1;
    uint32_t lo0 = mulhilo(0xD2511F53u, c0, &hi0);
    uint32_t lo1 = mulhilo(0xCD9E8D57u, c2, &hi1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {c0, c1, c2, c3};
}

// A float in (0, 1]: 24 random bits, never 0 (safe for log).
BERTLAB_HD float u01(uint32_t v) { return ((v >> 8) + 1u) * (1.0f / 16777216.0f); }
// A double in (0, 1]: 53 random bits from two words.
BERTLAB_HD double u01d(uint32_t a, uint32_t b) {
  uint64_t v = ((uint64_t)a << 21) ^ (uint64_t)b;
  v &= ((1ull << 53) - 1);
  return (double)(v + 1) * (1.0 / 9007199254740992.0);
}

// Standard normal for element `i` of a draw (Box-Muller on the first two words).
BERTLAB_HD double normal(uint64_t seed, uint64_t counter) {
  U4 r = philox4x32(counter, seed);
  double u1 = u01d(r.x, r.y), u2 = u01d(r.z, r.w);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}
// Uniform in (0, 1] for element `i` of a draw.
BERTLAB_HD double uniform(uint64_t seed, uint64_t counter) {
  U4 r = philox4x32(counter, seed);
  return u01d(r.x, r.y);
}
// Uniform float in (0, 1], cheap: the dropout keep test.
BERTLAB_HD float uniformf(uint64_t seed, uint64_t counter) {
  return u01(philox4x32(counter, seed).x);
}

}  // namespace bertlab::philox
