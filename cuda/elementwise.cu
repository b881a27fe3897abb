// cuda/elementwise.cu — elementwise kernels: unary ops, their backward, binary ops.
//
// Each kernel is a grid-stride loop with the op fixed at compile time; the scalar formula is
// the template in cuda/elementwise_math.h that the CPU loops (ops/cpu/elementwise.cpp)
// instantiate too, so both devices compute the same function. (Transcendental functions
// still differ in the last bits: CUDA's libdevice is not glibc.) Binary ops read their
// operands through broadcast layouts (stride 0 on broadcast dimensions) via StridedIndex.
#include "autograd/dispatch.h"
#include "cuda/common.cuh"
#include "cuda/elementwise.h"
#include "cuda/strided.cuh"

namespace bertlab::cuda {

// y[i] = f(x[i]; alpha); x, y are (n), dense
template <UnaryOp OP, typename T>
__global__ void unary_kernel(T* y, const T* x, int64_t n, T alpha) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    y[i] = unary_apply<OP, T>(x[i], alpha);
}

// dx[i] = g(dy[i], v[i]; alpha); dy, v, dx are (n), dense; v is the op's saved input or output
template <UnaryBackOp OP, typename T>
__global__ void unary_backward_kernel(T* dx, const T* dy, const T* v, int64_t n, T alpha) {
  for (int64_t i = first_index(); i < n; i += grid_stride())
    dx[i] = unary_back_apply<OP, T>(dy[i], v[i], alpha);
}

void unary(UnaryOp op, DType t, int64_t n, const void* x, void* y, double alpha) {
  if (n == 0) return;
  dispatch_float(t, "unary op", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = static_cast<const T*>(x);
    T* yp = static_cast<T*>(y);
    const T a = (T)alpha;
    switch (op) {
#define CASE(OP) \
  case UnaryOp::OP: unary_kernel<UnaryOp::OP, T><<<grid_for(n), kThreads, 0, stream()>>>(yp, xp, n, a); break;
      CASE(Neg) CASE(Exp) CASE(Log) CASE(Sqrt) CASE(Tanh) CASE(Relu) CASE(GeluErf) CASE(GeluTanh)
      CASE(Sigmoid) CASE(Pow) CASE(AddScalar) CASE(MulScalar) CASE(RSubScalar) CASE(RDivScalar)
#undef CASE
    }
    CUDA_CHECK_LAUNCH();
  });
}

void unary_backward(UnaryBackOp op, DType t, int64_t n, const void* dy, const void* v, void* dx,
                    double alpha) {
  if (n == 0) return;
  dispatch_float(t, "unary op backward", [&](auto tag) {
    using T = decltype(tag);
    const T* dyp = static_cast<const T*>(dy);
    const T* vp = static_cast<const T*>(v);
    T* dxp = static_cast<T*>(dx);
    const T a = (T)alpha;
    switch (op) {
#define CASE(OP)                                                                                   \
  case UnaryBackOp::OP:                                                                            \
    unary_backward_kernel<UnaryBackOp::OP, T><<<grid_for(n), kThreads, 0, stream()>>>(dxp, dyp, vp, n, a); \
    break;
      CASE(ExpBack) CASE(LogBack) CASE(SqrtBack) CASE(TanhBack) CASE(ReluBack) CASE(GeluErfBack)
      CASE(GeluTanhBack) CASE(SigmoidBack) CASE(PowBack) CASE(RDivBack)
#undef CASE
    }
    CUDA_CHECK_LAUNCH();
  });
}

// y[iy] = a[ia] (op) b[ib]: y, a, b share one shape (ix.shape) with their own strides;
// a or b may be broadcast (stride 0). When every operand is dense, offset == i.
template <BinaryOp OP, typename T>
__global__ void binary_kernel(T* y, const T* a, const T* b, StridedIndex<3> ix) {
  for (int64_t i = first_index(); i < ix.numel; i += grid_stride()) {
    int64_t off[3];
    ix.offsets(i, off);
    y[off[0]] = binary_apply<OP, T>(a[off[1]], b[off[2]]);
  }
}

void binary(BinaryOp op, DType t, const Layout& ly, void* y, const void* a, const Layout& la,
            const void* b, const Layout& lb) {
  const Layout* layouts[3] = {&ly, &la, &lb};
  StridedIndex<3> ix = make_strided_index<3>(layouts);
  if (ix.numel == 0) return;
  dispatch_all(t, "binary op", [&](auto tag) {
    using T = decltype(tag);
    T* yp = static_cast<T*>(y);
    const T* ap = static_cast<const T*>(a);
    const T* bp = static_cast<const T*>(b);
    const unsigned grid = grid_for(ix.numel);
    switch (op) {
#define CASE(OP) \
  case BinaryOp::OP: binary_kernel<BinaryOp::OP, T><<<grid, kThreads, 0, stream()>>>(yp, ap, bp, ix); break;
      CASE(Add) CASE(Sub) CASE(Mul) CASE(Div) CASE(Maximum) CASE(Minimum) CASE(Gt) CASE(Eq)
#undef CASE
    }
    CUDA_CHECK_LAUNCH();
  });
}

}  // namespace bertlab::cuda
