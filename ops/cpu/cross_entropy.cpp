// ops/cpu/cross_entropy.cpp — cross-entropy as one fused log-softmax + negative
// log-likelihood per row, forward and backward side by side. The forward keeps the row's
// log-sum-exp, so the backward (softmax - onehot) needs no second pass over the maximum.
#include "ops/cpu/cross_entropy.h"

#include <cmath>
#include <limits>

#include "autograd/dispatch.h"
#include "ops/cpu/vec_math.h"

namespace bertlab::cpu {

static constexpr int64_t kParallelMin = 1 << 14;  // elements

// losses and lse are (N), logits is (N,C), targets is (N)
template <typename T>
static void cross_entropy_forward_kernel(T* losses, T* lse, const T* logits, const int64_t* targets, int64_t N,
                                         int64_t C, int64_t ignore_index) {
#pragma omp parallel for schedule(static) if (N > 1 && N * C >= kParallelMin)
  for (int64_t n = 0; n < N; ++n) {
    const T* x = logits + n * C;
    T mx = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : mx)
    for (int64_t c = 0; c < C; ++c) mx = x[c] > mx ? x[c] : mx;
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t c = 0; c < C; ++c) s += (double)vexp(x[c] - mx);
    const T l = mx + (T)std::log(s);
    lse[n] = l;
    const int64_t t = targets[n];
    losses[n] = t == ignore_index ? (T)0 : l - x[t];
  }
}

// dlogits is (N,C), dlosses is (N), logits is (N,C), lse and targets are (N)
template <typename T>
static void cross_entropy_backward_kernel(T* dlogits, const T* dlosses, const T* logits, const T* lse,
                                          const int64_t* targets, int64_t N, int64_t C, int64_t ignore_index) {
#pragma omp parallel for schedule(static) if (N > 1 && N * C >= kParallelMin)
  for (int64_t n = 0; n < N; ++n) {
    const T* x = logits + n * C;
    T* d = dlogits + n * C;
    const int64_t t = targets[n];
    if (t == ignore_index) {
      for (int64_t c = 0; c < C; ++c) d[c] = (T)0;
      continue;
    }
    const T g = dlosses[n], l = lse[n];
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) d[c] = g * vexp(x[c] - l);  // softmax
    d[t] -= g;                                                        // - onehot
  }
}

void cross_entropy_forward(DType t, void* losses, void* lse, const void* logits, const int64_t* targets,
                           int64_t N, int64_t C, int64_t ignore_index) {
  dispatch_float(t, "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    cross_entropy_forward_kernel<T>(static_cast<T*>(losses), static_cast<T*>(lse), static_cast<const T*>(logits),
                                    targets, N, C, ignore_index);
  });
}

void cross_entropy_backward(DType t, void* dlogits, const void* dlosses, const void* logits, const void* lse,
                            const int64_t* targets, int64_t N, int64_t C, int64_t ignore_index) {
  dispatch_float(t, "cross_entropy backward", [&](auto tag) {
    using T = decltype(tag);
    cross_entropy_backward_kernel<T>(static_cast<T*>(dlogits), static_cast<const T*>(dlosses),
                                     static_cast<const T*>(logits), static_cast<const T*>(lse), targets, N, C,
                                     ignore_index);
  });
}

}  // namespace bertlab::cpu
