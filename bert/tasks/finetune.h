// bert/tasks/finetune.h — fine-tuning a BERT model on classification, NER or extractive QA:
// the loop of transformers' Trainer as run_glue.py / run_ner.py / run_qa.py drive it.
//
//   AdamW (weight decay except biases and LayerNorm weights), linear warmup over
//   warmup_ratio of the steps then linear decay to 0, loss / grad_accum accumulated over
//   grad_accum batches, gradient norm clipped at `clip`, one optimizer step; the data is
//   reshuffled each epoch from the seed. After each epoch (or every N steps) the dev set is
//   scored, a checkpoint is written (atomically, with optimizer and trainer state), and the
//   best one by the task's metric (accuracy, entity F1, SQuAD F1) is published as RUN_DIR/best.
//
// The loop is bert/train/loop.h (shared with pre-training); this file supplies the batches,
// the evaluation and the checkpoints. --resume continues RUN_DIR's newest checkpoint exactly:
// the flags must be the ones that run had (an error names each that differs), metrics.jsonl is
// cut back to the checkpoint's step, and on the CPU the losses are bitwise those of a run that
// never stopped. Inputs (files, labels, the model) are all read and checked before anything is
// written; a run that fails before its first checkpoint removes the RUN_DIR it created.
//
// RUN_DIR afterwards: best/ (a Hugging Face model folder with the label maps in config.json,
// vocab.txt and tokenizer_config.json), checkpoint-<step>/ (the last; resumable with
// resume = true), metrics.jsonl, eval_results.json, finetune_args.json, vocab.txt.
//
// Failure: a NaN or infinite loss stops the run naming the step and the last good checkpoint;
// Ctrl-C saves a checkpoint and stops (result.interrupted); a write that fails (full disk,
// unwritable folder) throws naming the file and leaves earlier checkpoints whole.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "bert/tasks/classify.h"
#include "bert/tasks/ner.h"
#include "bert/tasks/qa.h"

namespace bertlab::tasks {

struct FinetuneOptions {
  std::string task;           // "classify", "ner" or "qa"
  std::string model;          // a pretrained model folder (HF format) ...
  std::string config;         // ... or a preset / config.json to train from scratch
  std::string vocab;          // from scratch: the vocab.txt (required then)
  bool do_lower_case = true;  // from scratch: the tokenizer's casing
  std::string train, dev, out;

  int64_t epochs = 3;
  double lr = 0;               // 0: 5e-5 (classify, ner), 3e-5 (qa)
  int64_t batch_size = 0;      // 0: 32 (classify, ner), 16 (qa)
  int64_t eval_batch_size = 0; // 0: 64 (classify, ner), 32 (qa)
  double warmup_ratio = 0.1;
  int64_t max_length = 0;      // 0: 128 (classify, ner), 384 (qa); at most max_position_embeddings
  double weight_decay = 0.01;
  bool freeze_encoder = false; // train only the head (parameters not under "bert.")
  int64_t grad_accum = 1;
  int zero_stage = 0;          // under mpirun: 1 shards AdamW's state over the ranks (ZeRO-1)
  double clip = 1.0;           // 0: no clipping
  int64_t eval_every = 0;      // 0: after each epoch; N: every N optimizer steps (and at the end)
  bool group_by_length = false; // batches of similar lengths (Trainer's LengthGroupedSampler): less padding
  uint64_t seed = 42;
  int64_t max_train_examples = 0;  // 0: all; else the first N after a seeded shuffle
  int64_t max_eval_examples = 0;   // 0: all; else the first N of the dev file
  Device device = Device::CPU;
  int64_t log_every = 50;      // steps between metrics.jsonl lines / plain progress lines
  int keep = 1;                // checkpoint-<step> folders kept (best/ is separate)
  bool resume = false;         // continue from RUN_DIR's latest checkpoint
  bool progress = true;        // progress bar / lines on stderr
  bool verbose = true;         // summary lines on stdout
  // Read each step's loss and gradient norm back only when printed, logged or checked
  // before a checkpoint (and at least once a second), not after every step (each read makes
  // the host wait for the GPU). On by itself on the GPU; true applies that policy on the CPU.
  bool defer_reads = false;

  // data
  ClassifyColumns columns;
  std::vector<std::string> label_names;  // classify: names for integer labels 0..n-1
  LangPrefix lang_prefix = LangPrefix::Auto;
  QaOptions qa;

  // fault injection for tests: the loss of this optimizer step (1-based) reads as NaN
  int64_t inject_nan_at_step = 0;
};

struct FinetuneResult {
  int64_t steps = 0;              // optimizer steps taken (in total, after a resume)
  std::vector<double> losses;     // mean training loss of each optimizer step of this run
  nlohmann::json best = nullptr;  // the best evaluation (null without a dev set)
  std::vector<nlohmann::json> evals;
  std::string best_dir;           // RUN_DIR/best
  std::string last_checkpoint;
  bool interrupted = false;       // stopped by Ctrl-C / SIGTERM (a checkpoint was saved)
};

// Runs the whole fine-tuning; throws bertlab::Error with a clear message on bad input.
FinetuneResult finetune(const FinetuneOptions& opt);

// The metric the best checkpoint is chosen by: "accuracy", "f1" (NER entity F1), "f1" (SQuAD).
std::string best_metric_name(const std::string& task);

}  // namespace bertlab::tasks
