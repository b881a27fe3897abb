// ops/cpu/dropout.h — CPU dropout (same signature and mask as cuda/dropout.h).
#pragma once

#include "cuda/dropout.h"

namespace bertlab::cpu {

void dropout_apply(DType t, void* y, const void* x, int64_t n, double p, uint64_t seed,
                   uint64_t offset);

}  // namespace bertlab::cpu
