// cuda/no_nccl.cpp — a CUDA build without NCCL (libnccl not found next to the toolkit):
// GPU training runs on one process; data parallel on GPUs says what is missing.
#include "autograd/tensor.h"
#include "cuda/cuda.h"

namespace bertlab::cuda {

[[noreturn]] static void no_nccl() {
  fail("data-parallel training on GPUs needs NCCL; this bertlab was built without it (libnccl and nccl.h were not "
       "found next to the CUDA toolkit); reconfigure where they are, or train on the CPU");
}

bool nccl_built() { return false; }
std::string nccl_unique_id() { no_nccl(); }
void nccl_init(int, int, const std::string&) { no_nccl(); }
void nccl_allreduce_sum(void*, size_t, bool) { no_nccl(); }
void nccl_broadcast(void*, size_t) { no_nccl(); }

}  // namespace bertlab::cuda
