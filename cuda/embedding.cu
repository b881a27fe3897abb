// cuda/embedding.cu — the embedding lookup and its backward.
//
// An embedding is index_select along dimension 0 of the (V,C) weight, so both directions
// are the index_select kernels of cuda/index.cu with outer = 1, D = V, inner = C: the
// forward gathers rows, the backward sorts the ids and sums each run of equal ids' rows of
// dout in increasing position (deterministic; bit-identical to the CPU's
// ops/cpu/embedding.cpp for every id that occurs up to 64 times, within rounding for ids
// that occur more often, whose rows are summed in pieces of 64: see cuda/index.cu).
#include "cuda/embedding.h"
#include "cuda/index.h"

namespace bertlab::cuda {

// out is (n,C), ids is (n), weight is (V,C):  out[i, :] = weight[ids[i], :]
void embedding_forward(DType t, void* out, const int64_t* ids, const void* weight, int64_t n, int64_t V,
                       int64_t C) {
  index_select_forward(t, out, weight, ids, 1, V, n, C);
}

// dweight is (V,C), ids is (n), dout is (n,C):  dweight[v, :] = sum over i with ids[i] == v of dout[i, :]
void embedding_backward(DType t, void* dweight, const int64_t* ids, const void* dout, int64_t n, int64_t V,
                        int64_t C) {
  index_select_backward(t, dweight, dout, ids, 1, V, n, C);
}

}  // namespace bertlab::cuda
