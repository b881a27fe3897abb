// cuda/reduce.h — launchers for reductions over the middle axis of an (outer, R, inner)
// block (cuda/reduce.cu); same signatures as ops/cpu/reduce.h.
#pragma once

#include "autograd/dtype.h"

namespace bertlab {
enum class ReduceOp : int { Sum, Max };
}

namespace bertlab::cuda {

// y[o, i] = sum_r x[o, r, i]   or   max_r x[o, r, i] with idx[o, i] = the first argmax r.
// x is dense (outer, R, inner); y and idx are dense (outer, inner); idx may be null for Sum.
void reduce(ReduceOp op, DType t, int64_t outer, int64_t R, int64_t inner, const void* x, void* y,
            int64_t* idx);
// dx[o, idx[o, i], i] = dy[o, i]; dx must be zeroed by the caller (backward of max).
void reduce_max_backward(DType t, int64_t outer, int64_t R, int64_t inner, const void* dy,
                         const int64_t* idx, void* dx);

}  // namespace bertlab::cuda
