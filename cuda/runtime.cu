// cuda/runtime.cu — the device, the stream, the cuBLAS handle, copies and error reporting.
//
// Everything runs on one CUDA stream, created on first use with cudaStreamNonBlocking (so it
// does not serialise with the legacy default stream that other libraries may use), and one
// cuBLAS handle bound to it. Kernels, copies and GEMMs are therefore executed in the order
// the host issued them, and the host only waits where it must read results: memcpy_d2h and
// synchronize(). See the CUDA Programming Guide, "Streams" and "Implicit Synchronization".
#include <cuda_profiler_api.h>

#include <cstdio>
#include <string>

#include "cuda/common.cuh"
#include "cuda/cuda.h"
#include "cuda/index.h"

namespace bertlab::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  cudaGetLastError();  // clear a non-sticky error so the next check does not report it again
  fail(std::string("CUDA error at ") + file + ":" + std::to_string(line) + ": " + call + " failed: " +
       cudaGetErrorString(err) + " (" + cudaGetErrorName(err) + ")");
}

[[noreturn]] void throw_cublas_error(cublasStatus_t st, const char* call, const char* file, int line) {
  fail(std::string("cuBLAS error at ") + file + ":" + std::to_string(line) + ": " + call + " failed: " +
       cublasGetStatusString(st) + " (status " + std::to_string((int)st) + ")");
}

// ---------------------------------------------------------------------------------------
// the device

// Asked once: a machine without a GPU or without a driver answers with an error, which
// means "no device" here, never a crash.
struct DeviceQuery {
  int count = 0;
  std::string why_none;  // the runtime's reason when count == 0
};
static const DeviceQuery& device_query() {
  static const DeviceQuery q = [] {
    DeviceQuery r;
    cudaError_t err = cudaGetDeviceCount(&r.count);
    if (err != cudaSuccess) {
      cudaGetLastError();
      r.count = 0;
      r.why_none = std::string(cudaGetErrorString(err)) + " (" + cudaGetErrorName(err) + ")";
    } else if (r.count == 0) {
      r.why_none = "cudaGetDeviceCount found no device";
    }
    return r;
  }();
  return q;
}

bool built() { return true; }
int device_count() { return device_query().count; }
bool available() { return device_count() > 0; }

void require(const char* what) {
  if (!available())
    fail(std::string(what) + ": no CUDA device is available (" + device_query().why_none + ")");
}

std::string device_name() {
  if (!available()) return "none";
  int dev = 0;
  CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp p;
  CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
  return p.name;
}

int num_sms() {
  static const int n = [] {
    int dev = 0, sms = 0;
    CUDA_CHECK(cudaGetDevice(&dev));
    CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    return sms;
  }();
  return n;
}

// ---------------------------------------------------------------------------------------
// the stream and the cuBLAS handle (deliberately never destroyed: at exit the CUDA runtime
// may be torn down before static destructors run)

void set_device(int device) { CUDA_CHECK(cudaSetDevice(device)); }

cudaStream_t stream() {
  static const cudaStream_t s = [] {
    require("CUDA stream");
    cudaStream_t st;
    CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    return st;
  }();
  return s;
}

cublasHandle_t cublas() {
  static const cublasHandle_t h = [] {
    cublasHandle_t handle;
    CUBLAS_CHECK(cublasCreate(&handle));
    CUBLAS_CHECK(cublasSetStream(handle, stream()));
    return handle;
  }();
  return h;
}

// ---------------------------------------------------------------------------------------
// copies

// The host buffer is pageable memory that the caller may free as soon as we return, so the
// copy is waited for (an async copy from pageable memory is not guaranteed to have read it).
void memcpy_h2d(void* dst, const void* src, size_t nbytes) {
  if (nbytes == 0) return;
  CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, stream()));
  CUDA_CHECK(cudaStreamSynchronize(stream()));
}

// Waits for every queued kernel that writes src, then for the copy itself.
// Then reports a failed deferred index check (cuda/index.h), now that the host waited anyway.
void memcpy_d2h(void* dst, const void* src, size_t nbytes) {
  if (nbytes == 0) return;
  CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, stream()));
  CUDA_CHECK(cudaStreamSynchronize(stream()));
  raise_deferred_index_errors();
}

void memcpy_d2d(void* dst, const void* src, size_t nbytes) {
  if (nbytes == 0) return;
  CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, stream()));
}

void memset_zero(void* dst, size_t nbytes) {
  if (nbytes == 0) return;
  CUDA_CHECK(cudaMemsetAsync(dst, 0, nbytes, stream()));
}

// Nothing can be queued without a device, so then there is nothing to wait for.
void synchronize() {
  if (!available()) return;
  CUDA_CHECK(cudaStreamSynchronize(stream()));
  raise_deferred_index_errors();
}

void profiler_start() {
  if (available()) CUDA_CHECK(cudaProfilerStart());
}
void profiler_stop() {
  if (available()) CUDA_CHECK(cudaProfilerStop());
}

}  // namespace bertlab::cuda
