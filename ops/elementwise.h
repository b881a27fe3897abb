// ops/elementwise.h — arithmetic and pointwise functions, with NumPy broadcasting.
//
// Binary ops broadcast their operands (trailing dimensions align; a size-1 dimension
// stretches) and their backward sums the gradient back to each operand's shape.
#pragma once

#include <optional>

#include "autograd/tensor.h"

namespace bertlab {

enum class GeluApprox { None, Tanh };  // "gelu" (exact erf) / "gelu_new" (tanh)

Tensor add(const Tensor& a, const Tensor& b);  // a + b
Tensor sub(const Tensor& a, const Tensor& b);  // a - b
Tensor mul(const Tensor& a, const Tensor& b);  // a * b
Tensor div(const Tensor& a, const Tensor& b);  // a / b
Tensor add(const Tensor& x, double s);         // x + s
Tensor mul(const Tensor& x, double s);         // x * s
Tensor rsub(double s, const Tensor& x);        // s - x
Tensor rdiv(double s, const Tensor& x);        // s / x

Tensor neg(const Tensor& x);                   // -x
Tensor exp(const Tensor& x);                   // e^x;            dx = dy * y
Tensor log(const Tensor& x);                   // ln x;           dx = dy / x
Tensor sqrt(const Tensor& x);                  // sqrt x;         dx = dy / (2 y)
Tensor pow(const Tensor& x, double p);         // x^p;            dx = dy * p x^(p-1)
Tensor tanh(const Tensor& x);                  // tanh x;         dx = dy (1 - y^2)
Tensor sigmoid(const Tensor& x);               // 1/(1+e^-x);     dx = dy y (1 - y)
Tensor relu(const Tensor& x);                  // max(x, 0);      dx = dy [x > 0]
// gelu(x) = x Phi(x) = 0.5 x (1 + erf(x/sqrt 2)); the tanh form with GeluApprox::Tanh.
Tensor gelu(const Tensor& x, GeluApprox approx = GeluApprox::None);

// Comparisons (no gradient: they are piecewise constant).
Tensor gt(const Tensor& a, const Tensor& b);       // 1 where a > b, else 0 (a's dtype)
Tensor eq(const Tensor& a, const Tensor& b);       // 1 where a == b, else 0

// Elementwise max / min with broadcasting; NaN if either operand is NaN (as torch.maximum).
// The gradient goes to the operand that wins; on a tie (a == b) it is split in half between
// them, as PyTorch does:  da = dy ([a > b] + 0.5 [a == b]),  db = dy - da.
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);

// clamp(x, lo, hi) = min(max(x, lo), hi), either bound optional (at least one given, lo <= hi,
// neither NaN); integer tensors too. NaN stays NaN. As torch.clamp, the gradient passes where
// lo <= x <= hi (bounds included) and is 0 outside:  dx = dy [lo <= x] [x <= hi].
Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& x, double s) { return add(x, s); }
inline Tensor operator+(double s, const Tensor& x) { return add(x, s); }
inline Tensor operator-(const Tensor& x, double s) { return add(x, -s); }
inline Tensor operator-(double s, const Tensor& x) { return rsub(s, x); }
inline Tensor operator*(const Tensor& x, double s) { return mul(x, s); }
inline Tensor operator*(double s, const Tensor& x) { return mul(x, s); }
inline Tensor operator/(const Tensor& x, double s) { return mul(x, 1.0 / s); }
inline Tensor operator/(double s, const Tensor& x) { return rdiv(s, x); }

// In-place, without history (optimizers, initialisation): x += alpha * y, x *= s.
void add_(const Tensor& x, const Tensor& y, double alpha = 1.0);
void mul_(const Tensor& x, double s);

}  // namespace bertlab
