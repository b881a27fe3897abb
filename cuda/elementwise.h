// cuda/elementwise.h — launchers for the elementwise kernels (cuda/elementwise.cu).
//
// Same signatures as the CPU kernels in ops/cpu/elementwise.h; the formulas are shared in
// cuda/elementwise_math.h.
#pragma once

#include "autograd/dtype.h"
#include "cuda/elementwise_math.h"

namespace bertlab::cuda {

// y[i] = f(x[i]; alpha), n contiguous elements
void unary(UnaryOp op, DType t, int64_t n, const void* x, void* y, double alpha);
// dx[i] = g(dy[i], v[i]; alpha), n contiguous elements
void unary_backward(UnaryBackOp op, DType t, int64_t n, const void* dy, const void* v, void* dx,
                    double alpha);
// y = a (op) b: y is dense with layout `ly`; a and b are read through their own layouts
// (same shape as y, stride 0 on broadcast dimensions).
void binary(BinaryOp op, DType t, const Layout& ly, void* y, const void* a, const Layout& la,
            const void* b, const Layout& lb);

}  // namespace bertlab::cuda
