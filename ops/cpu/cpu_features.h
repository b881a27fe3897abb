// ops/cpu/cpu_features.h — what this processor and its kernel let bertlab use, read once at
// run time (machines differ: the build may run on any x86-64).
//
// A feature counts only when the processor has it (cpuid) and the operating system saves
// its registers (XCR0, read with xgetbv): AVX-512 needs the opmask and upper ZMM state, AMX
// the tile configuration and tile data state, and on Linux a process must also ask for the
// tile data state before using it (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)).
#pragma once

#include <string>

namespace bertlab::cpu {

struct CpuFeatures {
  std::string vendor;       // "GenuineIntel", "AuthenticAMD", ...
  bool avx2 = false;        // with FMA
  bool avx512f = false;
  bool avx512_bf16 = false; // vdpbf16ps, vcvtne2ps2bf16
  bool amx_tile = false;    // tile registers, enabled by the OS for this process
  bool amx_bf16 = false;    // tdpbf16ps
};

// Read on first use (the AMX permission request is made then, once per process).
const CpuFeatures& cpu_features();

// One line for `bertlab info`: "avx2 yes, avx512f no, avx512_bf16 no, amx_bf16 no".
std::string cpu_features_str();

}  // namespace bertlab::cpu
