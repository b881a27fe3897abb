// ops/attention.cpp — checks, the device switch and the autograd record of the fused
// attention. The kernels are ops/cpu/attention.cpp and cuda/attention.cu; the formulas are in
// cuda/attention.h.
#include "ops/attention.h"

#include <cmath>
#include <sstream>

#include "autograd/graph.h"
#include "cuda/attention.h"
#include "cuda/dropout.h"
#include "ops/check.h"
#include "ops/cpu/attention.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace bertlab {

namespace {

const char* kOp = "scaled_dot_product_attention";

// x with its last dimension dense (x itself when it already is): the kernels take any
// strides for (B,H,T) but D contiguous elements per row.
Tensor rows_dense(const Tensor& x) { return x.size(3) <= 1 || x.strides()[3] == 1 ? x : x.contiguous(); }

AttnTensor operand(const Tensor& x) { return {x.raw_data(), x.strides()[0], x.strides()[1], x.strides()[2]}; }

// A new (B,H,T,D) tensor stored as a dense (B,T,H,D) one: the layout the heads are merged in.
Tensor empty_heads(int64_t B, int64_t H, int64_t T, int64_t D, DType t, Device dev) {
  Tensor base = empty({B, T, H, D}, t, dev);
  return make_view(base, {B, H, T, D}, {T * H * D, D, H * D, 1}, base.offset());
}

void check_inputs(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, double p) {
  check_defined(kOp, q, "q");
  check_float(kOp, q, "q");
  check_dim(kOp, q, 4, "q (B,H,T,D)");
  for (const Tensor* x : {&k, &v}) {
    check_defined(kOp, *x, x == &k ? "k" : "v");
    check_same_device(kOp, q, *x);
    check_same_dtype(kOp, q, *x);
    if (x->shape() != q.shape())
      fail(std::string(kOp) + ": q " + shape_str(q.shape()) + " and " + (x == &k ? "k " : "v ") + shape_str(x->shape()) +
           " must have the same shape (B,H,T,D)");
  }
  if (mask.defined()) {
    check_same_device(kOp, q, mask);
    check_same_dtype(kOp, q, mask);
    const int64_t B = q.size(0), T = q.size(2);
    const Shape& m = mask.shape();
    if (m.size() != 4 || (m[0] != B && m[0] != 1) || m[1] != 1 || m[2] != 1 || m[3] != T)
      fail(std::string(kOp) + ": mask_bias " + shape_str(m) + " must be (B,1,1,T) = " + shape_str({B, 1, 1, T}) +
           " or (1,1,1,T) for q " + shape_str(q.shape()));
  }
  if (!(p >= 0.0 && p <= 1.0)) {
    std::ostringstream msg;
    msg << kOp << ": dropout probability must be in [0, 1], got " << p;
    fail(msg.str());
  }
  if (q.device() == Device::CUDA && q.size(3) > cuda::kAttentionMaxHeadDim)
    fail(std::string(kOp) + ": head size D = " + std::to_string(q.size(3)) + " of q " + shape_str(q.shape()) +
         " exceeds the CUDA kernel's " + std::to_string(cuda::kAttentionMaxHeadDim));
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, const Tensor& mask_in,
                                    double dropout_p, bool train, Generator& gen) {
  check_inputs(q_in, k_in, v_in, mask_in, dropout_p);
  const int64_t B = q_in.size(0), H = q_in.size(1), T = q_in.size(2), D = q_in.size(3);
  const DType dt = q_in.dtype();
  const Device dev = q_in.device();

  AttnArgs a;
  a.B = B, a.H = H, a.T = T, a.D = D;
  a.scale = 1.0 / std::sqrt((double)(D > 0 ? D : 1));
  if (train && dropout_p > 0.0) {  // the dropout op's generator advance, over (B,H,T,T)
    a.p = dropout_p;
    a.seed = gen.seed;
    a.offset = gen.advance(dropout_counters((uint64_t)(B * H * T * T)));
  }
  Tensor q = rows_dense(q_in.detach()), k = rows_dense(k_in.detach()), v = rows_dense(v_in.detach());
  Tensor mask = mask_in.defined() ? mask_in.detach().contiguous() : Tensor();
  Tensor out = empty_heads(B, H, T, D, dt, dev);
  Tensor lse = empty({B, H, T}, dt, dev);
  a.q = operand(q), a.k = operand(k), a.v = operand(v), a.out = operand(out);
  a.lse = lse.raw_data();
  if (mask.defined()) {
    a.bias = mask.raw_data();
    a.bias_sb = mask.size(0) == 1 ? 0 : T;
  }
  switch (dev) {
    case Device::CPU: cpu::attention_forward(dt, a); break;
    case Device::CUDA: cuda::attention_forward(dt, a); break;
  }

  // the backward keeps q, k, v, the mask (through a), out and lse alive
  return record("scaled_dot_product_attention", out, {q_in, k_in, v_in, mask_in},
                [a, q, k, v, mask, out = out.detach(), lse](const Tensor& dy, Grads& g) {
    const int64_t B = a.B, H = a.H, T = a.T, D = a.D;
    const DType dt = q.dtype();
    const Device dev = q.device();
    Tensor dout = rows_dense(dy);
    Tensor dq = empty_heads(B, H, T, D, dt, dev), dk = empty_heads(B, H, T, D, dt, dev),
           dv = empty_heads(B, H, T, D, dt, dev);
    Tensor delta = empty({B, H, T}, dt, dev);
    Tensor dbias_bh = g.needs(3) ? empty({B, H, T}, dt, dev) : Tensor();
    AttnGrads gr;
    gr.dq = operand(dq), gr.dk = operand(dk), gr.dv = operand(dv), gr.dout = operand(dout);
    gr.delta = delta.raw_data();
    gr.dbias_bh = dbias_bh.defined() ? dbias_bh.raw_data() : nullptr;
    switch (dev) {
      case Device::CPU: cpu::attention_backward(dt, a, gr); break;
      case Device::CUDA: cuda::attention_backward(dt, a, gr); break;
    }
    g.add(0, dq);
    g.add(1, dk);
    g.add(2, dv);
    if (dbias_bh.defined()) {  // the mask is shared by the heads (and by the batch when its B is 1)
      Tensor db = sum(dbias_bh, {1});  // (B,T)
      if (mask.size(0) == 1) db = sum(db, {0}, true);
      g.add(3, reshape(db, mask.shape()));
    }
  });
}

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask_bias,
                                    double dropout_p, bool train) {
  return scaled_dot_product_attention(q, k, v, mask_bias, dropout_p, train, default_generator());
}

}  // namespace bertlab
