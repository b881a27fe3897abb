// ops/cpu/attention.cpp — scaled-dot-product attention on the CPU, forward and backward side
// by side: the reference the CUDA kernels (cuda/attention.cu) are tested against, and the
// CPU path of the op. Plain loops, one (batch, head) per OpenMP iteration, every sum in
// double; the score matrix of one query row at a time (T values) is all the scratch it needs.
//
// The softmax is the CPU softmax's arithmetic (ops/cpu/softmax.cpp): exp(s - max) in the
// element type, the sum in double, multiplied by (T)(1 / sum); the dropout mask is
// dropout_keep over the (B,H,T,T) indices, so on the CPU the fused op reproduces the composed
// ops (matmul, softmax, dropout, matmul) to rounding.
#include "ops/cpu/attention.h"

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/dispatch.h"
#include "cuda/dropout.h"

namespace bertlab::cpu {

namespace {

// Row t of head (b, h) of an operand.
template <typename T>
T* row(const AttnTensor& x, int64_t b, int64_t h, int64_t t) {
  return static_cast<T*>(x.data) + b * x.sb + h * x.sh + t * x.st;
}

double keep_scale(double p) { return p >= 1.0 ? 0.0 : 1.0 / (1.0 - p); }

// s[j] = scale * (q_i . k_j) + bias[j] for j < T, in T as the composed ops round it (the
// dot product in double, rounded once, then scaled)
template <typename T>
void scores(T* s, const AttnArgs& a, int64_t b, int64_t h, int64_t i) {
  const T* qi = row<T>(a.q, b, h, i);
  const T* bias = a.bias ? static_cast<const T*>(a.bias) + b * a.bias_sb : nullptr;
  for (int64_t j = 0; j < a.T; ++j) {
    const T* kj = row<T>(a.k, b, h, j);
    double dot = 0;
    for (int64_t d = 0; d < a.D; ++d) dot += (double)qi[d] * (double)kj[d];
    s[j] = (T)dot * (T)a.scale + (bias ? bias[j] : (T)0);
  }
}

bool kept(const AttnArgs& a, int64_t bh, int64_t i, int64_t j) {
  return a.p <= 0 || dropout_keep(a.seed, a.offset, ((uint64_t)bh * a.T + (uint64_t)i) * a.T + (uint64_t)j, (float)a.p);
}

// out (B,H,T,D) and lse (B,H,T):  p = softmax(s),  out_i = sum_j keep p[i, j] / (1 - p_drop) v_j
template <typename T>
void forward(const AttnArgs& a) {
  const double ks = keep_scale(a.p);
#pragma omp parallel for schedule(static) if (a.B * a.H > 1 && a.T * a.T * a.D >= 4096)
  for (int64_t bh = 0; bh < a.B * a.H; ++bh) {
    const int64_t b = bh / a.H, h = bh % a.H;
    std::vector<T> s(a.T);
    std::vector<double> o(a.D);
    for (int64_t i = 0; i < a.T; ++i) {
      scores(s.data(), a, b, h, i);
      T mx = -std::numeric_limits<T>::infinity();
      for (int64_t j = 0; j < a.T; ++j) mx = s[j] > mx ? s[j] : mx;
      double sum = 0;
      for (int64_t j = 0; j < a.T; ++j) {
        s[j] = std::exp(s[j] - mx);
        sum += (double)s[j];
      }
      const T inv = (T)(1.0 / sum);
      std::fill(o.begin(), o.end(), 0.0);
      for (int64_t j = 0; j < a.T; ++j) {
        if (!kept(a, bh, i, j)) continue;
        const double pj = (double)(s[j] * inv) * ks;
        const T* vj = row<T>(a.v, b, h, j);
        for (int64_t d = 0; d < a.D; ++d) o[d] += pj * (double)vj[d];
      }
      T* oi = row<T>(a.out, b, h, i);
      for (int64_t d = 0; d < a.D; ++d) oi[d] = (T)o[d];
      static_cast<T*>(a.lse)[bh * a.T + i] = mx + (T)std::log(sum);
    }
  }
}

// The backward of forward() (formulas in cuda/attention.h), p recomputed from lse.
template <typename T>
void backward(const AttnArgs& a, const AttnGrads& g) {
  const double ks = keep_scale(a.p);
#pragma omp parallel for schedule(static) if (a.B * a.H > 1 && a.T * a.T * a.D >= 4096)
  for (int64_t bh = 0; bh < a.B * a.H; ++bh) {
    const int64_t b = bh / a.H, h = bh % a.H;
    std::vector<T> s(a.T);
    std::vector<double> dq(a.D), dk(a.T * a.D, 0.0), dv(a.T * a.D, 0.0), db(a.T, 0.0);
    for (int64_t i = 0; i < a.T; ++i) {
      const T* qi = row<T>(a.q, b, h, i);
      const T* doi = row<T>(g.dout, b, h, i);
      const T* oi = row<T>(a.out, b, h, i);
      double delta = 0;
      for (int64_t d = 0; d < a.D; ++d) delta += (double)doi[d] * (double)oi[d];
      static_cast<T*>(g.delta)[bh * a.T + i] = (T)delta;
      const double lse = (double)static_cast<const T*>(a.lse)[bh * a.T + i];
      scores(s.data(), a, b, h, i);
      std::fill(dq.begin(), dq.end(), 0.0);
      for (int64_t j = 0; j < a.T; ++j) {
        const T* kj = row<T>(a.k, b, h, j);
        const T* vj = row<T>(a.v, b, h, j);
        const double p = std::exp((double)s[j] - lse);
        double dpv = 0;  // dout_i . v_j
        for (int64_t d = 0; d < a.D; ++d) dpv += (double)doi[d] * (double)vj[d];
        const bool keep = kept(a, bh, i, j);
        const double pd = keep ? p * ks : 0.0, dp = keep ? dpv * ks : 0.0;
        const double ds = p * (dp - delta);
        for (int64_t d = 0; d < a.D; ++d) {
          dq[d] += ds * (double)kj[d];
          dk[j * a.D + d] += ds * (double)qi[d];
          dv[j * a.D + d] += pd * (double)doi[d];
        }
        db[j] += ds;
      }
      T* dqi = row<T>(g.dq, b, h, i);
      for (int64_t d = 0; d < a.D; ++d) dqi[d] = (T)(dq[d] * a.scale);
    }
    for (int64_t j = 0; j < a.T; ++j) {
      T* dkj = row<T>(g.dk, b, h, j);
      T* dvj = row<T>(g.dv, b, h, j);
      for (int64_t d = 0; d < a.D; ++d) {
        dkj[d] = (T)(dk[j * a.D + d] * a.scale);
        dvj[d] = (T)dv[j * a.D + d];
      }
      if (g.dbias_bh) static_cast<T*>(g.dbias_bh)[bh * a.T + j] = (T)db[j];
    }
  }
}

}  // namespace

void attention_forward(DType t, const AttnArgs& a) {
  dispatch_float(t, "scaled_dot_product_attention", [&](auto tag) { forward<decltype(tag)>(a); });
}

void attention_backward(DType t, const AttnArgs& a, const AttnGrads& g) {
  dispatch_float(t, "scaled_dot_product_attention backward", [&](auto tag) { backward<decltype(tag)>(a, g); });
}

}  // namespace bertlab::cpu
