// cuda/cuda.h — the CUDA backend's memory and device API, as plain C++.
//
// Everything outside cuda/ includes only plain headers like this one (no cuda_runtime.h),
// so the rest of the project builds with g++ alone. A build without CUDA links
// cuda/no_cuda.cpp instead, where every call throws "built without CUDA".
//
// Memory comes from a caching allocator (cuda/allocator.cu): freed blocks are kept in
// size-class free lists and handed out again, so a training step does not call cudaMalloc
// per op. Errors report the failing call with file:line (CUDA_CHECK / CUBLAS_CHECK).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bertlab::cuda {

bool built();         // compiled with CUDA
bool available();     // built, and at least one device is present
int device_count();   // 0 without CUDA or without a device
std::string device_name();  // of the current device
void require(const char* what);  // throws "<what>: ... CUDA ..." unless available()

// Device memory through the caching allocator.
void* malloc(size_t nbytes);
void free(void* p);
void empty_cache();  // returns cached free blocks to the driver
struct AllocatorStats {
  size_t allocated = 0;       // bytes handed out now
  size_t reserved = 0;        // bytes held from the driver (allocated + cached)
  size_t peak_allocated = 0;
  size_t num_device_mallocs = 0;  // cudaMalloc calls so far
};
AllocatorStats allocator_stats();

// Copies (synchronous with respect to the host for the d2h direction).
void memcpy_h2d(void* dst, const void* src, size_t nbytes);
void memcpy_d2h(void* dst, const void* src, size_t nbytes);
void memcpy_d2d(void* dst, const void* src, size_t nbytes);
void memset_zero(void* dst, size_t nbytes);
void synchronize();

// Brackets the region a profiler started with "profile from start off" records
// (cudaProfilerStart / cudaProfilerStop; ncu --profile-from-start off).
void profiler_start();
void profiler_stop();

// The device this process uses (cudaSetDevice); call it before any other CUDA work. Under
// mpirun each rank takes its local rank modulo the devices (bert/train/distributed.cpp).
void set_device(int device);

// NCCL, the GPUs' transport for data-parallel training (bert/train/distributed.h). The
// communicator is made once per process from a unique id that rank 0 creates and MPI sends
// to the others; the sums run on the backend's one stream, in order with the kernels.
bool nccl_built();                                     // compiled and linked with NCCL
std::string nccl_unique_id();                          // ncclGetUniqueId, as 128 bytes
void nccl_init(int rank, int world, const std::string& id);  // ncclCommInitRank (collective)
void nccl_allreduce_sum(void* data, size_t count, bool is_double);  // in place, float or double
void nccl_broadcast(void* data, size_t bytes);         // rank 0's bytes to every rank

}  // namespace bertlab::cuda
