// ops/cpu/elementwise.cpp — elementwise kernels on the CPU: one loop per op, with the
// op fixed at compile time (cuda/elementwise_math.h) so the compiler can vectorise it.
#include "ops/cpu/elementwise.h"

#include <array>

#include "autograd/dispatch.h"
#include "autograd/strided.h"
#include "ops/cpu/vec_math.h"

namespace bertlab::cpu {

static constexpr int64_t kParallelMin = 1 << 15;  // below this, threads cost more than they save

// The shared formula, except where glibc's scalar calls would keep a float loop from
// vectorising: there the same function through vec_math.h (error ~1e-7).
template <UnaryOp OP, typename T>
static inline T unary_cpu(T x, T alpha) {
  if constexpr (std::is_same_v<T, float> && OP == UnaryOp::Exp) return vexp(x);
  else if constexpr (std::is_same_v<T, float> && OP == UnaryOp::GeluErf)
    return 0.5f * x * (1.0f + verf(x * 0.7071067811865476f));
  else if constexpr (std::is_same_v<T, float> && OP == UnaryOp::Sigmoid) return 1.0f / (1.0f + vexp(-x));
  else return unary_apply<OP, T>(x, alpha);
}

template <UnaryBackOp OP, typename T>
static inline T unary_back_cpu(T dy, T v, T alpha) {
  if constexpr (std::is_same_v<T, float> && OP == UnaryBackOp::GeluErfBack) {
    const float cdf = 0.5f * (1.0f + verf(v * 0.7071067811865476f));
    const float pdf = vexp(-0.5f * v * v) * 0.3989422804014327f;
    return dy * (cdf + v * pdf);
  } else {
    return unary_back_apply<OP, T>(dy, v, alpha);
  }
}

template <UnaryOp OP, typename T>
static void unary_loop(int64_t n, const T* x, T* y, T alpha) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = unary_cpu<OP, T>(x[i], alpha);
}

void unary(UnaryOp op, DType t, int64_t n, const void* x, void* y, double alpha) {
  dispatch_float(t, "unary op", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = static_cast<const T*>(x);
    T* yp = static_cast<T*>(y);
    T a = (T)alpha;
    switch (op) {
#define CASE(OP) case UnaryOp::OP: unary_loop<UnaryOp::OP, T>(n, xp, yp, a); break;
      CASE(Neg) CASE(Exp) CASE(Log) CASE(Sqrt) CASE(Tanh) CASE(Relu) CASE(GeluErf) CASE(GeluTanh)
      CASE(Sigmoid) CASE(Pow) CASE(AddScalar) CASE(MulScalar) CASE(RSubScalar) CASE(RDivScalar)
#undef CASE
    }
  });
}

template <UnaryBackOp OP, typename T>
static void unary_back_loop(int64_t n, const T* dy, const T* v, T* dx, T alpha) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) dx[i] = unary_back_cpu<OP, T>(dy[i], v[i], alpha);
}

void unary_backward(UnaryBackOp op, DType t, int64_t n, const void* dy, const void* v, void* dx,
                    double alpha) {
  dispatch_float(t, "unary op backward", [&](auto tag) {
    using T = decltype(tag);
    const T* dyp = static_cast<const T*>(dy);
    const T* vp = static_cast<const T*>(v);
    T* dxp = static_cast<T*>(dx);
    T a = (T)alpha;
    switch (op) {
#define CASE(OP) case UnaryBackOp::OP: unary_back_loop<UnaryBackOp::OP, T>(n, dyp, vp, dxp, a); break;
      CASE(ExpBack) CASE(LogBack) CASE(SqrtBack) CASE(TanhBack) CASE(ReluBack) CASE(GeluErfBack)
      CASE(GeluTanhBack) CASE(SigmoidBack) CASE(PowBack) CASE(RDivBack)
#undef CASE
    }
  });
}

static Shape dims_of(const Layout& l) { return Shape(l.shape, l.shape + l.ndim); }
static Shape strides_of(const Layout& l) { return Shape(l.strides, l.strides + l.ndim); }

template <BinaryOp OP, typename T>
static void binary_loop(const Layout& ly, T* y, const T* a, const Layout& la, const T* b,
                        const Layout& lb) {
  Shape shape = dims_of(ly), sy = strides_of(ly), sa = strides_of(la), sb = strides_of(lb);
  strided_rows<3>(shape, {&sy, &sa, &sb}, {0, 0, 0},
                  [&](std::array<int64_t, 3> o, int64_t n, std::array<int64_t, 3> k) {
                    T* yp = y + o[0];
                    const T* ap = a + o[1];
                    const T* bp = b + o[2];
                    if (k[0] == 1 && k[1] == 1 && k[2] == 1) {
#pragma omp simd
                      for (int64_t i = 0; i < n; ++i) yp[i] = binary_apply<OP, T>(ap[i], bp[i]);
                    } else if (k[0] == 1 && k[1] == 1 && k[2] == 0) {
                      const T bv = *bp;
#pragma omp simd
                      for (int64_t i = 0; i < n; ++i) yp[i] = binary_apply<OP, T>(ap[i], bv);
                    } else if (k[0] == 1 && k[1] == 0 && k[2] == 1) {
                      const T av = *ap;
#pragma omp simd
                      for (int64_t i = 0; i < n; ++i) yp[i] = binary_apply<OP, T>(av, bp[i]);
                    } else {
                      for (int64_t i = 0; i < n; ++i)
                        yp[i * k[0]] = binary_apply<OP, T>(ap[i * k[1]], bp[i * k[2]]);
                    }
                  });
}

void binary(BinaryOp op, DType t, const Layout& ly, void* y, const void* a, const Layout& la,
            const void* b, const Layout& lb) {
  dispatch_all(t, "binary op", [&](auto tag) {
    using T = decltype(tag);
    T* yp = static_cast<T*>(y);
    const T* ap = static_cast<const T*>(a);
    const T* bp = static_cast<const T*>(b);
    switch (op) {
#define CASE(OP) case BinaryOp::OP: binary_loop<BinaryOp::OP, T>(ly, yp, ap, la, bp, lb); break;
      CASE(Add) CASE(Sub) CASE(Mul) CASE(Div) CASE(Maximum) CASE(Minimum) CASE(Gt) CASE(Eq)
#undef CASE
    }
  });
}

}  // namespace bertlab::cpu
