// ops/cpu/cpu_features.cpp — see cpu_features.h. Bit positions: Intel SDM vol. 2A, CPUID
// leaf 07H; vol. 1 chapter 13 (XCR0).
#include "ops/cpu/cpu_features.h"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace bertlab::cpu {

#if defined(__x86_64__)
static uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

static CpuFeatures detect() {
  CpuFeatures f;
  unsigned a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return f;
  const unsigned max_leaf = a;
  char vendor[13] = {};
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  f.vendor = vendor;

  __get_cpuid(1, &a, &b, &c, &d);
  const bool osxsave = c & (1u << 27), fma = c & (1u << 12);
  if (!osxsave || max_leaf < 7) return f;
  const uint64_t xcr0 = xgetbv0();
  const bool os_avx = (xcr0 & 0x6) == 0x6;             // XMM and YMM state
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;     // XTILECFG (17), XTILEDATA (18)

  __get_cpuid_count(7, 0, &a, &b, &c, &d);
  const unsigned leaf7_max_sub = a;
  f.avx2 = os_avx && fma && (b & (1u << 5));
  f.avx512f = os_avx512 && (b & (1u << 16));
  const bool amx_bf16 = d & (1u << 22), amx_tile = d & (1u << 24);
  if (leaf7_max_sub >= 1) {
    __get_cpuid_count(7, 1, &a, &b, &c, &d);
    f.avx512_bf16 = f.avx512f && (a & (1u << 5));
  }
  if (amx_tile && os_amx) {
    // Linux keeps the 8 KiB tile data state off until a process asks (kernel 5.16+).
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    f.amx_tile = syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
    f.amx_bf16 = f.amx_tile && amx_bf16;
  }
  return f;
}
#else
static CpuFeatures detect() { return {}; }
#endif

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

std::string cpu_features_str() {
  const CpuFeatures& f = cpu_features();
  auto yn = [](bool b) { return b ? "yes" : "no"; };
  return std::string("avx2 ") + yn(f.avx2) + ", avx512f " + yn(f.avx512f) + ", avx512_bf16 " +
         yn(f.avx512_bf16) + ", amx_bf16 " + yn(f.amx_bf16);
}

}  // namespace bertlab::cpu
