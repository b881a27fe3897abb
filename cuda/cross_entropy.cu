// cuda/cross_entropy.cu — cross-entropy as one fused log-softmax + negative log-likelihood per
// row, forward and backward side by side.
//
// The forward is a row kernel (a row group per row, cuda/common.cuh): the row's maximum, the
// sum of exp(x - max) in double, then lse = max + log(sum) and loss = lse - x[target]. It
// keeps lse, so the backward is elementwise: softmax = exp(x - lse), minus 1 at the target.
// Same arithmetic as ops/cpu/cross_entropy.cpp.
#include <limits>

#include "autograd/dispatch.h"
#include "cuda/common.cuh"
#include "cuda/cross_entropy.h"

namespace bertlab::cuda {

// losses and lse are (N), logits is (N,C), targets is (N). For row n with target t:
//   lse[n] = max + log(sum_c exp(logits[n, c] - max)),  losses[n] = lse[n] - logits[n, t]
// (0 where t == ignore_index).
template <typename G, typename T>
__global__ void cross_entropy_forward_kernel(T* losses, T* lse, const T* logits, const int64_t* targets, int64_t N,
                                             int64_t C, int64_t ignore_index) {
  G g;
  const int64_t n = g.row();
  if (n >= N) return;
  const T* x = logits + n * C;
  T mx = -std::numeric_limits<T>::infinity();
  for (int64_t c = g.lane(); c < C; c += g.size()) mx = x[c] > mx ? x[c] : mx;
  mx = g.max(mx);
  double s = 0;
  for (int64_t c = g.lane(); c < C; c += g.size()) s += (double)std::exp(x[c] - mx);
  s = g.sum(s);
  if (g.lane() == 0) {
    const T l = mx + (T)std::log(s);
    lse[n] = l;
    const int64_t t = targets[n];
    // a target outside [0, C) only gets here while a deferred check is pending: NaN, no read
    losses[n] = t == ignore_index ? (T)0 : (t >= 0 && t < C) ? l - x[t] : std::numeric_limits<T>::quiet_NaN();
  }
}

// dlogits[n, c] = dlosses[n] * (exp(logits[n, c] - lse[n]) - [c == targets[n]]), and 0 on rows
// whose target is ignore_index. dlogits and logits are (N,C); dlosses, lse, targets are (N).
template <typename T>
__global__ void cross_entropy_backward_kernel(T* dlogits, const T* dlosses, const T* logits, const T* lse,
                                              const int64_t* targets, int64_t N, int64_t C, int64_t ignore_index) {
  for (int64_t p = first_index(); p < N * C; p += grid_stride()) {
    const int64_t n = p / C, c = p % C, t = targets[n];
    if (t == ignore_index) {
      dlogits[p] = (T)0;
      continue;
    }
    const T g = dlosses[n];
    T d = g * std::exp(logits[p] - lse[n]);  // softmax
    if (c == t) d -= g;                      // - onehot
    dlogits[p] = d;
  }
}

void cross_entropy_forward(DType t, void* losses, void* lse, const void* logits, const int64_t* targets, int64_t N,
                           int64_t C, int64_t ignore_index) {
  if (N == 0) return;
  dispatch_float(t, "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    launch_rows(N, C, [&](auto group, dim3 grid, dim3 block) {
      cross_entropy_forward_kernel<decltype(group), T><<<grid, block, 0, stream()>>>(
          static_cast<T*>(losses), static_cast<T*>(lse), static_cast<const T*>(logits), targets, N, C, ignore_index);
    });
    CUDA_CHECK_LAUNCH();
  });
}

void cross_entropy_backward(DType t, void* dlogits, const void* dlosses, const void* logits, const void* lse,
                            const int64_t* targets, int64_t N, int64_t C, int64_t ignore_index) {
  if (N * C == 0) return;
  dispatch_float(t, "cross_entropy backward", [&](auto tag) {
    using T = decltype(tag);
    cross_entropy_backward_kernel<T><<<grid_for(N * C), kThreads, 0, stream()>>>(
        static_cast<T*>(dlogits), static_cast<const T*>(dlosses), static_cast<const T*>(logits),
        static_cast<const T*>(lse), targets, N, C, ignore_index);
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace bertlab::cuda
