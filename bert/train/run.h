// bert/train/run.h — what a training run leaves behind and how it resumes.
//
// A run folder holds:
//   metrics.jsonl            one JSON object per logged step or evaluation (append-only)
//   checkpoint-<step>/       a Hugging Face model folder (config.json, model.safetensors,
//                            vocab.txt, tokenizer.json, tokenizer_config.json) plus
//                              optimizer.safetensors   the optimizer's moments
//                              trainer_state.json      step, epoch, schedule step, random
//                                                      generator state, data position, ...
//   best/                    the best checkpoint by the eval metric (fine-tuning)
// Checkpoints are written (and fsynced) in a folder under a temporary name, .checkpoint-<step>.tmp.<pid>,
// that takes its name in one rename: a kill -9, a power cut, Ctrl-C or a full disk at any
// moment leaves the earlier checkpoints whole, and --resume only ever sees complete ones
// (tests/train/test_crash.cpp kills a run while it saves, many times). Only the last `keep`
// are kept; an old one is renamed away before it is deleted.
//
// Ctrl-C (SIGINT) or SIGTERM sets a flag that the loop checks after each step: it saves a
// checkpoint and stops cleanly. A second Ctrl-C exits at once.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "bert/checkpoint.h"
#include "bert/safetensors.h"
#include "nn/optim.h"

namespace bertlab::train {

// --- interruption ---------------------------------------------------------------------
void install_interrupt_handler();
bool interrupted();
void clear_interrupt();  // for tests

// --- metrics ------------------------------------------------------------------------
class MetricsLog {
 public:
  explicit MetricsLog(const std::string& path, bool append = true);
  ~MetricsLog();
  void write(const nlohmann::json& record);  // one line, flushed
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
};

// Rewrites metrics.jsonl without the records past `step` (and without a torn last line):
// a resumed run writes those steps again, so each step appears once.
void truncate_metrics(const std::string& path, int64_t step);

// --- checkpoints ----------------------------------------------------------------------
struct TrainerState {
  int64_t step = 0;            // optimizer steps taken
  int64_t epoch = 0;           // completed epochs (fine-tuning) or passes over the corpus
  int64_t data_position = 0;   // examples consumed in the current epoch / stream
  uint64_t rng_seed = 0;       // the training generator (dropout, masking) ...
  uint64_t rng_offset = 0;     // ... and its counter
  int64_t schedule_step = 0;
  double best_metric = -1e300; // fine-tuning: best eval metric so far
  std::string best_checkpoint;
  nlohmann::json extra = nlohmann::json::object();  // anything else a command needs to resume

  nlohmann::json to_json() const;
  static TrainerState from_json(const nlohmann::json& j, const std::string& where);
  // The text of a trainer_state.json (`where` names it in messages).
  static TrainerState parse(std::string_view text, const std::string& where);
};

// Writes run_dir/checkpoint-<state.step>/ (atomically) and deletes older checkpoints beyond
// the newest `keep` (keep <= 0: keep all). Returns the folder.
std::string save_checkpoint(const std::string& run_dir, const bert::PreTrainedModel& model,
                            const nn::Optimizer& opt, const TrainerState& state,
                            const bert::TokenizerFiles& tok, int keep);
// Copies a checkpoint folder's model files to run_dir/<name> (e.g. "best"), atomically.
void publish(const std::string& checkpoint_dir, const std::string& run_dir, const std::string& name);
// Restores optimizer moments and the trainer state from a checkpoint folder (the model is
// loaded by from_pretrained from the same folder).
TrainerState load_checkpoint_state(const std::string& checkpoint_dir, nn::Optimizer& opt);
// The optimizer's part of it: its moments and step count from an optimizer.safetensors.
void load_optimizer_state(const safetensors::File& f, nn::Optimizer& opt);
// The newest checkpoint-<step> folder in run_dir, or "" if none.
std::string latest_checkpoint(const std::string& run_dir);

// --- data parallel: one dropout stream per rank ------------------------------------------------
// A run on N ranks (bert/train/distributed.h) records in its trainer state the world size
// (extra["world_size"]) and every rank's generator (extra["rank_generators"]: [seed, offset]
// per rank). Rank 0 uses the run's seed, as a single process does; rank r > 0 seeds its own
// stream from the seed and r.
uint64_t rank_seed(uint64_t seed, int64_t rank);
// Sets default_generator() for this rank from `state` (a fresh run: state.rng_seed; a resumed
// one: this rank's saved generator). Throws when the checkpoint was written by a run on
// another number of ranks (naming both and how to resume).
void restore_rank_generator(const TrainerState& state, int64_t world, int64_t rank, const std::string& checkpoint);
// Fills state.rng_seed / rng_offset (rank 0's) and the extra fields above from every rank
// (a collective: every rank calls it).
void record_rank_generators(TrainerState& state);

// Throws a clear error naming the step when a loss is NaN or infinite.
void check_finite(double loss, int64_t step, const std::string& last_good_checkpoint);

}  // namespace bertlab::train
