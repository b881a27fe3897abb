// autograd/autocast.h — mixed precision as torch.autocast does it on the CPU.
//
//   {
//     AutocastGuard ac(DType::BFloat16);
//     Tensor logits = model.forward(ids);   // the GEMMs of linear layers run in bfloat16
//   }
//
// Inside the guard (per thread), `linear` and `matmul` on float32 CPU tensors round their
// operands (input and weight; attention's q, k, probabilities and v) to bfloat16 and multiply
// them with float32 sums (the bf16 GEMM's arithmetic, ops/cpu/gemm_bf16.h), giving a float32
// result; linear's bias is added in float32. Their backward does the same for each gradient
// product (dy rounded to bfloat16 too), so gradients reach the float32 master weights in
// float32. Every other op (embeddings, LayerNorm, softmax, GELU, dropout, cross-entropy,
// reductions, the optimizer) computes in float32 as before, and activations between ops, the
// residual stream included, stay float32 tensors (docs/precision.md).
//
// The weight's bfloat16 copy is made once and cached on its storage until the storage is
// written (Storage::version: an optimizer step, a checkpoint load), so inference casts each
// weight once per model and training once per step, not once per call.
#pragma once

#include <functional>

#include "autograd/tensor.h"

namespace bertlab {

// Float32 when autocast is off, else the dtype GEMMs take (BFloat16).
DType autocast_dtype();

class AutocastGuard {
 public:
  explicit AutocastGuard(DType t);  // Float32 (off) or BFloat16
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  DType prev_;
};

// Sets this thread's autocast dtype with no guard to restore it: for a whole program run
// (the CLI's --dtype).
void set_autocast_dtype(DType t);

// "float32" / "bfloat16" -> DType, for --dtype flags; throws naming `what` otherwise.
DType parse_compute_dtype(const std::string& s, const std::string& what);

// A dense bfloat16 copy of x (rounded to nearest-even), made in parallel.
Tensor to_bf16(const Tensor& x);

// x rounded to bfloat16 and widened back: a float32 tensor holding bfloat16 values (exact
// in float32). What the fp32 bf16 kernel multiplies, with no bfloat16 storage in between.
Tensor round_to_bf16(const Tensor& x);

// The cached bfloat16 copy of a float32 weight (see above): rebuilt when w's storage has been
// written since, or when a different view of it is asked for. cached_bf16_f32 caches
// round_to_bf16(w) the same way (the fp32 kernel's "packed" form of the weight).
Tensor cached_bf16(const Tensor& w);
Tensor cached_bf16_f32(const Tensor& w);
// The cache itself, for any form derived from a weight: returns the cached tensor for (w's
// storage, offset, shape, strides, kind) if w's storage has not been written since it was made,
// else make()'s result, cached. Kinds below 16 are this file's; ops use their own.
constexpr int kCachedBf16 = 0, kCachedBf16AsF32 = 1;
Tensor cached_derived(const Tensor& w, int kind, const std::function<Tensor()>& make);
// How many copies the cache made (tests check that a forward makes none the second time).
int64_t cached_bf16_builds();
void clear_bf16_cache();

}  // namespace bertlab
