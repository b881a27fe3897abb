// cuda/allocator.cu — a caching allocator for device memory.
//
// cudaMalloc and cudaFree are slow (cudaFree waits for the whole device), and a training
// step frees and allocates the same sizes over and over. So, like PyTorch's
// CUDACachingAllocator (much simplified), a freed block is not returned to the driver but
// kept in a free list for its size class and handed out again by the next malloc of that
// class. Since all work runs on one stream (cuda/runtime.cu), a block can be reused at once:
// any kernel that still reads the old tensor was queued before any kernel that writes the
// new one.
//
// Size classes: requests are rounded up to 512 bytes, and above that to four steps per power
// of two (1, 1.25, 1.5, 1.75 x 2^k), so a class wastes at most a quarter of its size. A block
// is reused only by requests of exactly its class.
//
// Out of memory: the cache is emptied once and the cudaMalloc retried; if that fails too the
// error names the size and the allocator's statistics.
//
// BERTLAB_CUDA_NO_CACHE=1 in the environment turns caching off (every malloc is a cudaMalloc
// of the exact size, every free a cudaFree), so compute-sanitizer sees each tensor's true
// bounds.
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cuda/common.cuh"
#include "cuda/cuda.h"

namespace bertlab::cuda {

static size_t size_class(size_t n) {
  constexpr size_t kMin = 512;
  if (n <= kMin) return kMin;
  const size_t pow2 = std::bit_floor(n);  // 2^k <= n
  const size_t step = pow2 / 4 > kMin ? pow2 / 4 : kMin;
  return (n + step - 1) / step * step;
}

static std::string mib(size_t bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
  return buf;
}

class CachingAllocator {
 public:
  CachingAllocator() {
    const char* env = std::getenv("BERTLAB_CUDA_NO_CACHE");
    caching_ = !(env && env[0] && env[0] != '0');
  }

  void* malloc(size_t nbytes) {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t size = caching_ ? size_class(nbytes) : nbytes;
    void* p = nullptr;
    if (caching_) {
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        p = it->second.back();
        it->second.pop_back();
      }
    }
    if (!p) p = device_malloc(nbytes, size);
    live_[p] = size;
    stats_.allocated += size;
    if (stats_.allocated > stats_.peak_allocated) stats_.peak_allocated = stats_.allocated;
    return p;
  }

  // Never throws: it runs in Storage's destructor.
  void free(void* p) noexcept {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) {
      std::fprintf(stderr, "bertlab cuda::free: %p was not allocated by cuda::malloc (ignored)\n", p);
      return;
    }
    const size_t size = it->second;
    live_.erase(it);
    stats_.allocated -= size;
    if (caching_) {
      free_[size].push_back(p);
      return;
    }
    // Without the cache the memory goes back at once: wait for the kernels that may use it.
    cudaError_t err = cudaStreamSynchronize(stream());
    if (err == cudaSuccess) err = cudaFree(p);
    if (err != cudaSuccess) {
      cudaGetLastError();
      if (err != cudaErrorCudartUnloading)  // after main returned: the driver frees everything anyway
        std::fprintf(stderr, "bertlab cuda::free: %s\n", cudaGetErrorString(err));
    }
    stats_.reserved -= size;
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mu_);
    release_cached();
  }

  AllocatorStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  // cudaMalloc, emptying the cache and retrying once when the device is full.
  void* device_malloc(size_t requested, size_t size) {
    require("cuda::malloc");
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, size);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clear it, or the next launch check would report it
      release_cached();
      err = cudaMalloc(&p, size);
    }
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      size_t free_b = 0, total_b = 0;
      cudaMemGetInfo(&free_b, &total_b);
      cudaGetLastError();
      fail("cuda::malloc: out of device memory allocating " + std::to_string(requested) + " bytes (" +
           mib(size) + " block) on " + device_name() + ": tensors hold " + mib(stats_.allocated) +
           ", reserved " + mib(stats_.reserved) + ", peak " + mib(stats_.peak_allocated) + ", " +
           std::to_string(stats_.num_device_mallocs) + " cudaMalloc calls so far; the device reports " +
           mib(free_b) + " free of " + mib(total_b));
    }
    CUDA_CHECK(err);
    ++stats_.num_device_mallocs;
    stats_.reserved += size;
    return p;
  }

  // Returns every cached block to the driver. Waits first: a kernel queued before a block
  // was freed may still be reading it.
  void release_cached() {
    bool any = false;
    for (auto& [size, blocks] : free_) any = any || !blocks.empty();
    if (!any) return;
    CUDA_CHECK(cudaStreamSynchronize(stream()));
    for (auto& [size, blocks] : free_) {
      for (void* p : blocks) {
        CUDA_CHECK(cudaFree(p));
        stats_.reserved -= size;
      }
      blocks.clear();
    }
  }

  std::mutex mu_;
  bool caching_ = true;
  std::unordered_map<size_t, std::vector<void*>> free_;  // size class -> cached blocks
  std::unordered_map<void*, size_t> live_;               // handed-out block -> its size
  AllocatorStats stats_;
};

// Never destroyed: tensors in static storage may be freed after main returns.
static CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator();
  return *a;
}

void* malloc(size_t nbytes) { return allocator().malloc(nbytes); }
void free(void* p) { allocator().free(p); }
void empty_cache() { allocator().empty_cache(); }
AllocatorStats allocator_stats() { return allocator().stats(); }

}  // namespace bertlab::cuda
