// cuda/copy.h — layout-aware copies, fills and random fills on the device (cuda/copy.cu).
//
// Plain C++ launchers used by autograd/ for Tensor::contiguous, to(dtype), fill_ and the
// random creation functions. Every launcher runs on the current stream and does not
// synchronise.
#pragma once

#include "autograd/dtype.h"

namespace bertlab::cuda {

// dst[i] = (dst type) src[i] for every index of the (common) shape; layouts may be strided
// or broadcast (stride 0) on the source side.
void copy_strided(void* dst, DType dt, const Layout& dl, const void* src, DType st, const Layout& sl);
void fill(void* dst, DType t, const Layout& l, double value);
// Contiguous n elements: normal(mean=a, std=b) or uniform [a, b) from Philox counters
// offset .. offset+n-1 under `seed` (the same numbers as the CPU draws).
enum class RandomKind { Normal, Uniform, Integer };
void fill_random(void* dst, DType t, int64_t n, uint64_t seed, uint64_t offset, RandomKind kind,
                 double a, double b);

}  // namespace bertlab::cuda

namespace bertlab::cuda {
// dst[i] += src[i] for n contiguous elements (gradient accumulation).
void accumulate(void* dst, DType t, int64_t n, const void* src);
}  // namespace bertlab::cuda
