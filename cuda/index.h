// cuda/index.h — launchers for the indexing ops (cuda/index.cu): index checks, index_select,
// gather, where. Same signatures as ops/cpu/index.h.
//
// Backward kernels scatter-add, and do it deterministically: every output element sums its
// contributions in a fixed order, whatever the thread count (no atomics on the CPU).
#pragma once

#include "autograd/dtype.h"

namespace bertlab::cuda {

// The smallest i in [0, n) with idx[i] outside [0, bound), not counting entries equal to
// `ignore` when skip_ignore is set; -1 when every entry is valid. idx is (n), dense.
int64_t first_bad_index(const int64_t* idx, int64_t n, int64_t bound, bool skip_ignore,
                        int64_t ignore);

// out is (outer, n, inner), x is (outer, D, inner), index is (n); all dense, indices in [0, D).
//   out[o, j, i] = x[o, index[j], i]
// Any dtype (a copy).
void index_select_forward(DType t, void* out, const void* x, const int64_t* index, int64_t outer,
                          int64_t D, int64_t n, int64_t inner);
// dx is (outer, D, inner), dout is (outer, n, inner), index is (n). dx is overwritten:
//   dx[o, d, i] = sum over j with index[j] == d of dout[o, j, i]   (in increasing j)
void index_select_backward(DType t, void* dx, const void* dout, const int64_t* index, int64_t outer,
                           int64_t D, int64_t n, int64_t inner);

// torch.gather along `dim`. index and out are dense with index's shape li.shape (li.strides
// unused); x is read through lx: lx.ndim == li.ndim, lx.strides are x's strides, lx.shape[dim]
// is x's size along dim (indices already checked to lie in it).
//   out[p] = x[p with p[dim] replaced by index[p]]
// Any dtype.
void gather_forward(DType t, void* out, const void* x, const Layout& lx, const int64_t* index,
                    const Layout& li, int dim);
// dx is dense with strides lx.strides, dout and index are dense with shape li.shape. dx must be
// zeroed by the caller; positions of x that no index names stay 0:
//   dx[p with p[dim] = index[p]] += dout[p]   (in increasing p[dim] for each destination)
void gather_backward(DType t, void* dx, const Layout& lx, const void* dout, const int64_t* index,
                     const Layout& li, int dim);

// y = cond != 0 ? a : b, elementwise. y is dense with layout ly; cond, a, b have y's shape and
// their own strides (0 on broadcast dimensions), and all have dtype t (the op converts cond).
// Any dtype.
void where(DType t, const Layout& ly, void* y, const void* cond, const Layout& lc, const void* a,
           const Layout& la, const void* b, const Layout& lb);

}  // namespace bertlab::cuda
