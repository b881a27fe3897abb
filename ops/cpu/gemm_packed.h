// ops/cpu/gemm_packed.h — C = A W^T with the weight W packed once, for linear layers.
//
// OpenBLAS packs both operands into its own layout on every call; at BERT's shapes (M = 128
// rows of activations against a 768 x 768 or 768 x 3072 weight) packing the weight is over a
// quarter of sgemm's time (perf, one thread). A weight that does not change between calls
// (inference; within one training step) can be packed once:
//
//   panel p (output columns 16p .. 16p+15), K-major:  packed[(p*K + k)*16 + j] = W[16p + j][k]
//
// (columns past N are zeros). The kernel (AVX2 + FMA) keeps a 6 x 16 block of C in twelve
// 8-float registers; for each k it loads the panel's 16 weights (two registers) and broadcasts
// six activations, 12 fused multiply-adds. K is cut into blocks of 256, so a panel's block
// (16 KiB) stays in L1 while all row blocks of A pass over it, and A's block (M x 256) stays in
// L2 while the panels pass; the panels are shared out between the OpenMP threads. A is read in
// place (any row stride), only a last partial block of fewer than six rows is copied.
#pragma once

#include <cstdint>

#include "autograd/tensor.h"

namespace bertlab::cpu {

// Whether this processor runs the packed kernel (AVX2 and FMA, cpu_features.h).
bool packed_gemm_available();
// Whether `linear` uses it for float32 CPU inputs (forward only): when available and asked for
// with BERTLAB_PACKED_GEMM=1 (read once; tests switch it with set_packed_gemm). Off by default:
// on the AMD EPYC (Zen 3) it was measured on, OpenBLAS was as fast or faster (bert-base's 72
// encoder GEMMs at 1 x 128, one thread, CPU time: 285-306 ms OpenBLAS, 310-354 ms packed;
// bench_bert with BERTLAB_PACKED_GEMM=0 / 1). Measure on your machine before turning it on.
bool packed_gemm_enabled();
void set_packed_gemm(bool on);

// W (N x K, row stride ldw) packed as above: a float32 tensor of ceil(N / 16) * K * 16 values.
Tensor pack_weight(const float* W, int64_t N, int64_t K, int64_t ldw);

// C (M x N, row stride ldc) = A (M x K, row stride lda) W^T + beta * C, W packed by pack_weight
// (N, K as packed). beta 0 or 1.
void gemm_packed(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const Tensor& packed, float beta,
                 float* C, int64_t ldc);

}  // namespace bertlab::cpu
