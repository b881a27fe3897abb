// ops/cpu/elementwise.h — CPU elementwise kernels (same signatures as cuda/elementwise.h).
#pragma once

#include "autograd/dtype.h"
#include "cuda/elementwise_math.h"

namespace bertlab::cpu {

void unary(UnaryOp op, DType t, int64_t n, const void* x, void* y, double alpha);
void unary_backward(UnaryBackOp op, DType t, int64_t n, const void* dy, const void* v, void* dx,
                    double alpha);
void binary(BinaryOp op, DType t, const Layout& ly, void* y, const void* a, const Layout& la,
            const void* b, const Layout& lb);

}  // namespace bertlab::cpu
