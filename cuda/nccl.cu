// cuda/nccl.cu — NCCL for data-parallel training on GPUs (cuda.h; bert/train/distributed.h).
// One communicator per process, made from rank 0's unique id; every call is queued on the
// backend's one stream, so a sum starts after the kernels that produced its input and the
// kernels after it wait for it, with no host synchronisation.
#include <nccl.h>

#include <cstring>

#include "cuda/common.cuh"

namespace bertlab::cuda {

cudaStream_t stream();

namespace {

ncclComm_t g_comm = nullptr;

void nccl_check(ncclResult_t r, const char* call) {
  if (r != ncclSuccess) fail(std::string("NCCL error: ") + call + " failed: " + ncclGetErrorString(r));
}

ncclComm_t comm(const char* what) {
  if (!g_comm) fail(std::string(what) + ": NCCL is not initialised (distributed.cpp calls nccl_init first)");
  return g_comm;
}

}  // namespace

bool nccl_built() { return true; }

std::string nccl_unique_id() {
  ncclUniqueId id;
  nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
  return std::string(id.internal, sizeof id.internal);
}

void nccl_init(int rank, int world, const std::string& id) {
  if (g_comm) return;
  ncclUniqueId uid;
  if (id.size() != sizeof uid.internal)
    fail("nccl_init: the unique id has " + std::to_string(id.size()) + " bytes, expected " +
         std::to_string(sizeof uid.internal));
  std::memcpy(uid.internal, id.data(), sizeof uid.internal);
  nccl_check(ncclCommInitRank(&g_comm, world, uid, rank), "ncclCommInitRank");
}

void nccl_allreduce_sum(void* data, size_t count, bool is_double) {
  nccl_check(ncclAllReduce(data, data, count, is_double ? ncclDouble : ncclFloat, ncclSum, comm("nccl_allreduce_sum"),
                           stream()),
             "ncclAllReduce");
}

void nccl_broadcast(void* data, size_t bytes) {
  nccl_check(ncclBroadcast(data, data, bytes, ncclUint8, 0, comm("nccl_broadcast"), stream()), "ncclBroadcast");
}

}  // namespace bertlab::cuda
