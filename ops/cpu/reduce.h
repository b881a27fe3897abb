// ops/cpu/reduce.h — CPU reductions (same signatures as cuda/reduce.h).
#pragma once

#include "cuda/reduce.h"

namespace bertlab::cpu {

void reduce(ReduceOp op, DType t, int64_t outer, int64_t R, int64_t inner, const void* x, void* y,
            int64_t* idx);
void reduce_max_backward(DType t, int64_t outer, int64_t R, int64_t inner, const void* dy,
                         const int64_t* idx, void* dx);

}  // namespace bertlab::cpu
