// tests/cuda/emu/fake/emu.h — a tiny CUDA emulator, to run the kernels of cuda/*.cu on a CPU.
//
// NOT a GPU test: it checks the kernels' logic (index arithmetic, grid-stride loops, the
// row-group and column-tile reductions, barriers) where no GPU is available. Each block runs
// its threads one after another as ucontext fibers on one OS thread: __syncthreads and warp
// shuffles are barriers at which a fiber yields until its block (or warp) has arrived, so a
// barrier that some threads never reach is reported as a deadlock. It knows nothing of the
// GPU's memory model, timing, races that a sequential order hides, launch limits beyond the
// block and grid sizes, or libdevice's math (the host's libm is used). tests/cuda/emu/run.sh
// rewrites each `kernel<<<grid, block, smem, stream>>>(args)` into emu_launch(...) first.
#pragma once

#include <ucontext.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

struct alignas(16) float4 {
  float x, y, z, w;
};
struct uint3 {
  unsigned x = 0, y = 0, z = 0;
};
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
extern uint3 threadIdx, blockIdx;  // set by the scheduler before it resumes each fiber
extern dim3 blockDim, gridDim;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static  // one block runs at a time, so a static is the block's shared memory

namespace emu {
void launch(dim3 grid, dim3 block, const std::function<void()>& body);
void block_barrier();
void warp_barrier();
int linear_tid();
extern unsigned char warp_slots[1024][8];
}  // namespace emu

template <typename F>
inline void emu_launch(dim3 grid, dim3 block, size_t /*smem*/, void* /*stream*/, F&& f) {
  emu::launch(grid, block, std::function<void()>(f));
}

inline void __syncthreads() { emu::block_barrier(); }

// Every lane posts its value, the warp meets, each reads its partner's, the warp meets again.
template <typename T>
T __shfl_xor_sync(unsigned /*mask*/, T v, int lane_mask) {
  const int t = emu::linear_tid(), lane = t % 32, base = t - lane;
  std::memcpy(emu::warp_slots[t], &v, sizeof(T));
  emu::warp_barrier();
  T r;
  std::memcpy(&r, emu::warp_slots[base + (lane ^ lane_mask)], sizeof(T));
  emu::warp_barrier();
  return r;
}

inline unsigned long long atomicMin(unsigned long long* p, unsigned long long v) {
  const unsigned long long old = *p;
  if (v < old) *p = v;
  return old;
}
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a > b ? a : b; }
