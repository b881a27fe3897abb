// ops/matmul.cpp — matmul and linear: shape checks, BLAS layouts, batching, backward.
//
// A transposed or permuted view does not need a copy: BLAS reads a matrix stored either
// row by row (NoTrans) or column by column (Trans) with any leading dimension, so q @ k^T in
// attention passes k's storage straight through. The matrices of a batch may sit anywhere:
// one stride apart (cuBLAS's strided batch), or anywhere: on the CPU through a table of
// offsets, on the GPU through a table of pointers (cublasGemmBatchedEx), so the heads of a
// (B, T, H, D) activation are read in place as (B, H, T, D). Only matrices BLAS cannot
// describe (neither rows nor columns contiguous) are copied to dense form first.
#include "ops/matmul.h"

#include <algorithm>
#include <vector>

#include "autograd/autocast.h"
#include "autograd/graph.h"
#include "cuda/gemm.h"
#include "ops/check.h"
#include "ops/cpu/gemm.h"
#include "ops/cpu/gemm_bf16.h"
#include "ops/cpu/gemm_packed.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace bertlab {

// How BLAS reads the last two dimensions (R x C) of x: trans = stored column-major.
struct BlasMatrix {
  Tensor t;      // x itself, or a dense copy
  bool trans;
  int64_t ld;
  int64_t batch_stride;          // between consecutive matrices of the flattened batch, or
  std::vector<int64_t> offsets;  // (CPU) where each one starts, when no single stride walks them
};

static bool matrix_layout(const Tensor& x, bool& trans, int64_t& ld) {
  const int64_t R = x.size(-2), C = x.size(-1);
  const int64_t sr = x.strides()[x.dim() - 2], sc = x.strides()[x.dim() - 1];
  if ((sc == 1 || C == 1) && (R == 1 || sr >= std::max<int64_t>(C, 1))) {
    trans = false;
    ld = R == 1 ? std::max<int64_t>(C, 1) : sr;
    return true;
  }
  if ((sr == 1 || R == 1) && (C == 1 || sc >= std::max<int64_t>(R, 1))) {
    trans = true;
    ld = C == 1 ? std::max<int64_t>(R, 1) : sc;
    return true;
  }
  return false;
}

// One stride that walks all batch matrices of x in order, if there is one.
static bool batch_stride(const Tensor& x, int64_t& stride) {
  const int64_t nb = x.dim() - 2;
  stride = 0;
  int64_t expect = -1;
  for (int64_t i = nb - 1; i >= 0; --i) {
    const int64_t n = x.shape()[i], s = x.strides()[i];
    if (n == 1) continue;
    if (expect < 0) {
      stride = s;
      expect = s * n;
    } else {
      if (s != expect) return false;
      expect = s * n;
    }
  }
  return true;
}

// The start of every batch matrix of x (in the row-major order of the batch index).
static std::vector<int64_t> batch_offsets(const Tensor& x) {
  const int64_t nb = x.dim() - 2;
  std::vector<int64_t> off{0};
  for (int64_t i = 0; i < nb; ++i) {
    std::vector<int64_t> next;
    next.reserve(off.size() * x.shape()[i]);
    for (int64_t o : off)
      for (int64_t j = 0; j < x.shape()[i]; ++j) next.push_back(o + j * x.strides()[i]);
    off = std::move(next);
  }
  return off;
}

// Any batch layout is read in place: on the CPU through a table of offsets, on the GPU
// through a table of pointers (cuda::BatchStrides); `batched` notes that one stride is not
// enough. Only a matrix with neither rows nor columns contiguous is copied.
static BlasMatrix blas_matrix(const Tensor& x, bool cpu, bool& batched) {
  BlasMatrix m{x, false, 0, 0, {}};
  if (matrix_layout(x, m.trans, m.ld)) {
    if (batch_stride(x, m.batch_stride)) return m;
    batched = true;
    if (cpu) m.offsets = batch_offsets(x);
    return m;
  }
  m.t = x.contiguous();
  matrix_layout(m.t, m.trans, m.ld);
  batch_stride(m.t, m.batch_stride);
  return m;
}

// out (dense, (..., M, N)) = alpha * a @ b + beta * out, where a is (..., M, K) and b is
// (..., K, N) with the same batch dimensions as out (broadcast views allowed).
//
// bf16: the product of a's and b's values rounded to bfloat16, with float32 sums, by the bf16
// GEMM (ops/cpu/gemm_bf16.h), which rounds float32 operands as it packs them (CPU only).
static void gemm_into(const Tensor& out, const Tensor& a, const Tensor& b, double beta, double alpha = 1.0,
                      bool bf16 = false) {
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  int64_t batch = 1;
  for (int64_t i = 0; i < out.dim() - 2; ++i) batch *= out.shape()[i];
  if (out.numel() == 0) return;
  if (K == 0) {
    if (beta == 0) fill_(out, 0.0);
    return;
  }
  const bool cpu = out.device() == Device::CPU;
  bool batched = false;
  BlasMatrix A = blas_matrix(a, cpu, batched), B = blas_matrix(b, cpu, batched);
  if (bf16) {
    if (!cpu || out.dtype() != DType::Float32) fail("matmul: the bfloat16 GEMM takes float32 CPU tensors");
    if (batched) {
      if (A.offsets.empty()) A.offsets = batch_offsets(A.t);
      if (B.offsets.empty()) B.offsets = batch_offsets(B.t);
    }
    const bool off = batched;
    cpu::Bf16Operand oa{A.t.data<float>(), false, A.trans, A.ld, A.batch_stride, off ? A.offsets.data() : nullptr};
    cpu::Bf16Operand ob{B.t.data<float>(), false, B.trans, B.ld, B.batch_stride, off ? B.offsets.data() : nullptr};
    cpu::gemm_bf16(M, N, K, alpha, oa, ob, beta, out.data<float>(), N, M * N, nullptr, batch);
    return;
  }
  if (!cpu && batched) {  // cuBLAS on a table of pointers: every batch dimension's own strides
    cuda::BatchStrides s;
    for (int64_t i = 0; i < out.dim() - 2; ++i) {
      if (out.shape()[i] == 1) continue;
      s.sizes[s.nd] = out.shape()[i];
      s.a[s.nd] = A.t.strides()[i];
      s.b[s.nd] = B.t.strides()[i];
      ++s.nd;
    }
    cuda::gemm(out.dtype(), A.trans, B.trans, M, N, K, alpha, A.t.raw_data(), A.ld, B.t.raw_data(), B.ld, beta,
               out.raw_data(), N, M * N, s);
    return;
  }
  if (cpu && batched) {
    if (A.offsets.empty()) A.offsets = batch_offsets(A.t);
    if (B.offsets.empty()) B.offsets = batch_offsets(B.t);
    std::vector<int64_t> c_off(batch);
    for (int64_t i = 0; i < batch; ++i) c_off[i] = i * M * N;
    cpu::gemm(out.dtype(), A.trans, B.trans, M, N, K, alpha, A.t.raw_data(), A.ld, A.offsets.data(), B.t.raw_data(),
              B.ld, B.offsets.data(), beta, out.raw_data(), N, c_off.data(), batch);
    return;
  }
  switch (out.device()) {
    case Device::CPU:
      cpu::gemm(out.dtype(), A.trans, B.trans, M, N, K, alpha, A.t.raw_data(), A.ld, A.batch_stride,
                B.t.raw_data(), B.ld, B.batch_stride, beta, out.raw_data(), N, M * N, batch);
      break;
    case Device::CUDA:
      cuda::gemm(out.dtype(), A.trans, B.trans, M, N, K, alpha, A.t.raw_data(), A.ld, A.batch_stride,
                 B.t.raw_data(), B.ld, B.batch_stride, beta, out.raw_data(), N, M * N, batch);
      break;
  }
}

// Under bfloat16 autocast a matmul of float32 CPU tensors is
//   grad_to_bf16(matmul(round_bf16(a), round_bf16(b)))
// round_bf16 rounds its input to bfloat16 values (kept in float32) and passes the gradient
// through unchanged, as a cast does; grad_to_bf16 is the identity whose backward rounds the
// incoming gradient. So the forward multiplies bfloat16 operands with float32 sums, and the
// backward's products (dy b^T, a^T dy) take bfloat16 operands too, with float32 results.
static Tensor round_bf16(const Tensor& x) {
  Tensor y;
  {
    NoGradGuard ng;
    y = round_to_bf16(x.detach());
  }
  return record("autocast_round_bf16", y, {x}, [](const Tensor& dy, Grads& g) { g.add(0, dy); });
}
static Tensor grad_to_bf16(const Tensor& x) {
  return record("autocast_grad_to_bf16", x.detach(), {x}, [](const Tensor& dy, Grads& g) {
    NoGradGuard ng;
    g.add(0, round_to_bf16(dy));
  });
}

static Tensor matmul_impl(const Tensor& a_in, const Tensor& b_in, double alpha, bool bf16);

Tensor matmul(const Tensor& a_in, const Tensor& b_in, double alpha) {
  check_float("matmul", a_in, "first operand");
  check_float("matmul", b_in, "second operand");
  check_same_device("matmul", a_in, b_in);
  check_same_dtype("matmul", a_in, b_in);
  if (autocast_dtype() == DType::BFloat16 && a_in.dtype() == DType::Float32) {
    if (a_in.device() != Device::CPU)
      fail("matmul: bfloat16 autocast runs on the CPU only in this version, got operands on " +
           std::string(device_name(a_in.device())));
    // a kernel with bfloat16 instructions rounds as it packs; its backward's products too
    if (cpu::bf16_gemm_kernel() != cpu::Bf16Gemm::Fp32) return matmul_impl(a_in, b_in, alpha, true);
    Tensor a = round_bf16(a_in), b = round_bf16(b_in);
    AutocastGuard off(DType::Float32);  // the product of the rounded operands, in float32
    return grad_to_bf16(matmul_impl(a, b, alpha, false));
  }
  return matmul_impl(a_in, b_in, alpha, false);
}

// The product itself; bf16: operands (and in backward, the gradient) rounded to bfloat16.
static Tensor matmul_impl(const Tensor& a_in, const Tensor& b_in, double alpha, bool bf16) {
  if (a_in.dim() == 0 || b_in.dim() == 0)
    fail("matmul: both operands need at least one dimension, got " + describe(a_in) + " and " + describe(b_in));
  // NumPy promotion of vectors
  const bool va = a_in.dim() == 1, vb = b_in.dim() == 1;
  Tensor a = va ? unsqueeze(a_in, 0) : a_in;
  Tensor b = vb ? unsqueeze(b_in, 1) : b_in;
  const int64_t M = a.size(-2), K = a.size(-1), K2 = b.size(-2), N = b.size(-1);
  if (K != K2)
    fail("matmul: inner dimensions differ: " + shape_str(a_in.shape()) + " @ " + shape_str(b_in.shape()) +
         " (" + std::to_string(K) + " vs " + std::to_string(K2) + ")");
  Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes("matmul (batch dimensions)", ba, bb);
  Shape sa = batch, sb = batch, so = batch;
  sa.insert(sa.end(), {M, K});
  sb.insert(sb.end(), {K, N});
  so.insert(so.end(), {M, N});
  Tensor y;
  {
    NoGradGuard ng;  // the views below are internal; the record is for the whole product
    y = empty(so, a.dtype(), a.device());
    gemm_into(y, expand(a.detach(), sa), expand(b.detach(), sb), 0.0, alpha, bf16);
  }
  Shape out = so;
  if (vb) out.erase(out.end() - 1);
  if (va) out.erase(out.end() - (vb ? 1 : 2));
  if (out != so) y = make_view(y, out, contiguous_strides(out), y.offset());
  return record("matmul", y, {a_in, b_in},
                [a = a.detach(), b = b.detach(), so, sa_in = a_in.shape(), sb_in = b_in.shape(), alpha, bf16](const Tensor& dy, Grads& g) {
                  AutocastGuard off(DType::Float32);  // (a bfloat16 product's operands are rounded already)
                  Tensor d = reshape(dy, so);
                  if (g.needs(0)) g.add(0, reshape(sum_to(matmul_impl(d, transpose(b, -1, -2), alpha, bf16), a.shape()), sa_in));
                  if (g.needs(1)) g.add(1, reshape(sum_to(matmul_impl(transpose(a, -1, -2), d, alpha, bf16), b.shape()), sb_in));
                });
}

// The forward product of linear through the packed kernel (ops/cpu/gemm_packed.h) when it is
// on: y (rows x out, dense; holding the bias when beta1) (+)= x2 W^T, with W's packed form
// cached like autocast's copies (rebuilt when W is written: once per model for inference,
// once per optimizer step in training). `rounded`: pack W's bfloat16-rounded values.
// Returns false (nothing done) where the kernel does not apply.
constexpr int kCachedPacked = 16, kCachedPackedBf16 = 17;
static bool linear_forward_packed(const Tensor& y, const Tensor& x2, const Tensor& w, bool beta1, bool rounded) {
  if (!cpu::packed_gemm_enabled() || y.device() != Device::CPU || x2.dtype() != DType::Float32 ||
      w.strides()[1] != 1 || x2.strides()[1] != 1)
    return false;
  const int64_t out_f = w.size(0), in = w.size(1);
  Tensor packed = cached_derived(w, rounded ? kCachedPackedBf16 : kCachedPacked, [&] {
    Tensor src = rounded ? round_to_bf16(w) : w;
    return cpu::pack_weight(src.data<float>(), out_f, in, src.strides()[0]);
  });
  cpu::gemm_packed(x2.size(0), out_f, in, x2.data<float>(), std::max<int64_t>(x2.strides()[0], in), packed,
                   beta1 ? 1.0f : 0.0f, y.data<float>(), out_f);
  return true;
}

// linear under bfloat16 autocast (autograd/autocast.h): x and W rounded to bfloat16, y = x W^T
// with float32 sums, + b in float32. Backward: dx = dy W and dW = dy^T x with dy rounded to
// bfloat16 as well, results in float32.
//
// With a kernel that has bfloat16 instructions (amx, avx512_bf16; ops/cpu/gemm_bf16.h) W is
// packed once into the kernel's layout (cached on W's storage until it is written: once per
// model for inference, once per optimizer step in training) and x is rounded as it is packed;
// the backward's two products pack dy, W and x per call. With the fp32 kernel the operands are
// rounded but kept in float32 (round_to_bf16; the weight's rounded copy cached) and multiplied
// by OpenBLAS: the same values and sums, up to their order.
constexpr int kCachedVnniBf16 = 18;
// t (R x C) with contiguous rows one row stride apart (a copy only when it is not so already)
static Tensor row_major(const Tensor& t) {
  const bool ok = t.strides()[1] == 1 || t.size(1) == 1;
  return ok && (t.size(0) <= 1 || t.strides()[0] >= t.size(1)) ? t : t.contiguous();
}
static int64_t row_stride(const Tensor& t) { return t.size(0) <= 1 ? t.size(1) : t.strides()[0]; }
// act, out_bf16 (linear_gelu, and a bfloat16 y): the epilogue of gemm_bf16_packed; with no
// gradient recorded only (checked by the callers), as is a bfloat16 x (read in place by AMX).
static Tensor linear_bf16_kernel(const Tensor& x, const Tensor& w, const Tensor& bias, const Shape& out_shape,
                                 cpu::Epilogue act = cpu::Epilogue::None, bool out_bf16 = false) {
  const int64_t in = w.size(1), out_f = w.size(0);
  Tensor x2, y;
  {
    NoGradGuard ng;
    x2 = row_major(reshape(x.detach(), {-1, in}));
    const int64_t rows = x2.size(0);
    Tensor packed = cached_derived(w.detach(), kCachedVnniBf16, [&] {
      Tensor wc = row_major(w.detach());
      return cpu::pack_b_bf16(wc.data<float>(), true, in, out_f, row_stride(wc));
    });
    y = empty({rows, out_f}, out_bf16 ? DType::BFloat16 : DType::Float32);
    // the bias is added as the blocks are written (no copy of it into y beforehand)
    Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
    const bool xb = x2.dtype() == DType::BFloat16;
    cpu::Bf16Operand a{xb ? (const void*)x2.data<bfloat16>() : (const void*)x2.data<float>(), xb, false, row_stride(x2)};
    cpu::Bf16Result r{out_bf16 ? (void*)y.data<bfloat16>() : (void*)y.data<float>(), out_bf16, out_f,
                      b.defined() ? b.data<float>() : nullptr, act};
    cpu::gemm_bf16_packed(rows, out_f, in, 1.0, a, packed, 0.0, r);
  }
  y = make_view(y, out_shape, contiguous_strides(out_shape), y.offset());
  return record("linear", y, {x, w, bias}, [x2, w = w.detach(), xs = x.shape()](const Tensor& dy, Grads& g) {
    const int64_t out_f = w.size(0), in = w.size(1);
    Tensor d2 = row_major(reshape(dy, {-1, out_f}));
    const int64_t rows = d2.size(0), ldd = row_stride(d2);
    if (g.needs(0)) {  // dx = dy W
      Tensor wc = row_major(w);
      Tensor dx = empty({rows, in});
      cpu::Bf16Operand a{d2.data<float>(), false, false, ldd}, b{wc.data<float>(), false, false, row_stride(wc)};
      cpu::gemm_bf16(rows, in, out_f, 1.0, a, b, 0.0, dx.data<float>(), in, 0, nullptr, 1);
      g.add(0, reshape(dx, xs));
    }
    if (g.needs(1)) {  // dW = dy^T x
      Tensor dw = empty({out_f, in});
      cpu::Bf16Operand a{d2.data<float>(), false, true, ldd}, b{x2.data<float>(), false, false, row_stride(x2)};
      cpu::gemm_bf16(out_f, in, rows, 1.0, a, b, 0.0, dw.data<float>(), in, 0, nullptr, 1);
      g.add(1, dw);
    }
    if (g.needs(2)) g.add(2, sum(d2, {0}));
  });
}

static Tensor linear_bf16(const Tensor& x_in, const Tensor& w, const Tensor& bias, const Shape& out_shape) {
  if (cpu::bf16_gemm_kernel() != cpu::Bf16Gemm::Fp32) return linear_bf16_kernel(x_in, w, bias, out_shape);
  const Tensor x = x_in.dtype() == DType::BFloat16 ? x_in.to(DType::Float32) : x_in;  // (exact)
  const int64_t in = w.size(1), out_f = w.size(0);
  const bool need_grad = grad_enabled() && (x.requires_grad() || w.requires_grad() || (bias.defined() && bias.requires_grad()));
  Tensor xr, wr, y;
  {
    NoGradGuard ng;
    xr = round_to_bf16(reshape(x.detach(), {-1, in}));
    const int64_t rows = xr.size(0);
    y = empty({rows, out_f});
    if (bias.defined()) copy_(y, expand(bias.detach(), {rows, out_f}));
    const bool packed = linear_forward_packed(y, xr, w.detach(), bias.defined(), true);
    // the rounded float32 weight: for the product when the packed kernel does not apply, and for backward
    if (!packed || need_grad) wr = cached_bf16_f32(w.detach());
    if (!packed) gemm_into(y, xr, transpose(wr, 0, 1), bias.defined() ? 1.0 : 0.0);
  }
  y = make_view(y, out_shape, contiguous_strides(out_shape), y.offset());
  return record("linear", y, {x, w, bias}, [xr, wr, xs = x.shape()](const Tensor& dy, Grads& g) {
    Tensor d2 = reshape(dy, {-1, wr.size(0)});
    if (g.needs(0) || g.needs(1)) {
      Tensor dr = round_to_bf16(d2);
      if (g.needs(0)) {  // dx = dy W
        Tensor dx = empty({dr.size(0), wr.size(1)});
        gemm_into(dx, dr, wr, 0.0);
        g.add(0, reshape(dx, xs));
      }
      if (g.needs(1)) {  // dW = dy^T x
        Tensor dw = empty(wr.shape());
        gemm_into(dw, transpose(dr, 0, 1), xr, 0.0);
        g.add(1, dw);
      }
    }
    if (g.needs(2)) g.add(2, sum(d2, {0}));
  });
}

// linear's checks; returns whether x is a bfloat16 input under autocast (see matmul.h)
static bool check_linear(const char* op, const Tensor& x, const Tensor& w, const Tensor& bias) {
  check_defined(op, x, "input");
  check_float(op, w, "weight");
  check_dim(op, w, 2, "weight");
  check_same_device(op, x, w);
  // under bfloat16 autocast an input may be bfloat16 already (autocast_operand, linear_gelu)
  const bool bf16_in = x.dtype() == DType::BFloat16 && w.dtype() == DType::Float32 &&
                       autocast_dtype() == DType::BFloat16 && x.device() == Device::CPU;
  if (bf16_in && grad_enabled() && x.requires_grad())
    fail(std::string(op) + ": a bfloat16 input " + shape_str(x.shape()) + " that requires grad: bfloat16 "
         "activations are for inference (no gradient recorded) only");
  if (!bf16_in) {
    check_float(op, x, "input");
    check_same_dtype(op, x, w);
  }
  check_min_dim(op, x, 1, "input");
  const int64_t in = w.size(1), out_f = w.size(0);
  if (x.size(-1) != in)
    fail(std::string(op) + ": input " + shape_str(x.shape()) + " has " + std::to_string(x.size(-1)) +
         " features but weight " + shape_str(w.shape()) + " expects " + std::to_string(in));
  if (bias.defined()) {
    check_dim(op, bias, 1, "bias");
    check_same_device(op, x, bias);
    check_same_dtype(op, w, bias);
    if (bias.size(0) != out_f)
      fail(std::string(op) + ": bias " + shape_str(bias.shape()) + " does not match weight " + shape_str(w.shape()));
  }
  return bf16_in;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  const bool bf16_in = check_linear("linear", x, w, bias);
  const int64_t in = w.size(1), out_f = w.size(0);
  Shape out_shape = x.shape();
  out_shape.back() = out_f;
  if (autocast_dtype() == DType::BFloat16 && (x.dtype() == DType::Float32 || bf16_in)) {
    if (x.device() != Device::CPU)
      fail("linear: bfloat16 autocast runs on the CPU only in this version, got an input on " +
           std::string(device_name(x.device())));
    return linear_bf16(x, w, bias, out_shape);
  }
  Tensor x2, y;
  {
    NoGradGuard ng;
    x2 = reshape(x.detach(), {-1, in});
    const int64_t rows = x2.size(0);
    y = empty({rows, out_f}, x.dtype(), x.device());
    if (bias.defined()) copy_(y, expand(bias.detach(), {rows, out_f}));
    if (!linear_forward_packed(y, x2, w.detach(), bias.defined(), false))
      gemm_into(y, x2, transpose(w.detach(), 0, 1), bias.defined() ? 1.0 : 0.0);  // x W^T (+ b)
  }
  y = make_view(y, out_shape, contiguous_strides(out_shape), y.offset());
  return record("linear", y, {x, w, bias}, [x2, w = w.detach(), xs = x.shape()](const Tensor& dy, Grads& g) {
    Tensor d2 = reshape(dy, {-1, w.size(0)});
    if (g.needs(0)) {  // dx = dy W
      Tensor dx = empty({d2.size(0), w.size(1)}, dy.dtype(), dy.device());
      gemm_into(dx, d2, w, 0.0);
      g.add(0, reshape(dx, xs));
    }
    if (g.needs(1)) {  // dW = dy^T x
      Tensor dw = empty(w.shape(), dy.dtype(), dy.device());
      gemm_into(dw, transpose(d2, 0, 1), x2, 0.0);
      g.add(1, dw);
    }
    if (g.needs(2)) g.add(2, sum(d2, {0}));  // db = sum over rows of dy
  });
}

Tensor linear_gelu(const Tensor& x, const Tensor& w, const Tensor& bias, DType out) {
  if (out != DType::BFloat16 && out != w.dtype())
    fail(std::string("linear_gelu: the output dtype must be the weight's (") + dtype_name(w.dtype()) +
         ") or bfloat16, got " + dtype_name(out));
  const bool recording = grad_enabled() && (x.requires_grad() || w.requires_grad() || (bias.defined() && bias.requires_grad()));
  if (out == DType::BFloat16 && recording)
    fail("linear_gelu: a bfloat16 output is for inference only (no gradient recorded); the input " +
         shape_str(x.shape()) + " or the weights require grad");
  const bool fused = !recording && autocast_dtype() == DType::BFloat16 && x.device() == Device::CPU &&
                     w.dtype() == DType::Float32 && w.dim() == 2 && cpu::bf16_gemm_kernel() != cpu::Bf16Gemm::Fp32 &&
                     (x.dtype() == DType::Float32 || x.dtype() == DType::BFloat16);
  if (!fused) {
    Tensor y = gelu(linear(x, w, bias));
    return out == DType::BFloat16 ? to_bf16(y) : y;
  }
  check_linear("linear_gelu", x, w, bias);  // then one GEMM with the bias and GELU in its epilogue
  Shape out_shape = x.shape();
  out_shape.back() = w.size(0);
  return linear_bf16_kernel(x, w, bias, out_shape, cpu::Epilogue::GeluErf, out == DType::BFloat16);
}

DType autocast_activation_dtype(const Tensor& x) {
  const bool bf16 = autocast_dtype() == DType::BFloat16 && !grad_enabled() && x.device() == Device::CPU &&
                    x.dtype() == DType::Float32 && cpu::bf16_gemm_kernel() != cpu::Bf16Gemm::Fp32;
  return bf16 ? DType::BFloat16 : x.dtype();
}

Tensor autocast_operand(const Tensor& x) {
  return autocast_activation_dtype(x) == DType::BFloat16 ? to_bf16(x) : x;
}

}  // namespace bertlab
