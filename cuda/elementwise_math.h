// cuda/elementwise_math.h — the scalar formulas of every elementwise op, written once.
//
// The CPU loops (ops/cpu/elementwise.cpp) and the CUDA kernels (cuda/elementwise.cu) both
// instantiate these templates, so the two devices compute the same function by
// construction. Each op is a compile-time constant, so a loop over one op vectorises.
//
// GELU follows Hugging Face: "gelu" is the exact 0.5 x (1 + erf(x / sqrt 2)), "gelu_new"
// the tanh approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (Hendrycks and
// Gimpel, 2016).
#pragma once

#include <cmath>
#include <cstdint>

#include "cuda/philox.h"  // BERTLAB_HD

namespace bertlab {

// y = f(x; alpha)
enum class UnaryOp : int {
  Neg,       // -x
  Exp,       // e^x
  Log,       // ln x
  Sqrt,      // sqrt x
  Tanh,      // tanh x
  Relu,      // max(x, 0)
  GeluErf,   // 0.5 x (1 + erf(x / sqrt 2))
  GeluTanh,  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  Sigmoid,   // 1 / (1 + e^-x)
  Pow,       // x^alpha
  AddScalar, // x + alpha
  MulScalar, // x * alpha
  RSubScalar,// alpha - x
  RDivScalar,// alpha / x
};

// dx = g(dy, v; alpha) where v is the op's input x or output y (see the comment per op)
enum class UnaryBackOp : int {
  ExpBack,       // dy * y
  LogBack,       // dy / x
  SqrtBack,      // dy * 0.5 / y
  TanhBack,      // dy * (1 - y^2)
  ReluBack,      // x > 0 ? dy : 0
  GeluErfBack,   // dy * (Phi(x) + x phi(x))
  GeluTanhBack,  // dy * d/dx gelu_tanh(x)
  SigmoidBack,   // dy * y (1 - y)
  PowBack,       // dy * alpha x^(alpha-1)
  RDivBack,      // dy * -alpha / x^2
};

// out = a (op) b, with broadcasting done by the caller's strides
enum class BinaryOp : int {
  Add,
  Sub,
  Mul,
  Div,
  Maximum,  // max(a, b); NaN if either is NaN, as torch.maximum
  Minimum,  // min(a, b); NaN if either is NaN, as torch.minimum
  Gt,       // a > b ? 1 : 0
  Eq,       // a == b ? 1 : 0
};

template <typename T>
BERTLAB_HD T gelu_tanh_inner(T x) {
  const T k = (T)0.7978845608028654;  // sqrt(2/pi)
  return k * (x + (T)0.044715 * x * x * x);
}

template <UnaryOp OP, typename T>
BERTLAB_HD T unary_apply(T x, T alpha) {
  if constexpr (OP == UnaryOp::Neg) return -x;
  else if constexpr (OP == UnaryOp::Exp) return std::exp(x);
  else if constexpr (OP == UnaryOp::Log) return std::log(x);
  else if constexpr (OP == UnaryOp::Sqrt) return std::sqrt(x);
  else if constexpr (OP == UnaryOp::Tanh) return std::tanh(x);
  else if constexpr (OP == UnaryOp::Relu) return x > (T)0 ? x : (T)0;
  else if constexpr (OP == UnaryOp::GeluErf) return (T)0.5 * x * ((T)1 + std::erf(x * (T)0.7071067811865476));
  else if constexpr (OP == UnaryOp::GeluTanh) return (T)0.5 * x * ((T)1 + std::tanh(gelu_tanh_inner(x)));
  else if constexpr (OP == UnaryOp::Sigmoid) return (T)1 / ((T)1 + std::exp(-x));
  else if constexpr (OP == UnaryOp::Pow) return std::pow(x, alpha);
  else if constexpr (OP == UnaryOp::AddScalar) return x + alpha;
  else if constexpr (OP == UnaryOp::MulScalar) return x * alpha;
  else if constexpr (OP == UnaryOp::RSubScalar) return alpha - x;
  else if constexpr (OP == UnaryOp::RDivScalar) return alpha / x;
}

template <UnaryBackOp OP, typename T>
BERTLAB_HD T unary_back_apply(T dy, T v, T alpha) {
  if constexpr (OP == UnaryBackOp::ExpBack) return dy * v;
  else if constexpr (OP == UnaryBackOp::LogBack) return dy / v;
  else if constexpr (OP == UnaryBackOp::SqrtBack) return dy * (T)0.5 / v;
  else if constexpr (OP == UnaryBackOp::TanhBack) return dy * ((T)1 - v * v);
  else if constexpr (OP == UnaryBackOp::ReluBack) return v > (T)0 ? dy : (T)0;
  else if constexpr (OP == UnaryBackOp::GeluErfBack) {
    T cdf = (T)0.5 * ((T)1 + std::erf(v * (T)0.7071067811865476));
    T pdf = std::exp((T)-0.5 * v * v) * (T)0.3989422804014327;  // 1/sqrt(2 pi)
    return dy * (cdf + v * pdf);
  } else if constexpr (OP == UnaryBackOp::GeluTanhBack) {
    T t = std::tanh(gelu_tanh_inner(v));
    T dinner = (T)0.7978845608028654 * ((T)1 + (T)3 * (T)0.044715 * v * v);
    return dy * ((T)0.5 * ((T)1 + t) + (T)0.5 * v * ((T)1 - t * t) * dinner);
  } else if constexpr (OP == UnaryBackOp::SigmoidBack) return dy * v * ((T)1 - v);
  else if constexpr (OP == UnaryBackOp::PowBack) return dy * alpha * std::pow(v, alpha - (T)1);
  else if constexpr (OP == UnaryBackOp::RDivBack) return -dy * alpha / (v * v);
}

template <BinaryOp OP, typename T>
BERTLAB_HD T binary_apply(T a, T b) {
  if constexpr (OP == BinaryOp::Add) return a + b;
  else if constexpr (OP == BinaryOp::Sub) return a - b;
  else if constexpr (OP == BinaryOp::Mul) return a * b;
  else if constexpr (OP == BinaryOp::Div) return a / b;
  else if constexpr (OP == BinaryOp::Maximum) return (a > b || a != a) ? a : b;  // a != a: a is NaN
  else if constexpr (OP == BinaryOp::Minimum) return (a < b || a != a) ? a : b;
  else if constexpr (OP == BinaryOp::Gt) return a > b ? (T)1 : (T)0;
  else if constexpr (OP == BinaryOp::Eq) return a == b ? (T)1 : (T)0;
}

}  // namespace bertlab
