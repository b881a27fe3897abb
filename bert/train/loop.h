// bert/train/loop.h — the one training loop behind `bertlab pretrain` and `bertlab finetune`.
//
// One optimizer step (transformers' Trainer, Google's run_pretraining.py):
//   zero the gradients
//   for each of the step's micro-batches (task.micro_batches(step), usually grad_accum):
//     loss = task.forward(step, i);  (loss / micro_batches).backward()
//   [data parallel (distributed.h): gradients and loss averaged over the ranks]
//   clip the gradient norm; optimizer step; schedule step; task.after_step(step)
// then, as the step asks: a metrics record (task.log), an evaluation (task.evaluate), a
// checkpoint (task.save). The loop stops at total_steps, when the time budget is spent, or
// after Ctrl-C / SIGTERM, and saves a checkpoint at the step it stopped on.
//
// What stays the task's: which examples make a micro-batch and what its loss is, how the
// model is scored, what a checkpoint holds besides the model and optimizer, and what the
// run leaves at the end (pretrain's final/, finetune's best/).
//
// Reading values back: a step's loss and gradient norm are 0-dim tensors on the device. On
// the CPU they are read after every step, before the optimizer step, so a NaN never reaches
// the weights. On the GPU (or with defer_reads) they are read only when printed or logged,
// before an evaluation or a checkpoint, and at least once a second: each read makes the host
// wait for the GPU, and without them the host queues the next steps while the GPU works.
// Either way a non-finite loss or gradient norm stops the run naming its step, before any
// checkpoint is written after it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "bert/train/progress.h"
#include "nn/optim.h"

namespace bertlab::train {

// One micro-batch's forward pass, as the task computes it.
struct MicroBatchLoss {
  Tensor loss;               // () the mean loss of the micro-batch, with its graph
  std::vector<Tensor> parts; // () parts of it to report (pretrain: MLM, NSP); may be empty
  double items = 0;          // tokens or examples in it, for the rate
};

// One optimizer step once read back to the host.
struct StepRecord {
  int64_t step = 0;
  double loss = 0;             // mean over the step's micro-batches
  std::vector<double> parts;   // the same for each part
  double lr = 0, grad_norm = 0;
  double items = 0;
};

// What a log record covers: the steps since the last one.
struct LogWindow {
  StepRecord last;             // the step being logged
  double mean_loss = 0;        // over the window's steps
  std::vector<double> mean_parts;
  double items_per_second = 0; // over the window
};

// The task-specific pieces, as callbacks (lambdas that capture the command's model, data and
// run folder). micro_batches, forward and save are required; the others may stay empty.
struct TrainingTask {
  // How many micro-batches optimizer step `step` (1-based) accumulates.
  std::function<int64_t(int64_t step)> micro_batches;
  // The next micro-batch's loss (micro is 0-based within the step).
  std::function<MicroBatchLoss(int64_t step, int64_t micro)> forward;
  // After the optimizer step: the task's bookkeeping (data position, epoch ends).
  std::function<void(int64_t step)> after_step;
  // A record for metrics.jsonl, on the steps the loop logs.
  std::function<void(const LogWindow& w)> log;
  // The text the progress bar shows after the counts, from the last step read back.
  std::function<std::string(const StepRecord& last)> stats;
  // Whether step `step` wants an evaluation / a checkpoint, and doing them; save returns
  // the checkpoint folder it wrote.
  std::function<bool(int64_t step)> eval_due, save_due;
  std::function<void(int64_t step)> evaluate;
  std::function<std::string(int64_t step)> save;
  // Called at the end of every step (test hooks).
  std::function<void(int64_t step)> on_step;
};

struct LoopOptions {
  int64_t start_step = 0;       // steps taken before (a resumed run)
  int64_t total_steps = 0;      // stop after this step (0: only the time budget stops)
  double max_seconds = 0;       // time budget of this invocation (0: none)
  std::string budget_flag;      // how the user gave it (e.g. "--max-minutes 5"), for the stop message
  double clip = 1.0;            // max gradient norm (0: no clipping)
  int64_t log_every = 50;
  bool defer_reads = false;     // the GPU's read-back policy (on by itself on the GPU)
  Device device = Device::CPU;
  std::string last_checkpoint;  // named when a NaN stops the run ("" = none yet)
  int64_t nan_at_step = 0;      // test hook: this step's loss reads as NaN
  std::string label = "train";  // for messages ("pretrain", "finetune")
  int zero_stage = 0;           // data parallel: 1 shards AdamW's moments over the ranks (ZeRO-1)
};

struct LoopResult {
  int64_t step = 0;                // the step the run stopped at
  std::vector<StepRecord> history; // every step this invocation took
  std::string last_checkpoint;
  bool interrupted = false, time_up = false;
  double comm_seconds = 0;         // data parallel: time in the all-reduces (distributed.h)
};

// Runs the loop over `params` (the trainable parameters). `progress` (may be null) shows the
// bar; the task may print through it too. Throws bertlab::Error at a non-finite loss.
LoopResult run_training_loop(TrainingTask& task, const std::vector<Tensor>& params, nn::Optimizer& opt,
                             nn::Schedule& sched, const LoopOptions& o, Progress* progress);

}  // namespace bertlab::train
