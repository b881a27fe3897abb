// bert/train/distributed.cpp — see distributed.h.
#include "bert/train/distributed.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <utility>

#include "autograd/graph.h"
#include "cuda/cuda.h"
#include "nn/optim.h"
#include "ops/cpu/optim.h"
#include "ops/ops.h"

#ifdef BERTLAB_HAVE_MPI
#include <mpi.h>
#endif

namespace bertlab::dist {

namespace {

int g_rank = 0, g_size = 1;
bool g_mpi = false;  // MPI_Init ran

// Set by an MPI launcher in every process it starts (OpenMPI, MPICH / Intel MPI and slurm's
// PMI, PMIx).
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

[[maybe_unused]] double timeout_seconds() {
  static const double t = [] {
    const char* s = std::getenv("BERTLAB_DIST_TIMEOUT");
    if (!s || !*s) return 600.0;
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    if (end == s || *end || !(v > 0)) {
      std::fprintf(stderr, "bertlab: error: BERTLAB_DIST_TIMEOUT must be a positive number of seconds, got '%s'\n", s);
      std::exit(2);
    }
    return v;
  }();
  return t;
}

#ifdef BERTLAB_HAVE_MPI
MPI_Comm g_roll_call = MPI_COMM_NULL;  // a copy of MPI_COMM_WORLD for roll_call() alone

// After a timeout: which ranks are still there. Every rank that timed out sends its number to
// every other and listens for theirs, on a communicator of its own (the stuck collective
// blocks nothing there), for `grace` seconds. The ranks whose number never came are the ones
// that died, hang, or are busy outside MPI. Returns them as "rank 1", "ranks 1, 3".
std::string roll_call(double grace) {
  using clock = std::chrono::steady_clock;
  // (static: requests left pending, to a rank that never answers, still point at them when this
  // returns and the job is aborted)
  static std::vector<int> heard;
  static std::vector<MPI_Request> recv, send;
  static int me;
  heard.assign(g_size, -1);
  recv.assign(g_size, MPI_REQUEST_NULL);
  send.assign(g_size, MPI_REQUEST_NULL);
  me = g_rank;
  for (int r = 0; r < g_size; ++r) {
    if (r == me) continue;
    MPI_Irecv(&heard[r], 1, MPI_INT, r, 7, g_roll_call, &recv[r]);
    MPI_Isend(&me, 1, MPI_INT, r, 7, g_roll_call, &send[r]);
  }
  const auto t0 = clock::now();
  for (bool all = false; !all && std::chrono::duration<double>(clock::now() - t0).count() < grace;) {
    all = true;
    for (int r = 0; r < g_size; ++r) {
      if (r == me || recv[r] == MPI_REQUEST_NULL) continue;
      int done = 0;
      MPI_Test(&recv[r], &done, MPI_STATUS_IGNORE);
      all = all && done;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string silent;
  int count = 0;
  for (int r = 0; r < g_size; ++r)
    if (r != me && heard[r] != r) {
      silent += (count++ ? ", " : "") + std::to_string(r);
    }
  return count == 0 ? std::string() : (count == 1 ? "rank " : "ranks ") + silent;
}

// Waits for a non-blocking collective, polling it (OpenMPI progresses a collective only
// inside MPI calls). Past the deadline the other ranks are taken to be dead or hung: this
// rank says so and aborts the job.
void wait(MPI_Request& req, const char* what, double limit = -1) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  if (limit < 0) limit = timeout_seconds();
  for (;;) {
    int done = 0;
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (done) return;
    const double s = std::chrono::duration<double>(clock::now() - t0).count();
    if (limit > 0 && s > limit) {
      // the ranks still running time out within moments of each other; they answer the roll
      // call, and the ones that do not are named
      const std::string silent = roll_call(std::min(10.0, std::max(2.0, limit)));
      std::fflush(stdout);
      std::fprintf(stderr,
                   "bertlab: error: rank %d of %d: no answer from the other ranks for %.0f s while exchanging %s: %s "
                   "(BERTLAB_DIST_TIMEOUT=%g); stopping the job\n",
                   g_rank, g_size, s, what,
                   silent.empty() ? "every rank answered a roll call after the timeout, so they wait in different places "
                                    "(a bug: please report it)"
                                  : (silent + " did not answer (died, hangs, or is busy outside MPI)").c_str(),
                   limit);
      std::fflush(stderr);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (s > 0.002) std::this_thread::sleep_for(std::chrono::microseconds(50));  // not a busy wait
  }
}

MPI_Datatype mpi_type(DType t) {
  if (t == DType::Float32) return MPI_FLOAT;
  if (t == DType::Float64) return MPI_DOUBLE;
  fail(std::string("distributed: gradients of dtype ") + dtype_name(t) + " are not supported (float32, float64)");
}
#endif

}  // namespace

bool built_with_mpi() {
#ifdef BERTLAB_HAVE_MPI
  return true;
#else
  return false;
#endif
}

void init(int* argc, char*** argv) {
  if (g_mpi || !launched_by_mpi()) return;
#ifdef BERTLAB_HAVE_MPI
  // The gradient buckets are sent by a thread of their own (GradientReducer), one thread
  // at a time calling MPI: MPI_THREAD_SERIALIZED at least.
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided);
  g_mpi = true;
  MPI_Comm_dup(MPI_COMM_WORLD, &g_roll_call);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  if (provided < MPI_THREAD_SERIALIZED) {
    std::fprintf(stderr, "bertlab: error: this MPI library gives threads level %d; data-parallel training needs "
                 "MPI_THREAD_SERIALIZED (%d) or more\n", provided, (int)MPI_THREAD_SERIALIZED);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  // Only rank 0 talks: the others' standard output goes nowhere (their errors still reach
  // stderr, prefixed with the rank).
  if (g_rank != 0 && !std::freopen("/dev/null", "w", stdout)) std::perror("bertlab: /dev/null");
  // A machine with several GPUs: each rank on this machine takes its own (its local rank,
  // modulo the devices), before any CUDA work.
  if (const int gpus = cuda::device_count(); gpus > 1) {
    MPI_Comm local;
    int local_rank = 0;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &local);
    MPI_Comm_rank(local, &local_rank);
    MPI_Comm_free(&local);
    cuda::set_device(local_rank % gpus);
  }
#else
  (void)argc;
  (void)argv;
  std::fprintf(stderr,
               "bertlab: error: started by an MPI launcher (mpirun, srun), but this bertlab was built without MPI: "
               "install libopenmpi-dev and rebuild (meson setup -Dmpi=enabled)\n");
  std::exit(1);
#endif
}

void finalize() {
#ifdef BERTLAB_HAVE_MPI
  if (g_mpi) MPI_Finalize();
  g_mpi = false;
#endif
}

void abort_all(int exit_code) {
#ifdef BERTLAB_HAVE_MPI
  if (g_mpi && g_size > 1) {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code);
  }
#endif
  std::exit(exit_code);
}

int rank() { return g_rank; }
int world_size() { return g_size; }

void allreduce_sum(std::vector<double>& v, const char* what) {
  if (g_size == 1 || v.empty()) return;
#ifdef BERTLAB_HAVE_MPI
  MPI_Request r;
  MPI_Iallreduce(MPI_IN_PLACE, v.data(), (int)v.size(), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &r);
  wait(r, what);
#else
  (void)what;
#endif
}

bool any(bool local, const char* what) {
  std::vector<double> v{local ? 1.0 : 0.0};
  allreduce_sum(v, what);
  return v[0] > 0;
}

std::vector<uint64_t> allgather(const std::vector<uint64_t>& local, const char* what) {
  if (g_size == 1) return local;
  std::vector<uint64_t> out(local.size() * (size_t)g_size);
#ifdef BERTLAB_HAVE_MPI
  MPI_Request r;
  MPI_Iallgather(local.data(), (int)local.size(), MPI_UINT64_T, out.data(), (int)local.size(), MPI_UINT64_T,
                 MPI_COMM_WORLD, &r);
  wait(r, what);
#else
  (void)what;
#endif
  return out;
}

void broadcast(const std::vector<Tensor>& tensors, const char* what) {
  if (g_size == 1) return;
#ifdef BERTLAB_HAVE_MPI
  for (const Tensor& dev : tensors) {
    // a GPU tensor goes through the host (once, at the start of a run)
    const Tensor t = dev.device() == Device::CPU ? dev : dev.to(Device::CPU);
    if (!t.is_contiguous()) fail(std::string("distributed: ") + what + ": only contiguous tensors can be broadcast");
    // in pieces under 2^31 bytes (MPI counts are int)
    char* p = static_cast<char*>(t.raw_data());
    int64_t left = t.numel() * (int64_t)dtype_size(t.dtype());
    while (left > 0) {
      const int n = (int)std::min<int64_t>(left, 1 << 30);
      MPI_Request r;
      MPI_Ibcast(p, n, MPI_BYTE, 0, MPI_COMM_WORLD, &r);
      wait(r, what);
      p += n;
      left -= n;
    }
    if (dev.device() != Device::CPU) copy_(dev, t);
    bump_version(dev);  // cached copies of the weights (bfloat16, packed) are stale
  }
#else
  (void)tensors;
  (void)what;
#endif
}

void barrier(const char* what, double timeout) {
  if (g_size == 1) return;
#ifdef BERTLAB_HAVE_MPI
  MPI_Request r;
  MPI_Ibarrier(MPI_COMM_WORLD, &r);
  wait(r, what, timeout < 0 ? -1 : timeout == 0 ? 0 : timeout);
#else
  (void)what;
  (void)timeout;
#endif
}

// --- the gradient buckets ------------------------------------------------------------------

int64_t bucket_bytes() {
  const char* s = std::getenv("BERTLAB_BUCKET_MB");
  if (!s || !*s) return 25ll << 20;
  char* end = nullptr;
  const double mb = std::strtod(s, &end);
  if (end == s || *end || !(mb > 0 && mb <= 4096))
    fail(std::string("BERTLAB_BUCKET_MB must be a number of megabytes in (0, 4096], got '") + s + "'");
  return std::max<int64_t>(4096, (int64_t)(mb * (1 << 20)));
}

bool force_data_parallel() {
  const char* s = std::getenv("BERTLAB_DDP_FORCE");
  return s && std::string(s) == "1";
}

bool overlap_enabled() {
  const char* s = std::getenv("BERTLAB_DDP_OVERLAP");
  return !(s && std::string(s) == "0");
}

GradientReducer::GradientReducer(const std::vector<Tensor>& params, int64_t bucket_bytes) {
  // reverse order: backward finishes the last layers' gradients first; a bucket holds one dtype
  cuda_ = !params.empty() && params.front().device() == Device::CUDA;
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    const Tensor& p = *it;
    if ((p.device() == Device::CUDA) != cuda_ || !p.is_contiguous())
      fail("distributed: the parameters must be dense and all on the CPU or all on the GPU");
    if (p.dtype() != DType::Float32 && p.dtype() != DType::Float64)
      fail(std::string("distributed: a ") + dtype_name(p.dtype()) + " parameter (float32 or float64 only)");
    if (bucket_of_.count(p.impl())) continue;  // listed twice
    const int64_t bytes = p.numel() * (int64_t)dtype_size(p.dtype());
    if (buckets_.empty() || buckets_.back().dtype != p.dtype() ||
        (buckets_.back().numel * (int64_t)dtype_size(p.dtype()) + bytes > bucket_bytes && !buckets_.back().params.empty()))
      buckets_.push_back(Bucket{{}, p.dtype(), 0, {}, 0, false});
    Bucket& b = buckets_.back();
    if (b.numel + p.numel() > (int64_t)std::numeric_limits<int>::max())
      fail("distributed: a bucket over 2^31 elements (lower BERTLAB_BUCKET_MB)");
    b.params.push_back(p);
    b.numel += p.numel();
    bucket_of_[p.impl()] = buckets_.size() - 1;
    bytes_ += bytes;
  }
  if (cuda_) {  // the buckets live on the GPU and NCCL sums them there; no thread of our own
    init_nccl();
    for (Bucket& b : buckets_) b.device_flat = zeros({b.numel}, b.dtype, Device::CUDA);
    return;
  }
  for (Bucket& b : buckets_) b.flat.resize((size_t)(b.numel * (int64_t)dtype_size(b.dtype)));
  if (g_size > 1) thread_ = std::thread([this] { worker(); });
}

GradientReducer::~GradientReducer() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
}

namespace {
template <typename T>
void pack_as(std::vector<Tensor>& params, T* flat, T scale) {
  for (Tensor& p : params) {
    Tensor g = p.grad();
    const int64_t n = p.numel();
    if (!g.defined()) {
      std::memset(flat, 0, (size_t)n * sizeof(T));
    } else {
      if (!g.is_contiguous()) g = g.contiguous();
      const T* s = g.data<T>();
      for (int64_t i = 0; i < n; ++i) flat[i] = s[i] * scale;
    }
    flat += n;
  }
}
template <typename T>
void unpack_as(std::vector<Tensor>& params, const T* flat) {
  for (Tensor& p : params) {
    Tensor g = p.grad();
    // a parameter no gradient reached, here or on any rank, keeps none (as in one process:
    // AdamW then leaves it alone, weight decay included)
    if (!g.defined() && std::all_of(flat, flat + p.numel(), [](T v) { return v == T(0); })) {
      flat += p.numel();
      continue;
    }
    if (!g.defined() || !g.is_contiguous()) {
      g = zeros_like(p);
      p.set_grad(g);
    }
    std::memcpy(g.data<T>(), flat, (size_t)p.numel() * sizeof(T));
    flat += p.numel();
  }
}
}  // namespace

void GradientReducer::pack(Bucket& b) {
  if (b.dtype == DType::Float32)
    pack_as(b.params, reinterpret_cast<float*>(b.flat.data()), (float)scale_);
  else
    pack_as(b.params, reinterpret_cast<double*>(b.flat.data()), scale_);
}
void GradientReducer::unpack(Bucket& b) {
  if (b.dtype == DType::Float32)
    unpack_as(b.params, reinterpret_cast<const float*>(b.flat.data()));
  else
    unpack_as(b.params, reinterpret_cast<const double*>(b.flat.data()));
}

// The communication thread: all-reduces the buckets it is handed, in the order handed.
// Only this thread calls MPI while a step's buckets are in flight (the main thread waits in
// finish() before its own next MPI call).
void GradientReducer::worker() {
#ifdef BERTLAB_HAVE_MPI
  for (;;) {
    size_t i;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_
      i = queue_.front();
      queue_.pop_front();
    }
    Bucket& b = buckets_[i];
    MPI_Request r;
    MPI_Iallreduce(MPI_IN_PLACE, b.flat.data(), (int)b.numel, mpi_type(b.dtype), MPI_SUM, MPI_COMM_WORLD, &r);
    wait(r, "gradients");
    {
      std::lock_guard<std::mutex> lk(mu_);
      ++completed_;
    }
    cv_.notify_all();
  }
#endif
}

void GradientReducer::launch_ready(bool all) {
  while (next_ < buckets_.size() && (all || buckets_[next_].ready)) {
    Bucket& b = buckets_[next_];
    pack(b);
    if (!all) ++started_early_;
    {
      std::lock_guard<std::mutex> lk(mu_);
      queue_.push_back(next_);
    }
    cv_.notify_all();
    ++next_;
  }
}

// The GPU path: NCCL has no thread of ours to hand buckets to; each bucket is packed, summed
// and unpacked on the backend's stream after backward (no overlap yet), and the host never
// waits for it. Which parameters got a gradient is agreed over MPI first (host values).
void GradientReducer::reduce_cuda(double scale) {
  NoGradGuard ng;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<Tensor> order;
  for (const Bucket& b : buckets_) order.insert(order.end(), b.params.begin(), b.params.end());
  std::vector<double> reached(order.size());
  for (size_t k = 0; k < order.size(); ++k) reached[k] = order[k].grad().defined() ? 1.0 : 0.0;
  allreduce_sum(reached, "which parameters have gradients");
  size_t k0 = 0;
  for (Bucket& b : buckets_) {
    int64_t off = 0;
    for (const Tensor& p : b.params) {
      const Tensor slot = narrow(b.device_flat, 0, off, p.numel());
      if (const Tensor g = p.grad(); g.defined())
        copy_(slot, reshape(scale == 1.0 ? g : g * scale, {p.numel()}));
      else
        cuda::memset_zero(slot.raw_data(), (size_t)p.numel() * dtype_size(b.dtype));
      off += p.numel();
    }
    cuda::nccl_allreduce_sum(b.device_flat.raw_data(), (size_t)b.numel, b.dtype == DType::Float64);
    off = 0;
    for (Tensor p : b.params) {
      if (reached[k0++] > 0) {  // a parameter no rank's gradient reached keeps none
        if (!p.grad().defined()) p.set_grad(zeros_like(p));
        copy_(p.grad(), reshape(narrow(b.device_flat, 0, off, p.numel()), p.shape()));
      }
      off += p.numel();
    }
  }
  exposed_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void GradientReducer::init_nccl() {
  static bool done = false;
  if (done) return;
  std::string id = g_rank == 0 ? cuda::nccl_unique_id() : std::string();
#ifdef BERTLAB_HAVE_MPI
  if (g_size > 1) {
    std::vector<char> buf(128, 0);
    if (g_rank == 0) std::copy(id.begin(), id.end(), buf.begin());
    MPI_Request r;
    MPI_Ibcast(buf.data(), (int)buf.size(), MPI_BYTE, 0, MPI_COMM_WORLD, &r);
    wait(r, "NCCL's unique id");
    id.assign(buf.begin(), buf.end());
  }
#endif
  cuda::nccl_init(g_rank, g_size, id);
  done = true;
}

LeafReadyGuard GradientReducer::arm(double scale) {
  scale_ = scale;
  armed_ = true;
  next_ = 0;
  for (Bucket& b : buckets_) {
    b.pending = (int64_t)b.params.size();
    b.ready = false;
  }
  if (g_size == 1 || cuda_) return LeafReadyGuard(nullptr);
  return LeafReadyGuard([this](TensorImpl* leaf) {
    auto it = bucket_of_.find(leaf);
    if (it == bucket_of_.end()) return;  // not a parameter we reduce
    Bucket& b = buckets_[it->second];
    if (--b.pending == 0) {
      b.ready = true;
      launch_ready(false);
    }
  });
}

void GradientReducer::finish() {
  if (cuda_) {
    reduce_cuda(scale_);
    armed_ = false;
    return;
  }
  if (g_size == 1) {
    reduce(scale_);
    return;
  }
  if (!armed_) {  // not armed: everything starts now
    next_ = 0;
  }
  const auto t0 = std::chrono::steady_clock::now();
  launch_ready(true);  // whatever backward did not finish (a parameter no gradient reached)
  {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return completed_ == buckets_.size(); });
    completed_ = 0;
  }
  for (Bucket& b : buckets_) unpack(b);
  exposed_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  armed_ = false;
}

void GradientReducer::reduce(double scale) {
  if (cuda_) {
    reduce_cuda(scale);
    return;
  }
  if (g_size == 1) {
    if (scale != 1.0)
      for (Bucket& b : buckets_)
        for (Tensor& p : b.params)
          if (Tensor g = p.grad(); g.defined()) {
            NoGradGuard ng;
            copy_(g, g * scale);
          }
    return;
  }
  scale_ = scale;
  armed_ = false;
  finish();
}

// --- ZeRO-1 --------------------------------------------------------------------------------

ZeroOptimizer::ZeroOptimizer(nn::AdamW& opt, int64_t bucket_bytes) : opt_(opt) {
  for (size_t gi = 0; gi < opt.groups.size(); ++gi)
    for (size_t i = 0; i < opt.groups[gi].params.size(); ++i) {
      const Tensor& p = opt.groups[gi].params[i];
      if (p.device() != Device::CPU || !p.is_contiguous())
        fail("ZeRO-1: the parameters must be dense and on the CPU (NCCL for GPUs is not built yet)");
      if (params_.empty()) dtype_ = p.dtype();
      if (p.dtype() != dtype_ || (dtype_ != DType::Float32 && dtype_ != DType::Float64))
        fail(std::string("ZeRO-1: all parameters float32 or all float64, found ") + dtype_name(p.dtype()));
      params_.push_back(p);
      decay_.push_back(opt.groups[gi].weight_decay);
      where_.emplace_back(gi, i);
    }
  const int64_t es = (int64_t)dtype_size(dtype_);
  const int64_t cap = std::max<int64_t>(1, std::min<int64_t>(bucket_bytes / es, std::numeric_limits<int>::max() / g_size));
  // the parameters, one after another, cut into buckets of `cap` elements (one may span two)
  Bucket cur;
  for (size_t k = 0; k < params_.size(); ++k)
    for (int64_t off = 0, n = params_[k].numel(); off < n;) {
      if (cur.numel == cap) buckets_.push_back(std::exchange(cur, Bucket{}));
      const int64_t len = std::min(n - off, cap - cur.numel);
      cur.pieces.push_back(Piece{k, cur.numel, len, off});
      cur.numel += len;
      off += len;
    }
  if (cur.numel > 0) buckets_.push_back(std::move(cur));
  int64_t widest = 0;
  for (Bucket& b : buckets_) {
    b.chunk = (b.numel + g_size - 1) / g_size;
    for (auto* buf : {&b.m, &b.v, &b.g}) buf->assign((size_t)(b.chunk * es), 0);
    widest = std::max(widest, b.chunk * g_size);
    state_bytes_ += 2 * b.numel * es;
    shard_bytes_ += 2 * b.chunk * es;
  }
  scratch_.assign((size_t)(widest * es), 0);
  has_grad_.assign(params_.size(), 0);
  // this rank's slices of the moments opt holds (zeros, or a checkpoint's), then opt lets go
  for (Bucket& b : buckets_) {
    if (dtype_ == DType::Float32)
      moments_to_opt<float>(b, false);
    else
      moments_to_opt<double>(b, false);
  }
  for (auto [gi, i] : where_) opt_.exp_avg(gi, i) = opt_.exp_avg_sq(gi, i) = Tensor();
}

namespace {
// Calls fn(piece, first element in the parameter, first element in the slice, count) for
// every run of rank r's slice of bucket b.
template <typename Bucket, typename Fn>
void for_slice(const Bucket& b, int r, Fn&& fn) {
  const int64_t lo = (int64_t)r * b.chunk, hi = std::min(lo + b.chunk, b.numel);
  for (const auto& pc : b.pieces) {
    const int64_t a = std::max(lo, pc.at), e = std::min(hi, pc.at + pc.len);
    if (a < e) fn(pc, pc.off + (a - pc.at), a - lo, e - a);
  }
}
}  // namespace

template <typename T>
void ZeroOptimizer::moments_to_opt(Bucket& b, bool to_opt) {
  T* m = reinterpret_cast<T*>(b.m.data());
  T* v = reinterpret_cast<T*>(b.v.data());
  for_slice(b, g_rank, [&](const Piece& pc, int64_t poff, int64_t soff, int64_t n) {
    auto [gi, i] = where_[pc.param];
    T* om = opt_.exp_avg(gi, i).template data<T>() + poff;
    T* ov = opt_.exp_avg_sq(gi, i).template data<T>() + poff;
    if (to_opt) {
      std::memcpy(om, m + soff, (size_t)n * sizeof(T));
      std::memcpy(ov, v + soff, (size_t)n * sizeof(T));
    } else {
      std::memcpy(m + soff, om, (size_t)n * sizeof(T));
      std::memcpy(v + soff, ov, (size_t)n * sizeof(T));
    }
  });
}

template <typename T>
void ZeroOptimizer::pack_grads(const Bucket& b, T* flat, T scale) const {
  std::fill(flat, flat + b.chunk * g_size, T(0));  // the padding, and parameters without a gradient
  for (const Piece& pc : b.pieces) {
    Tensor g = params_[pc.param].grad();
    if (!g.defined()) continue;
    if (!g.is_contiguous()) g = g.contiguous();
    const T* s = g.data<T>() + pc.off;
    for (int64_t j = 0; j < pc.len; ++j) flat[pc.at + j] = s[j] * scale;
  }
}

// norm_only: returns the slice's sum of squares of the gradient; otherwise scales it by coef.
template <typename T>
double ZeroOptimizer::shard_step(Bucket& b, bool norm_only, double coef) {
  T* g = reinterpret_cast<T*>(b.g.data());
  const int64_t n = std::min(b.chunk, b.numel - (int64_t)g_rank * b.chunk);
  if (norm_only) return n > 0 ? cpu::sum_squares(dtype_, n, g) : 0.0;
  for (int64_t j = 0; j < n; ++j) g[j] *= (T)coef;
  return 0.0;
}

double ZeroOptimizer::reduce_scatter(double scale, double max_norm) {
  NoGradGuard ng;
  const auto t0 = std::chrono::steady_clock::now();
  // which parameters a gradient reached on some rank (the others take no step, as in one process)
  std::vector<double> reached(params_.size());
  for (size_t k = 0; k < params_.size(); ++k) reached[k] = params_[k].grad().defined() ? 1.0 : 0.0;
  allreduce_sum(reached, "which parameters have gradients");
  for (size_t k = 0; k < params_.size(); ++k) has_grad_[k] = reached[k] > 0;
  double squares = 0;
  for (Bucket& b : buckets_) {
    if (dtype_ == DType::Float32)
      pack_grads(b, reinterpret_cast<float*>(scratch_.data()), (float)scale);
    else
      pack_grads(b, reinterpret_cast<double*>(scratch_.data()), scale);
#ifdef BERTLAB_HAVE_MPI
    MPI_Request r;
    MPI_Ireduce_scatter_block(scratch_.data(), b.g.data(), (int)b.chunk, mpi_type(dtype_), MPI_SUM, MPI_COMM_WORLD, &r);
    wait(r, "gradients (ZeRO-1 reduce-scatter)");
#else
    std::memcpy(b.g.data(), scratch_.data(), b.g.size());
#endif
    squares += dtype_ == DType::Float32 ? shard_step<float>(b, true, 1) : shard_step<double>(b, true, 1);
  }
  std::vector<double> total{squares};
  allreduce_sum(total, "the gradient norm");
  const double norm = std::sqrt(total[0]);
  const double coef = max_norm / (norm + 1e-6);  // clip_grad_norm's rule
  if (coef < 1.0)
    for (Bucket& b : buckets_) dtype_ == DType::Float32 ? shard_step<float>(b, false, coef) : shard_step<double>(b, false, coef);
  comm_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return norm;
}

void ZeroOptimizer::step() {
  NoGradGuard ng;
  const int64_t step = ++opt_.steps_taken;
  const double bc1 = 1.0 - std::pow(opt_.beta1, (double)step), bc2 = 1.0 - std::pow(opt_.beta2, (double)step);
  const int64_t es = (int64_t)dtype_size(dtype_);
  for (Bucket& b : buckets_) {
    // AdamW on this rank's slice, on the parameters' own memory
    for_slice(b, g_rank, [&](const Piece& pc, int64_t poff, int64_t soff, int64_t n) {
      if (!has_grad_[pc.param]) return;
      char* p = static_cast<char*>(params_[pc.param].raw_data()) + poff * es;
      cpu::adamw_step(dtype_, n, p, b.g.data() + soff * es, b.m.data() + soff * es, b.v.data() + soff * es, opt_.lr,
                      opt_.beta1, opt_.beta2, opt_.eps, decay_[pc.param], bc1, bc2);
    });
    // every rank's slice of the updated parameters to every rank
    const auto t0 = std::chrono::steady_clock::now();
    char* flat = scratch_.data();
    for_slice(b, g_rank, [&](const Piece& pc, int64_t poff, int64_t, int64_t n) {
      const int64_t at = pc.at + (poff - pc.off);
      std::memcpy(flat + at * es, static_cast<const char*>(params_[pc.param].raw_data()) + poff * es, (size_t)(n * es));
    });
#ifdef BERTLAB_HAVE_MPI
    MPI_Request r;
    MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, flat, (int)b.chunk, mpi_type(dtype_), MPI_COMM_WORLD, &r);
    wait(r, "parameters (ZeRO-1 all-gather)");
#endif
    for (const Piece& pc : b.pieces)
      std::memcpy(static_cast<char*>(params_[pc.param].raw_data()) + pc.off * es, flat + pc.at * es, (size_t)(pc.len * es));
    comm_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  for (const Tensor& p : params_) bump_version(p);  // cached copies of the weights are stale
}

void ZeroOptimizer::gather_state() {
  const int64_t es = (int64_t)dtype_size(dtype_);
  if (g_rank == 0)
    for (size_t k = 0; k < params_.size(); ++k) {
      auto [gi, i] = where_[k];
      opt_.exp_avg(gi, i) = zeros_like(params_[k]);
      opt_.exp_avg_sq(gi, i) = zeros_like(params_[k]);
    }
  for (Bucket& b : buckets_)
    for (int which = 0; which < 2; ++which) {
      std::vector<char>& mine = which == 0 ? b.m : b.v;
#ifdef BERTLAB_HAVE_MPI
      MPI_Request r;
      MPI_Igather(mine.data(), (int)b.chunk, mpi_type(dtype_), scratch_.data(), (int)b.chunk, mpi_type(dtype_), 0,
                  MPI_COMM_WORLD, &r);
      wait(r, "the optimizer state (ZeRO-1 gather for a checkpoint)");
#else
      std::memcpy(scratch_.data(), mine.data(), mine.size());
#endif
      if (g_rank != 0) continue;
      for (const Piece& pc : b.pieces) {
        auto [gi, i] = where_[pc.param];
        Tensor& t = which == 0 ? opt_.exp_avg(gi, i) : opt_.exp_avg_sq(gi, i);
        std::memcpy(static_cast<char*>(t.raw_data()) + pc.off * es, scratch_.data() + pc.at * es, (size_t)(pc.len * es));
      }
    }
}

void ZeroOptimizer::release_state() {
  for (auto [gi, i] : where_) opt_.exp_avg(gi, i) = opt_.exp_avg_sq(gi, i) = Tensor();
}

}  // namespace bertlab::dist
