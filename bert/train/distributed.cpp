// bert/train/distributed.cpp — see distributed.h.
#include "bert/train/distributed.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <thread>

#include "autograd/graph.h"
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
      std::fflush(stdout);
      std::fprintf(stderr,
                   "bertlab: error: rank %d of %d: no answer from the other ranks for %.0f s while exchanging %s: a rank "
                   "died or hangs (BERTLAB_DIST_TIMEOUT=%g); stopping the job\n",
                   g_rank, g_size, s, what, limit);
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
  for (const Tensor& t : tensors) {
    if (t.device() != Device::CPU || !t.is_contiguous())
      fail(std::string("distributed: ") + what + ": only contiguous CPU tensors can be broadcast");
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
    bump_version(t);  // cached copies of the weights (bfloat16, packed) are stale
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

bool overlap_enabled() {
  const char* s = std::getenv("BERTLAB_DDP_OVERLAP");
  return !(s && std::string(s) == "0");
}

GradientReducer::GradientReducer(const std::vector<Tensor>& params, int64_t bucket_bytes) {
  // reverse order: backward finishes the last layers' gradients first; a bucket holds one dtype
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    const Tensor& p = *it;
    if (p.device() != Device::CPU)
      fail("distributed: data-parallel training over MPI needs the parameters on the CPU (NCCL for GPUs is not "
           "built yet); run on the CPU or with one process");
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

LeafReadyGuard GradientReducer::arm(double scale) {
  scale_ = scale;
  armed_ = true;
  next_ = 0;
  for (Bucket& b : buckets_) {
    b.pending = (int64_t)b.params.size();
    b.ready = false;
  }
  if (g_size == 1) return LeafReadyGuard(nullptr);
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

}  // namespace bertlab::dist
