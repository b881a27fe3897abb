// bert/train/distributed.h — data-parallel training over MPI: one process (a rank) per
// replica, each with a whole copy of the model, each on its own slice of every batch.
//
//   mpirun -np 2 bertlab finetune classify ...     two ranks on this machine
//   bertlab finetune classify ...                  one process, no MPI at all (as before)
//
// A step on N ranks (PyTorch DistributedDataParallel's recipe):
//   every rank: forward + backward on its slice of the global batch   (no communication)
//   all ranks:  gradients summed in flat buckets of about 25 MB (MPI_Allreduce), each rank's
//               gradient weighted so that the sum is the mean over the ranks' micro-batches,
//               the same mean gradient accumulation takes over micro-batches
//   every rank: the same clipping and the same AdamW step on the same gradients, so the
//               replicas stay identical without sending weights again
// At the start rank 0's parameters are broadcast, so every rank starts from the same weights
// whatever it loaded or initialised.
//
// MPI starts only when the process was launched by an MPI launcher (mpirun, mpiexec, srun:
// they set OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK); a binary built without MPI refuses
// to run under one rather than train N unrelated copies. Every wait for the other ranks has
// a deadline (BERTLAB_DIST_TIMEOUT seconds, default 600): a rank that died or hangs makes the
// others stop with a message naming what they waited for, instead of waiting for ever.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "autograd/graph.h"
#include "autograd/tensor.h"

namespace bertlab::nn {
class AdamW;
}

namespace bertlab::dist {

// Whether this binary was built with MPI (meson -Dmpi=auto finds OpenMPI).
bool built_with_mpi();

// Starts MPI if this process was launched by an MPI launcher (idempotent). Call it first
// in main(); with one process it does nothing.
void init(int* argc, char*** argv);
// Ends MPI (from main, after the command returned or threw); a no-op without it.
void finalize();
// Stops every rank after an error on this one (MPI_Abort): a rank that throws out of a
// training run while the others wait in a collective would otherwise leave them hanging.
[[noreturn]] void abort_all(int exit_code);

int rank();        // 0 .. world_size() - 1
int world_size();  // 1 without MPI
inline bool is_main() { return rank() == 0; }  // the rank that prints and writes files

// --- collectives (every rank must call them, in the same order) ------------------------
// With one process each returns at once with the local values.

// Sums `v` elementwise over the ranks, in place (the same result on every rank).
void allreduce_sum(std::vector<double>& v, const char* what);
// True on every rank when `local` is true on any of them.
bool any(bool local, const char* what);
// Every rank's values, rank-major: out[r * local.size() + i] (all ranks give the same count).
std::vector<uint64_t> allgather(const std::vector<uint64_t>& local, const char* what);
// Rank 0's values of every tensor (contiguous, on the CPU) copied into the others' tensors.
void broadcast(const std::vector<Tensor>& tensors, const char* what);
// timeout: seconds (< 0: BERTLAB_DIST_TIMEOUT; 0: none, for waits on rank 0's own work, such
// as an evaluation or a checkpoint of unknown length: a rank that dies then is still noticed
// by mpirun).
void barrier(const char* what, double timeout = -1);

// Sums the parameters' gradients over the ranks, in flat buckets (reverse parameter order,
// as backward produces them), each gradient scaled by `scale` first. Parameters on the GPU are
// summed there by NCCL (its communicator set up over MPI on first use), after backward. A parameter without a
// gradient counts as zeros; it gets one only if some other rank's was not zero, so a parameter
// no rank used keeps none, as in one process. float32 and float64 parameters on the CPU.
//
// Two ways to use it:
//   reduce(scale)                 after backward: all buckets, then wait (overlap off)
//   { auto g = arm(scale);        before the step's last backward: each bucket starts its
//     loss.backward(); }          all-reduce as soon as backward has finished its gradients
//   finish();                     (autograd's LeafReadyGuard), on a thread that only talks MPI;
//                                 finish() starts what is left and waits for all
// Buckets start in index order on every rank (MPI needs the same order of collectives
// everywhere): a bucket that is ready waits for the ones before it.
class GradientReducer {
 public:
  explicit GradientReducer(const std::vector<Tensor>& params, int64_t bucket_bytes = 25ll << 20);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  void reduce(double scale);
  [[nodiscard]] LeafReadyGuard arm(double scale);
  void finish();

  int64_t buckets() const { return (int64_t)buckets_.size(); }
  bool on_gpu() const { return cuda_; }
  int64_t bytes() const { return bytes_; }
  // Buckets whose all-reduce started during backward, over all armed steps so far.
  int64_t started_early() const { return started_early_; }
  // Seconds the caller waited in finish() / reduce() (communication not hidden).
  double exposed_seconds() const { return exposed_; }

 private:
  struct Bucket {
    std::vector<Tensor> params;
    DType dtype;
    int64_t numel = 0;
    std::vector<char> flat;
    int64_t pending = 0;  // parameters whose gradient is not final yet (armed step)
    bool ready = false;
    Tensor device_flat;   // on the GPU: the bucket there (NCCL)
  };
  void reduce_cuda(double scale);
  static void init_nccl();
  void launch_ready(bool all);  // starts buckets in order while they are ready (or all)
  void pack(Bucket& b);
  void unpack(Bucket& b);
  void worker();

  bool cuda_ = false;  // parameters on the GPU: NCCL instead of MPI
  std::vector<Bucket> buckets_;
  std::unordered_map<const TensorImpl*, size_t> bucket_of_;
  int64_t bytes_ = 0;
  double scale_ = 1.0;
  size_t next_ = 0;  // the next bucket to start
  bool armed_ = false;
  int64_t started_early_ = 0;
  double exposed_ = 0;
  // the communication thread: takes bucket indices from queue_, all-reduces them in order
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<size_t> queue_;
  size_t completed_ = 0;
  bool stop_ = false;
};

// ZeRO stage 1 (Rajbhandari et al., 2020, "ZeRO: memory optimizations toward training trillion
// parameter models"): AdamW's two moments, twice the model's size, are split over the ranks
// instead of kept whole on each. A step, in place of the all-reduce and opt.step():
//
//   all ranks:  reduce_scatter(scale, clip)   every bucket of gradients is summed, each rank
//                                             receiving only its 1/N slice of the sum; the
//                                             global norm is the sum of the slices' squares
//   every rank: step()                        AdamW on its slice only (its slice of the moments),
//                                             then an all-gather of the updated parameters
//
// The parameters are the optimizer's, flattened in order and cut into buckets (about
// BERTLAB_BUCKET_MB); rank r owns the r-th 1/N of each bucket (the last rank's padded). The
// arithmetic per element is AdamW's own, so the weights equal the all-reduce path's up to the
// order in which the global norm is summed. The checkpoint holds the whole state, as one
// process writes it: gather_state() assembles it on rank 0 before a save, release_state()
// drops it again; a run may resume with or without ZeRO. No overlap with backward here:
// the reduce-scatter starts after it. float32 or float64, on the CPU.
class ZeroOptimizer {
 public:
  // Takes over opt's moments (their slices; the whole ones are freed).
  ZeroOptimizer(nn::AdamW& opt, int64_t bucket_bytes);
  ZeroOptimizer(const ZeroOptimizer&) = delete;
  ZeroOptimizer& operator=(const ZeroOptimizer&) = delete;

  // The gradients summed over the ranks (each scaled by `scale` first), this rank's slice;
  // clipped to max_norm (inf: none) as clip_grad_norm does. Returns the global norm.
  double reduce_scatter(double scale, double max_norm);
  // AdamW on this rank's slice (opt's lr and step count), then the all-gather.
  void step();
  void gather_state();   // the whole moments into opt, on rank 0 (collective)
  void release_state();  // and freed again

  int64_t state_bytes() const { return state_bytes_; }   // whole moments, all ranks
  int64_t shard_bytes() const { return shard_bytes_; }   // this rank's
  double comm_seconds() const { return comm_; }

 private:
  struct Piece {        // a parameter's run of elements inside a bucket
    size_t param;       // index into params_
    int64_t at, len;    // bucket offset, count; the parameter's elements [off, off + len)
    int64_t off;
  };
  struct Bucket {
    std::vector<Piece> pieces;
    int64_t numel = 0, chunk = 0;  // chunk = this bucket's slice per rank (numel padded / N)
    std::vector<char> m, v, g;     // this rank's slice of the moments and of the summed gradient
  };
  template <typename T> void pack_grads(const Bucket& b, T* flat, T scale) const;
  template <typename T> double shard_step(Bucket& b, bool norm_only, double coef);
  template <typename T> void moments_to_opt(Bucket& b, bool to_opt);

  nn::AdamW& opt_;
  DType dtype_;
  std::vector<Tensor> params_;
  std::vector<double> decay_;     // each parameter's weight decay
  std::vector<std::pair<size_t, size_t>> where_;  // each parameter's (group, index) in opt
  std::vector<char> has_grad_;    // on some rank, this step
  std::vector<Bucket> buckets_;
  std::vector<char> scratch_;     // a whole bucket, padded
  int64_t state_bytes_ = 0, shard_bytes_ = 0;
  double comm_ = 0;
};

// The bucket size: BERTLAB_BUCKET_MB (default 25, as PyTorch DDP's bucket_cap_mb).
int64_t bucket_bytes();

// BERTLAB_DDP_FORCE=1: the data-parallel path (buckets, NCCL on the GPU) even on one rank,
// where it sums nothing; for tests that compare it with the plain path on one device.
bool force_data_parallel();

// Whether gradients are sent during backward (BERTLAB_DDP_OVERLAP=0 turns it off; for
// benchmarks).
bool overlap_enabled();

}  // namespace bertlab::dist
