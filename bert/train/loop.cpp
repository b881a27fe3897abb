// bert/train/loop.cpp — see loop.h.
#include "bert/train/loop.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include "autograd/graph.h"
#include "bert/train/distributed.h"
#include "bert/train/run.h"
#include "ops/ops.h"

namespace bertlab::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string fmt_count(int64_t part, int64_t whole) { return std::to_string(part) + " of " + std::to_string(whole); }

// A step whose values are still on the device.
struct PendingStep {
  int64_t step;
  Tensor loss, grad_norm;     // ()
  std::vector<Tensor> parts;  // ()
  double lr, items;
};

}  // namespace

LoopResult run_training_loop(TrainingTask& task, const std::vector<Tensor>& params, nn::Optimizer& opt,
                             nn::Schedule& sched, const LoopOptions& o, Progress* progress) {
  LoopResult res;
  res.step = o.start_step;
  res.last_checkpoint = o.last_checkpoint;
  int64_t saved_step = o.last_checkpoint.empty() ? -1 : o.start_step;
  const auto t0 = Clock::now();
  const double clip = o.clip > 0 ? o.clip : std::numeric_limits<double>::infinity();
  const bool defer = o.defer_reads || o.device == Device::CUDA;

  // Data parallel (distributed.h): every rank starts from rank 0's weights, and before each
  // optimizer step the gradients are averaged over the ranks, so every replica takes the
  // same step. With one process none of this runs.
  const int world = dist::world_size();
  // With ZeRO-1 the gradients are reduce-scattered instead, and each rank steps its own
  // slice of the optimizer state (distributed.h, ZeroOptimizer).
  std::optional<dist::GradientReducer> reducer;
  std::optional<dist::ZeroOptimizer> zero;
  if (o.zero_stage != 0 && o.zero_stage != 1)
    fail("--zero-stage " + std::to_string(o.zero_stage) + ": only 0 (off) and 1 (optimizer state sharded) exist");
  if (world > 1 || dist::force_data_parallel()) {
    dist::broadcast(params, "the initial parameters");
    if (o.zero_stage == 1) {
      auto* adam = dynamic_cast<nn::AdamW*>(&opt);
      if (!adam) fail("--zero-stage 1 shards AdamW's state; this run's optimizer is not AdamW");
      zero.emplace(*adam, dist::bucket_bytes());
      if (dist::is_main())
        std::fprintf(stderr, "%s: ZeRO-1: each rank holds %.1f MB of the %.1f MB of AdamW moments\n", o.label.c_str(),
                     (double)zero->shard_bytes() / 1e6, (double)zero->state_bytes() / 1e6);
    } else {
      reducer.emplace(params, dist::bucket_bytes());
    }
  }
  // A checkpoint: with ZeRO-1 the whole optimizer state is gathered on rank 0 for it.
  auto save = [&](int64_t step) {
    if (zero) zero->gather_state();
    std::string dir = task.save(step);
    if (zero) zero->release_state();
    return dir;
  };
  const bool overlap = dist::overlap_enabled();
  double comm_seconds = 0;  // waiting for the gradient and loss all-reduces after backward
  int64_t comm_steps = 0;

  // The log window: sums over the steps read back since the last record.
  double win_loss = 0, win_items = 0;
  std::vector<double> win_parts;
  int64_t win_steps = 0;
  auto win_t0 = Clock::now();

  // Reads the pending steps back and checks them.
  std::vector<PendingStep> pending;
  auto last_read = Clock::now();
  auto read_back = [&] {
    for (const PendingStep& p : pending) {
      StepRecord r;
      r.step = p.step;
      r.loss = p.loss.item();
      if (o.nan_at_step == p.step) r.loss = std::numeric_limits<double>::quiet_NaN();
      check_finite(r.loss, p.step, res.last_checkpoint);
      r.grad_norm = p.grad_norm.item();
      if (!std::isfinite(r.grad_norm))  // a finite loss with a NaN/Inf gradient
        fail("the gradient norm became " + std::string(std::isnan(r.grad_norm) ? "NaN" : "infinite") + " at step " +
             std::to_string(p.step) + "; stopping. " +
             (res.last_checkpoint.empty() ? std::string("No checkpoint was saved before it.")
                                          : "The last good checkpoint is " + res.last_checkpoint + "."));
      for (const Tensor& t : p.parts) r.parts.push_back(t.item());
      r.lr = p.lr;
      r.items = p.items;
      win_loss += r.loss;
      win_parts.resize(r.parts.size(), 0.0);
      for (size_t i = 0; i < r.parts.size(); ++i) win_parts[i] += r.parts[i];
      win_items += r.items;
      ++win_steps;
      res.history.push_back(std::move(r));
    }
    pending.clear();
    last_read = Clock::now();
  };

  auto stats = [&] { return task.stats && !res.history.empty() ? task.stats(res.history.back()) : std::string(); };

  for (;;) {
    if (o.total_steps > 0 && res.step >= o.total_steps) break;
    // the time budget is checked between steps: an invocation takes at least one step
    // (every rank stops at the same step: the ranks agree on it)
    if (o.max_seconds > 0 && res.step > o.start_step &&
        dist::any(seconds_since(t0) >= o.max_seconds, "whether the time budget is spent")) {
      res.time_up = true;
      break;
    }
    const int64_t step = res.step + 1;

    // --- forward and backward over the step's micro-batches ---------------------------
    for (Tensor p : params) p.zero_grad();
    const int64_t micro = task.micro_batches(step);
    const double w = 1.0 / (double)micro;  // the step's loss is the mean over its micro-batches
    PendingStep ps{step, Tensor(), Tensor(), {}, 0.0, 0.0};
    for (int64_t m = 0; m < micro; ++m) {
      MicroBatchLoss L = task.forward(step, m);
      if (reducer && overlap && m == micro - 1) {
        // the step's last backward: each bucket of gradients is sent as soon as it is final
        const LeafReadyGuard send = reducer->arm(1.0 / world);
        (L.loss * w).backward();
      } else {
        (L.loss * w).backward();
      }
      NoGradGuard ng;
      auto add = [w](Tensor& sum, const Tensor& x) { sum = sum.defined() ? sum + x.detach() * w : x.detach() * w; };
      add(ps.loss, L.loss);
      ps.parts.resize(L.parts.size());
      for (size_t i = 0; i < L.parts.size(); ++i) add(ps.parts[i], L.parts[i]);
      ps.items += L.items;
    }

    // --- the optimizer step -------------------------------------------------------------
    double zero_norm = 0;
    if (zero) {
      const auto c0 = Clock::now();
      zero_norm = zero->reduce_scatter(1.0 / world, clip);
      comm_seconds += seconds_since(c0);
    }
    if (reducer || zero) {
      // the step's gradient and loss: the means over the ranks (each already the mean over
      // its micro-batches); the items are summed
      const auto c0 = Clock::now();
      if (reducer && overlap)
        reducer->finish();  // what backward left, then the wait for all of it
      else if (reducer)
        reducer->reduce(1.0 / world);  // (with ZeRO-1: reduce-scattered above)
      std::vector<double> v{ps.loss.item()};
      for (const Tensor& t : ps.parts) v.push_back(t.item());
      v.push_back(ps.items);
      dist::allreduce_sum(v, "the step's loss");
      ps.loss = scalar_tensor(v[0] / world);
      for (size_t i = 0; i < ps.parts.size(); ++i) ps.parts[i] = scalar_tensor(v[i + 1] / world);
      ps.items = v.back();
      comm_seconds += seconds_since(c0);
      ++comm_steps;
    }
    ps.grad_norm = zero ? scalar_tensor(zero_norm, DType::Float64) : nn::clip_grad_norm_tensor(params, clip);
    ps.lr = opt.lr;
    const double items = ps.items;
    pending.push_back(std::move(ps));
    if (!defer) read_back();  // a non-finite loss stops the run before the weights take the step
    if (zero)
      zero->step();  // this rank's slice, then the all-gather of the parameters
    else
      opt.step();
    sched.step();
    res.step = step;
    if (task.after_step) task.after_step(step);

    // --- logging, evaluation, checkpoints -----------------------------------------------
    const bool log_now = step % o.log_every == 0 || step == o.start_step + 1 || step == o.total_steps;
    const bool eval_now = task.eval_due && task.eval_due(step);
    const bool save_now = task.save_due && task.save_due(step);
    if (log_now || eval_now || save_now || interrupted() || seconds_since(last_read) >= 1.0) read_back();
    if (log_now) {
      LogWindow lw;
      lw.last = res.history.back();
      lw.mean_loss = win_loss / (double)win_steps;
      for (double s : win_parts) lw.mean_parts.push_back(s / (double)win_steps);
      const double dt = seconds_since(win_t0);
      lw.items_per_second = dt > 0 ? win_items / dt : 0.0;
      if (task.log) task.log(lw);
      win_loss = win_items = 0;
      win_parts.assign(win_parts.size(), 0.0);
      win_steps = 0;
      win_t0 = Clock::now();
    }
    if (progress) progress->update(step, items, stats());
    if (eval_now) task.evaluate(step);
    if (save_now) {
      res.last_checkpoint = save(step);
      saved_step = step;
    }
    // rank 0 evaluates and writes alone, for as long as that takes: the others wait here,
    // with no deadline (a dead rank 0 is still noticed by mpirun)
    if (world > 1 && (eval_now || save_now)) dist::barrier("rank 0's evaluation and checkpoint", 0);
    if (task.on_step) task.on_step(step);
    if (dist::any(interrupted(), "whether a rank was interrupted")) {
      res.interrupted = true;
      break;
    }
  }
  read_back();  // before the last checkpoint: a NaN still pending stops the run here
  if (progress) {
    progress->finish(stats());
    if (res.time_up)
      progress->message(o.label + ": stopped at step " + std::to_string(res.step) + ": the time budget" +
                        (o.budget_flag.empty() ? "" : " (" + o.budget_flag + ")") + " was reached");
  }
  if (zero && comm_steps > 0 && dist::is_main())
    std::fprintf(stderr, "%s: data parallel on %d ranks, ZeRO-1: %.1f ms a step in the reduce-scatter and all-gather\n",
                 o.label.c_str(), world, 1e3 * zero->comm_seconds() / (double)comm_steps);
  if (reducer && comm_steps > 0 && dist::is_main()) {
    const double total = seconds_since(t0);
    std::fprintf(stderr,
                 "%s: data parallel on %d rank%s: %.1f MB of gradients in %lld bucket%s (%s), %.1f ms a step waiting "
                 "for the all-reduce after backward (%.1f%% of this run's time)\n",
                 o.label.c_str(), world, world == 1 ? "" : "s", (double)reducer->bytes() / 1e6,
                 (long long)reducer->buckets(), reducer->buckets() == 1 ? "" : "s",
                 reducer->on_gpu() ? "NCCL, after backward"
                 : overlap ? (fmt_count(reducer->started_early(), comm_steps * reducer->buckets()) + " started during backward").c_str()
                           : "overlap off",
                 1e3 * comm_seconds / (double)comm_steps, total > 0 ? 100.0 * comm_seconds / total : 0.0);
  }
  res.comm_seconds = comm_seconds;
  // A checkpoint at the step the run stopped on, whatever stopped it, to resume from.
  if (res.step > saved_step && res.step > 0) res.last_checkpoint = save(res.step);
  return res;
}

}  // namespace bertlab::train
