// ops/cpu/gemm_bf16.h — matrix multiply with bfloat16 operands and a float32 result.
//
//   C_b = alpha * op(A_b) * op(B_b) + beta * C_b     for b < batch, row-major
//
// A and B hold bfloat16 values and C is float32, and every product is summed in float32: a
// product of two bfloat16 values (8 significant bits each) is exact in float32 (24), so the
// only rounding after the inputs' own is the float32 accumulation, as in the AMX (tdpbf16ps)
// and AVX512-BF16 (vdpbf16ps) instructions and in cuBLAS's bf16 GEMM with float32 compute.
// Same conventions as cpu::gemm (ops/cpu/gemm.h): leading dimensions and batch strides in
// elements. An operand may also be float32: it is rounded to bfloat16 (nearest, ties to even)
// as it is packed, which is how autocast's linear and matmul (ops/matmul.cpp) feed their
// float32 activations in without a separate cast.
//
// Kernels, chosen at run time (BERTLAB_BF16_GEMM forces one; `bertlab info` prints it):
//   amx          AMX-BF16 tile multiplies (Intel Sapphire Rapids and later)
//   avx512_bf16  vdpbf16ps on 512-bit registers (AMD Zen 4+, Intel Cooper Lake and later)
//   fp32         widen both operands to float32 (exact) and run OpenBLAS sgemm: every x86-64.
// auto takes the first of these the processor runs (cpu_features.h). All three give the same
// values up to the order of the float32 sums.
//
// Both bfloat16 kernels read the same packed forms (docs/precision.md has a picture):
//   A, M x K:  row-major bfloat16, rows padded to Kp = K rounded up to 32 (64 bytes: one AMX
//              tile row), M rounded up to 32; padding is zeros.
//   B, K x N:  panels of 16 columns; in a panel, row kk holds the 16 columns' pairs
//              (B[2kk][n], B[2kk+1][n]) side by side ("VNNI" order): 32 bfloat16, 64 bytes.
//              packed[((p * Kp/2 + kk) * 16 + j) * 2 + e] = B[2kk + e][16p + j]
//              N rounded up to 32. 16 consecutive rows kk of a panel are one AMX B tile
//              (16 x 64 bytes); one row is one zmm operand of vdpbf16ps.
// Both compute C in blocks of 32 x 32: AMX as 2 x 2 tiles of 16 x 16 float32 (tmm0-3) from two
// A tiles (tmm4-5, 16 rows x 32 k) and two B tiles (tmm6-7), one tdpbf16ps per pair; AVX512-BF16
// as four strips of 8 rows x 32 columns held in 16 zmm registers.
#pragma once

#include <cstdint>
#include <string>

#include "autograd/bfloat16.h"
#include "autograd/tensor.h"

namespace bertlab::cpu {

enum class Bf16Gemm : uint8_t { Fp32, Avx512Bf16, Amx };

// The kernel in use: BERTLAB_BF16_GEMM (auto, or a kernel name) read once; throws on an
// unknown name or a kernel this processor cannot run, naming the variable and the choices.
Bf16Gemm bf16_gemm_kernel();
const char* bf16_gemm_name(Bf16Gemm k);  // "fp32", "avx512_bf16", "amx"
// Whether this processor (and its operating system) runs kernel k.
bool bf16_gemm_available(Bf16Gemm k);
// Parses a BERTLAB_BF16_GEMM value (what bf16_gemm_kernel does with the variable).
Bf16Gemm parse_bf16_gemm(const std::string& value);
// Tests switch kernels within one process (the choice is otherwise read once).
void set_bf16_gemm_kernel(Bf16Gemm k);

// bfloat16 operands, one stride between the matrices of a batch.
void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
               const bfloat16* A, int64_t lda, int64_t stride_a, const bfloat16* B, int64_t ldb,
               int64_t stride_b, double beta, float* C, int64_t ldc, int64_t stride_c, int64_t batch);

// One operand of the general form: float32 (rounded to bfloat16 when packed) or bfloat16,
// matrix b at data + offsets[b] when offsets is given, else data + b * stride.
struct Bf16Operand {
  const void* data = nullptr;
  bool bf16 = false;  // element type: bfloat16, else float32
  bool trans = false;
  int64_t ld = 0;
  int64_t stride = 0;
  const int64_t* offsets = nullptr;
};
void gemm_bf16(int64_t M, int64_t N, int64_t K, double alpha, const Bf16Operand& A, const Bf16Operand& B,
               double beta, float* C, int64_t ldc, int64_t stride_c, const int64_t* c_offsets, int64_t batch);

// Pre-packed B for the bfloat16 kernels (the layout above), for a weight used many times:
// op(B) is K x N, read from a float32 matrix (rounded) with leading dimension ld; trans: B is
// stored N x K (linear's W, for x W^T). Returns a bfloat16 tensor of shape (Np/16, Kp/2, 32).
Tensor pack_b_bf16(const float* B, bool trans, int64_t K, int64_t N, int64_t ld);
// C (M x N, row stride ldc) = alpha * op(A) B + beta * C with B packed by pack_b_bf16 (K, N as
// packed; checked). Needs a bfloat16 kernel (amx or avx512_bf16): throws on fp32.
void gemm_bf16_packed(int64_t M, int64_t N, int64_t K, double alpha, const Bf16Operand& A, const Tensor& packed_b,
                      double beta, float* C, int64_t ldc);
// The same with an epilogue, applied to each 32 x 32 block of sums while it is still in the
// cache, instead of by separate passes over C (what linear's bias and BERT's GELU cost when
// they run on their own: a write and a read of the whole output each):
//   C = act(alpha * op(A) B + beta * C + bias)      bias: N float32 values added to every row
// act GeluErf is 0.5 x (1 + erf(x / sqrt 2)) through vec_math.h's verf (as the gelu op).
// C may be bfloat16 (out.bf16): the float32 result is rounded once, to nearest even, as it is
// stored; with beta != 0 the old bfloat16 values are widened first.
enum class Epilogue : uint8_t { None, GeluErf };
struct Bf16Result {
  void* data = nullptr;  // C: float32, or bfloat16 when bf16
  bool bf16 = false;
  int64_t ld = 0;
  const float* bias = nullptr;
  Epilogue act = Epilogue::None;
};
void gemm_bf16_packed(int64_t M, int64_t N, int64_t K, double alpha, const Bf16Operand& A, const Tensor& packed_b,
                      double beta, const Bf16Result& C);

// The AMX peak: a loop of tile multiplies on registers only (no loads), on every OpenMP
// thread for about `seconds`; returns the rate in GFLOP/s (2 * 16 * 16 * 32 per tdpbf16ps), or 0
// where this processor has no AMX-BF16. For bench/bench_matmul.cpp's share of peak.
double amx_peak_gflops(double seconds);

}  // namespace bertlab::cpu
