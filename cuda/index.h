// cuda/index.h — launchers for the indexing ops (cuda/index.cu): index checks, index_select,
// gather, where. Same signatures as ops/cpu/index.h.
//
// Backward kernels scatter-add, and do it deterministically: every output element sums its
// contributions in a fixed order, whatever the thread count (no atomics on the CPU).
#pragma once

#include <functional>
#include <string>

#include "autograd/dtype.h"

namespace bertlab::cuda {

// The smallest i in [0, n) with idx[i] outside [0, bound), not counting entries equal to
// `ignore` when skip_ignore is set; -1 when every entry is valid. idx is (n), dense.
int64_t first_bad_index(const int64_t* idx, int64_t n, int64_t bound, bool skip_ignore,
                        int64_t ignore);

// Deferred index checks. Reading first_bad_index's answer makes the host wait for the GPU, at
// every embedding lookup and every cross-entropy. With deferred checks on (off by default;
// set_deferred_index_checks(true), or BERTLAB_CUDA_DEFERRED_INDEX_CHECKS=1 in the
// environment), the ops queue the same check into a device slot instead and go on; the next
// call that waits for the GPU anyway (memcpy_d2h: item(), tolist(), a copy to the host; or
// synchronize()) reads every queued slot and throws the first failure's message, as the op
// would have. Meanwhile the kernels that read indices treat an out-of-range one as absent
// (a zero row, a NaN loss), so a bad index never reads or writes outside its tensor. The
// error then surfaces at the training loop's loss.item() instead of inside the op.
void set_deferred_index_checks(bool on);
bool deferred_index_checks();
// Queues first_bad_index(idx, n, bound, skip_ignore, ignore) on the stream; report(position)
// makes the error message if it finds a bad entry. idx must stay alive until the next wait
// (report may keep the tensor). Does not wait.
void check_index_deferred(const int64_t* idx, int64_t n, int64_t bound, bool skip_ignore, int64_t ignore,
                          std::function<std::string(int64_t)> report);
// Waits for the GPU if checks are queued, and throws the first failed one's message. Called by
// memcpy_d2h and synchronize().
void raise_deferred_index_errors();

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
