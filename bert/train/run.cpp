// bert/train/run.cpp — see run.h.
#include "bert/train/run.h"
#include "bert/train/distributed.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <vector>

#include "bert/io.h"
#include "bert/safetensors.h"

namespace bertlab::train {

namespace fs = std::filesystem;

// --- interruption ---------------------------------------------------------------------

static volatile std::sig_atomic_t g_interrupts = 0;

static void on_signal(int) {
  g_interrupts = g_interrupts + 1;
  if (g_interrupts >= 2) {
    const char msg[] = "\nbertlab: interrupted twice, exiting without saving\n";
    (void)!::write(2, msg, sizeof msg - 1);
    std::_Exit(130);
  }
  const char msg[] = "\nbertlab: interrupt: finishing this step, saving a checkpoint and stopping "
                     "(Ctrl-C again to exit now)\n";
  (void)!::write(2, msg, sizeof msg - 1);
}

void install_interrupt_handler() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}
bool interrupted() { return g_interrupts > 0; }
void clear_interrupt() { g_interrupts = 0; }

// --- metrics ------------------------------------------------------------------------

MetricsLog::MetricsLog(const std::string& path, bool append) : path_(path) {
  f_ = std::fopen(path.c_str(), append ? "a" : "w");
  if (!f_) fail("cannot open metrics log " + path + ": " + std::strerror(errno));
}
MetricsLog::~MetricsLog() {
  if (f_) std::fclose(f_);
}
void MetricsLog::write(const nlohmann::json& record) {
  std::string line = record.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), f_) != line.size() || std::fflush(f_) != 0)
    fail("cannot write metrics log " + path_ + ": " + std::strerror(errno));
}

// metrics.jsonl without the records past `step` (a resumed run writes them again).
void truncate_metrics(const std::string& path, int64_t step) {
  if (!bert::file_exists(path)) return;
  std::istringstream in(bert::read_file(path));
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      auto j = nlohmann::json::parse(line);
      if (j.contains("step") && j["step"].is_number() && j["step"].get<int64_t>() > step) continue;
    } catch (const nlohmann::json::exception&) {
      continue;  // a torn last line
    }
    kept += line + "\n";
  }
  bert::write_file_atomic(path, kept);
}

// --- checkpoints ----------------------------------------------------------------------

nlohmann::json TrainerState::to_json() const {
  return {{"step", step},
          {"epoch", epoch},
          {"data_position", data_position},
          {"rng_seed", rng_seed},
          {"rng_offset", rng_offset},
          {"schedule_step", schedule_step},
          {"best_metric", best_metric},
          {"best_checkpoint", best_checkpoint},
          {"extra", extra}};
}

TrainerState TrainerState::from_json(const nlohmann::json& j, const std::string& where) {
  using bert::json_int;
  TrainerState s;
  if (!j.is_object()) fail(where + ": invalid trainer state: expected a JSON object");
  auto non_negative = [&](const char* key) {
    const int64_t v = json_int(j, key, where);
    if (v < 0) fail(where + ": key \"" + std::string(key) + "\" is " + std::to_string(v) + ", expected >= 0");
    return v;
  };
  s.step = non_negative("step");
  s.epoch = non_negative("epoch");
  s.data_position = non_negative("data_position");
  s.rng_seed = bert::json_uint(j, "rng_seed", where);
  s.rng_offset = bert::json_uint(j, "rng_offset", where);
  s.schedule_step = non_negative("schedule_step");
  // optional keys; nlohmann writes a NaN best_metric as null, read back as "none yet"
  if (j.contains("best_metric") && !j["best_metric"].is_null()) s.best_metric = bert::json_number(j, "best_metric", where);
  if (j.contains("best_checkpoint")) s.best_checkpoint = bert::json_string(j, "best_checkpoint", where);
  if (j.contains("extra")) {
    s.extra = j["extra"];
    if (!s.extra.is_object()) fail(where + ": key \"extra\" must be a JSON object");
  }
  return s;
}

static int64_t checkpoint_step(const fs::path& p) {
  const std::string name = p.filename().string();
  const std::string prefix = "checkpoint-";
  if (name.rfind(prefix, 0) != 0) return -1;
  const std::string digits = name.substr(prefix.size());
  // 18 digits fit in int64 (std::stoll would throw std::out_of_range on a longer name)
  if (digits.empty() || digits.size() > 18 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return -1;
  return std::stoll(digits);
}

// A checkpoint folder counts only with every file in it: a folder is renamed into place only
// once complete (save_checkpoint), so this also guards against folders made by other tools.
static bool complete_checkpoint(const fs::path& dir) {
  for (const char* f : {"config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json"})
    if (!bert::file_exists((dir / f).string())) return false;
  return true;
}

static std::vector<std::pair<int64_t, fs::path>> checkpoints(const std::string& run_dir) {
  std::vector<std::pair<int64_t, fs::path>> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(run_dir, ec)) {
    int64_t s = checkpoint_step(e.path());
    if (s >= 0 && e.is_directory() && complete_checkpoint(e.path())) out.push_back({s, e.path()});
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string latest_checkpoint(const std::string& run_dir) {
  auto c = checkpoints(run_dir);
  return c.empty() ? "" : c.back().second.string();
}

// Folders under a temporary name (".checkpoint-<step>.tmp.<pid>", "...old...", "...deleting...",
// ".best.tmp.<pid>") are left only by a process that died while writing or deleting them (a
// kill -9, a power cut): never a checkpoint, removed by the next save.
static void remove_leftovers(const std::string& run_dir, const std::string& prefix) {
  std::error_code ec;
  std::vector<fs::path> stale;
  for (auto& e : fs::directory_iterator(run_dir, ec))
    if (e.path().filename().string().rfind(prefix, 0) == 0) stale.push_back(e.path());
  for (auto& p : stale) fs::remove_all(p, ec);
}

// Removes a folder without ever showing a half-deleted one under its name: renamed away first
// (one atomic step), then deleted.
static void remove_dir_atomically(const fs::path& dir, const std::string& hidden_name) {
  std::error_code ec;
  const fs::path away = dir.parent_path() / hidden_name;
  fs::rename(dir, away, ec);
  fs::remove_all(ec ? dir : away, ec);
}

std::string save_checkpoint(const std::string& run_dir, const bert::PreTrainedModel& model,
                            const nn::Optimizer& opt, const TrainerState& state, const bert::TokenizerFiles& tok,
                            int keep) {
  bert::make_dirs(run_dir);
  remove_leftovers(run_dir, ".checkpoint-");
  const std::string name = "checkpoint-" + std::to_string(state.step), pid = std::to_string(::getpid());
  const fs::path final_dir = fs::path(run_dir) / name;
  const fs::path tmp = fs::path(run_dir) / ("." + name + ".tmp." + pid);
  std::error_code ec;
  try {
    // Every file is written (and fsynced) in a folder no reader looks at; the folder then
    // takes its name in one rename, and the run folder is fsynced so the rename survives a
    // power cut. A kill at any moment leaves the earlier checkpoints as they were.
    bert::save_pretrained(model, tmp.string(), tok);
    safetensors::save((tmp / "optimizer.safetensors").string(), opt.state(),
                            {{"optimizer_steps", std::to_string(opt.steps_taken)}, {"lr", std::to_string(opt.lr)}});
    bert::write_file_atomic((tmp / "trainer_state.json").string(), state.to_json().dump(2) + "\n");
    bert::sync_dir(tmp.string());
    if (fs::exists(final_dir)) remove_dir_atomically(final_dir, "." + name + ".old." + pid);
    fs::rename(tmp, final_dir);
    bert::sync_dir(run_dir);
  } catch (const std::exception& e) {
    fs::remove_all(tmp, ec);
    throw Error(std::string("cannot save checkpoint ") + final_dir.string() + ": " + e.what());
  }
  if (keep > 0) {
    auto all = checkpoints(run_dir);
    for (size_t i = 0; i + keep < all.size(); ++i) {
      if (!state.best_checkpoint.empty() && fs::path(state.best_checkpoint) == all[i].second) continue;
      remove_dir_atomically(all[i].second, "." + all[i].second.filename().string() + ".deleting." + pid);
    }
  }
  return final_dir.string();
}

void publish(const std::string& checkpoint_dir, const std::string& run_dir, const std::string& name) {
  const fs::path target = fs::path(run_dir) / name;
  const fs::path tmp = fs::path(run_dir) / ("." + name + ".tmp." + std::to_string(::getpid()));
  remove_leftovers(run_dir, "." + name + ".tmp.");
  std::error_code ec;
  fs::create_directories(tmp, ec);
  if (ec) fail("cannot create " + tmp.string() + ": " + ec.message());
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "tokenizer_config.json"}) {
    fs::path src = fs::path(checkpoint_dir) / f;
    if (!fs::exists(src)) continue;
    fs::copy_file(src, tmp / f, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      fs::remove_all(tmp, ec);
      fail("cannot copy " + src.string() + ": " + ec.message());
    }
  }
  fs::path old = fs::path(run_dir) / ("." + name + ".old." + std::to_string(::getpid()));
  if (fs::exists(target)) fs::rename(target, old, ec);
  fs::rename(tmp, target, ec);
  if (ec) fail("cannot publish " + target.string() + ": " + ec.message());
  bert::sync_dir(run_dir);
  fs::remove_all(old, ec);
}

TrainerState TrainerState::parse(std::string_view text, const std::string& where) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // also out_of_range: a number too large for a double (1e+600)
    fail(where + ": invalid JSON: " + bert::json_error_text(e));
  }
  return from_json(j, where);
}

// The "optimizer_steps" metadata of optimizer.safetensors: a decimal count (std::stoll
// would throw a bare std::invalid_argument on anything else).
static int64_t optimizer_steps(const std::map<std::string, std::string>& meta, const std::string& path) {
  auto it = meta.find("optimizer_steps");
  if (it == meta.end()) return 0;
  const std::string& v = it->second;
  if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), ::isdigit))
    fail(path + ": metadata \"optimizer_steps\" must be a step count (a non-negative integer), got \"" + v.substr(0, 40) + "\"");
  return std::stoll(v);
}

void load_optimizer_state(const safetensors::File& f, nn::Optimizer& opt) {
  std::map<std::string, Tensor> st;
  for (auto& n : f.names()) {  // optimizer state is float32 (a BF16 file is widened, exactly)
    Tensor t = f.load(n);
    st[n] = t.dtype() == DType::BFloat16 ? t.to(DType::Float32) : t;
  }
  opt.load_state(st);
  opt.steps_taken = optimizer_steps(f.metadata(), f.path());
}

TrainerState load_checkpoint_state(const std::string& dir, nn::Optimizer& opt) {
  const std::string state_path = (fs::path(dir) / "trainer_state.json").string();
  TrainerState s = TrainerState::parse(bert::read_file(state_path), state_path);
  load_optimizer_state(safetensors::File((fs::path(dir) / "optimizer.safetensors").string()), opt);
  return s;
}

uint64_t rank_seed(uint64_t seed, int64_t rank) {
  if (rank == 0) return seed;
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (uint64_t)rank;  // splitmix64 of (seed, rank)
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void restore_rank_generator(const TrainerState& state, int64_t world, int64_t rank, const std::string& checkpoint) {
  const int64_t saved = state.extra.contains("world_size") && state.extra["world_size"].is_number_integer()
                            ? state.extra["world_size"].get<int64_t>()
                            : 1;
  if (!checkpoint.empty() && saved != world)
    fail("--resume: " + checkpoint + " was written by a run on " + std::to_string(saved) + " process" +
         (saved == 1 ? "" : "es") + ", this one has " + std::to_string(world) +
         "; resume it with the same number (" + (saved == 1 ? std::string("without mpirun, or mpirun -np 1") : "mpirun -np " + std::to_string(saved)) +
         "): each rank's data position and random stream are saved for that number");
  Generator g(rank_seed(state.rng_seed, rank));
  if (!checkpoint.empty()) {
    g.offset = state.rng_offset;
    if (world > 1) {
      const std::string where = checkpoint + "/trainer_state.json: rank_generators";
      const nlohmann::json* rg = state.extra.contains("rank_generators") ? &state.extra["rank_generators"] : nullptr;
      if (!rg || !rg->is_array() || (int64_t)rg->size() != world)
        fail(where + ": expected " + std::to_string(world) + " [seed, offset] pairs");
      const nlohmann::json& e = (*rg)[(size_t)rank];
      if (!e.is_array() || e.size() != 2 || !e[0].is_number_unsigned() || !e[1].is_number_unsigned())
        fail(where + "[" + std::to_string(rank) + "]: expected [seed, offset] (two unsigned integers)");
      g = Generator(e[0].get<uint64_t>());
      g.offset = e[1].get<uint64_t>();
    }
  }
  default_generator() = g;
}

void record_rank_generators(TrainerState& state) {
  state.rng_seed = default_generator().seed;
  state.rng_offset = default_generator().offset;
  const int64_t world = dist::world_size();
  state.extra["world_size"] = world;
  if (world == 1) {
    state.extra.erase("rank_generators");
    return;
  }
  const std::vector<uint64_t> all =
      dist::allgather({default_generator().seed, default_generator().offset}, "the random generators for a checkpoint");
  nlohmann::json rg = nlohmann::json::array();
  for (int64_t r = 0; r < world; ++r) rg.push_back({all[(size_t)(2 * r)], all[(size_t)(2 * r + 1)]});
  state.extra["rank_generators"] = rg;
}

void check_finite(double loss, int64_t step, const std::string& last_good) {
  if (std::isfinite(loss)) return;
  fail("the loss became " + std::string(std::isnan(loss) ? "NaN" : "infinite") + " at step " + std::to_string(step) +
       "; stopping. " +
       (last_good.empty() ? std::string("No checkpoint was saved before it.")
                          : "The last good checkpoint is " + last_good + " (resume from it with a lower learning rate)."));
}

}  // namespace bertlab::train
