// ops/cpu/index.h — CPU indexing kernels: index checks, index_select, gather, where (same
// signatures and formulas as cuda/index.h).
#pragma once

#include "autograd/dtype.h"

namespace bertlab::cpu {

int64_t first_bad_index(const int64_t* idx, int64_t n, int64_t bound, bool skip_ignore,
                        int64_t ignore);

void index_select_forward(DType t, void* out, const void* x, const int64_t* index, int64_t outer,
                          int64_t D, int64_t n, int64_t inner);
void index_select_backward(DType t, void* dx, const void* dout, const int64_t* index, int64_t outer,
                           int64_t D, int64_t n, int64_t inner);

void gather_forward(DType t, void* out, const void* x, const Layout& lx, const int64_t* index,
                    const Layout& li, int dim);
void gather_backward(DType t, void* dx, const Layout& lx, const void* dout, const int64_t* index,
                     const Layout& li, int dim);

void where(DType t, const Layout& ly, void* y, const void* cond, const Layout& lc, const void* a,
           const Layout& la, const void* b, const Layout& lb);

}  // namespace bertlab::cpu
