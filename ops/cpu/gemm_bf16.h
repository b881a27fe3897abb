// ops/cpu/gemm_bf16.h — matrix multiply with bfloat16 operands and a float32 result.
//
//   C_b = alpha * op(A_b) * op(B_b) + beta * C_b     for b < batch, row-major
//
// A and B hold bfloat16 (autograd/bfloat16.h), C is float32, and every product is summed in
// float32: a product of two bfloat16 values (8 significant bits each) is exact in float32
// (24), so the only rounding after the inputs' own is the float32 accumulation, as in the
// AMX (tdpbf16ps) and AVX512-BF16 (vdpbf16ps) instructions and in cuBLAS's bf16 GEMM with
// float32 compute. Same conventions as cpu::gemm (ops/cpu/gemm.h): leading dimensions and
// batch strides in elements.
//
// Kernels, chosen at run time (BERTLAB_BF16_GEMM forces one; `bertlab info` prints it):
//   fp32   widen both operands to float32 (exact) and run OpenBLAS sgemm. Available
//          everywhere; the results are those of a bf16 kernel up to float32 summation order.
// Processors with AVX512-BF16 or AMX get their own kernels in a later step (issue 12);
// cpu_features() already tells whether this one has them.
#pragma once

#include <cstdint>
#include <string>

#include "autograd/bfloat16.h"

namespace bertlab::cpu {

enum class Bf16Gemm : uint8_t { Fp32 };

// The kernel in use: BERTLAB_BF16_GEMM (auto, or a kernel name) read once; throws on an
// unknown name or a kernel this processor cannot run, naming the variable and the choices.
Bf16Gemm bf16_gemm_kernel();
const char* bf16_gemm_name(Bf16Gemm k);  // "fp32"
// Parses a BERTLAB_BF16_GEMM value (what bf16_gemm_kernel does with the variable).
Bf16Gemm parse_bf16_gemm(const std::string& value);

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
               const bfloat16* A, int64_t lda, int64_t stride_a, const bfloat16* B, int64_t ldb,
               int64_t stride_b, double beta, float* C, int64_t ldc, int64_t stride_c, int64_t batch);

}  // namespace bertlab::cpu
