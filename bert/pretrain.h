// bert/pretrain.h — BERT pre-training: masked LM + next sentence prediction (Devlin et al.
// 2019, section 3.1 and appendix A.2), the loop behind `bertlab pretrain`.
//
// One optimizer step (the loop is bert/train/loop.h, shared with fine-tuning):
//   for each of grad_accum micro-batches (batch_size examples from the ExampleStream):
//     loss = MLM CE over the masked positions + NSP CE            (checked finite)
//     (loss / grad_accum).backward()
//   [data-parallel hook: gradients averaged across processes]
//   clip_grad_norm(1.0); AdamW (weight decay 0.01 except biases and LayerNorm); the schedule
//   (linear warmup, then linear decay to 0 at --steps; constant after warmup when only a time
//   budget is given).
// The MLM head runs on the masked positions only, as Google's run_pretraining.py
// (gather_indexes): the same loss as transformers' BertForPreTraining (CE over labels != -100)
// at a sixth of the cost of the (B,T,V) logits.
//
// A run folder (bert/train/run.h): metrics.jsonl, checkpoint-<step>/ (every --save-every steps
// and at the end; Hugging Face model + optimizer + trainer state with the dropout generator's
// counter and the data position), final/ (the model to use), pretrain_args.json. Resuming from a
// checkpoint restores model, optimizer moments, schedule step, the generator (seed, offset) and the
// data position, so on the CPU with the same thread count the losses continue bitwise as if the
// run had never stopped (tests/train/test_pretrain.cpp shows it).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bert/config.h"
#include "bert/heads.h"
#include "bert/pretrain_data.h"

namespace bertlab::bert {

struct PretrainOptions {
  // The model: from scratch (config), or continued from a model folder (model_dir).
  std::optional<BertConfig> config;  // required unless model_dir or resume is given
  std::string config_name;           // for messages and pretrain_args.json
  std::string model_dir;

  // Data.
  std::vector<std::string> corpus;
  std::vector<std::string> eval_corpus;  // held-out text; empty: every holdout_every-th document of corpus
  std::string corpus_format = "auto";
  std::string vocab;                     // vocab.txt; "" = model_dir's (or the checkpoint's)
  bool do_lower_case = true;
  int64_t max_seq_length = 128;
  int64_t max_predictions_per_seq = 0;   // 0: ceil(0.15 * max_seq_length)
  double masked_lm_prob = 0.15;
  double short_seq_prob = 0.1;
  bool whole_word_masking = false;
  int64_t holdout_every = 20;            // 0: no held-out split
  int64_t eval_examples = 512;
  int64_t shuffle_buffer = 1000;
  int64_t window_docs = 1000;

  // Optimisation.
  int64_t batch_size = 32;
  int64_t grad_accum = 1;
  int zero_stage = 0;                    // under mpirun: 1 shards AdamW's state over the ranks (ZeRO-1)
  double lr = 1e-4;
  int64_t warmup_steps = -1;             // -1: warmup_ratio * steps
  double warmup_ratio = 0.01;
  int64_t steps = 0;                     // optimizer steps in all (0: until max_minutes)
  double max_minutes = 0;                // time budget of this invocation (0: none)
  double weight_decay = 0.01;
  double clip = 1.0;                     // 0: no clipping

  // Bookkeeping.
  std::string out;                       // run folder ("" = runs/pretrain, or the resumed checkpoint's)
  std::string resume;                    // "" = start, "latest" = newest checkpoint in out, or a checkpoint folder
  int64_t eval_every = 0;                // steps (0: only at the end)
  int64_t save_every = 0;                // steps (0: only at the end)
  int keep = 3;                          // checkpoints kept (0: all)
  int64_t log_every = 50;
  uint64_t seed = 42;
  int threads = 0;                       // OpenMP threads (0: the default)
  std::string device = "cpu";            // "cpu" or "cuda"
  bool progress = true;                  // the progress bar / lines on stderr (--no-progress: false)
  int progress_tty = -1;                 // -1: whether stderr is a terminal
  bool quiet = false;                    // no output on stderr at all (tests)
  // Read the step's loss and gradient norm back to the host only when they are printed,
  // logged or checked before a save (and at least once a second), not after every step:
  // each read makes the host wait for the GPU. On by itself with device "cuda"; true here
  // applies the GPU's policy on the CPU (tests).
  bool defer_reads = false;

  // Test hooks: a NaN loss injected at this step; a function called after every step.
  int64_t debug_nan_at_step = 0;
  std::function<void(int64_t step)> on_step;
};

struct PretrainStepRecord {
  int64_t step = 0;
  double loss = 0, mlm_loss = 0, nsp_loss = 0, lr = 0, grad_norm = 0;
};

struct PretrainEval {
  int64_t examples = 0, predictions = 0;
  double loss = 0, mlm_loss = 0, nsp_loss = 0, mlm_accuracy = 0, nsp_accuracy = 0;
  nlohmann::json to_json(const std::string& prefix = "eval_") const;
};

struct PretrainResult {
  int64_t start_step = 0, step = 0;        // where this invocation began and ended
  std::vector<PretrainStepRecord> history;  // the steps this invocation took
  std::string run_dir, final_dir, last_checkpoint;
  bool interrupted = false, time_up = false;
  std::optional<PretrainEval> eval;         // the last evaluation
  int64_t tokens = 0;                       // real tokens trained on by this invocation
  double seconds = 0;
};

PretrainResult run_pretraining(const PretrainOptions& o);

// The loss of a batch: MLM cross-entropy over the masked positions (mean) + NSP cross-entropy
// (mean over the batch).
struct PretrainLoss {
  Tensor loss, mlm_loss, nsp_loss;  // ()
  Tensor mlm_logits;                // (M,V) at the masked positions
  Tensor nsp_logits;                // (B,2)
  Tensor mlm_targets;               // (M) int64
};
PretrainLoss pretraining_loss(const BertForPreTraining& m, const PretrainBatch& b);

// MLM accuracy (argmax == label over the masked positions), NSP accuracy and the mean losses
// (MLM weighted by predictions, NSP by examples) over examples, without gradients, in eval mode
// (restores the mode it found).
PretrainEval evaluate_pretraining(BertForPreTraining& m, const std::vector<Example>& examples, int64_t batch_size,
                                  int64_t pad_id, Device device = Device::CPU);

}  // namespace bertlab::bert
