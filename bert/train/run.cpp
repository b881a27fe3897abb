// bert/train/run.cpp — see run.h.
#include "bert/train/run.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
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
  TrainerState s;
  try {
    s.step = j.at("step").get<int64_t>();
    s.epoch = j.at("epoch").get<int64_t>();
    s.data_position = j.at("data_position").get<int64_t>();
    s.rng_seed = j.at("rng_seed").get<uint64_t>();
    s.rng_offset = j.at("rng_offset").get<uint64_t>();
    s.schedule_step = j.at("schedule_step").get<int64_t>();
    s.best_metric = j.value("best_metric", -1e300);
    s.best_checkpoint = j.value("best_checkpoint", std::string());
    s.extra = j.value("extra", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    fail(where + ": invalid trainer state: " + e.what());
  }
  return s;
}

static int64_t checkpoint_step(const fs::path& p) {
  const std::string name = p.filename().string();
  const std::string prefix = "checkpoint-";
  if (name.rfind(prefix, 0) != 0) return -1;
  const std::string digits = name.substr(prefix.size());
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return -1;
  return std::stoll(digits);
}

static std::vector<std::pair<int64_t, fs::path>> checkpoints(const std::string& run_dir) {
  std::vector<std::pair<int64_t, fs::path>> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(run_dir, ec)) {
    int64_t s = checkpoint_step(e.path());
    if (s >= 0 && e.is_directory() && fs::exists(e.path() / "trainer_state.json")) out.push_back({s, e.path()});
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string latest_checkpoint(const std::string& run_dir) {
  auto c = checkpoints(run_dir);
  return c.empty() ? "" : c.back().second.string();
}

std::string save_checkpoint(const std::string& run_dir, const bert::BertPreTrainedModel& model,
                            const nn::Optimizer& opt, const TrainerState& state, const bert::TokenizerFiles& tok,
                            int keep) {
  bert::make_dirs(run_dir);
  const fs::path final_dir = fs::path(run_dir) / ("checkpoint-" + std::to_string(state.step));
  const fs::path tmp = fs::path(run_dir) / (".checkpoint-" + std::to_string(state.step) + ".tmp." + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove_all(tmp, ec);
  try {
    bert::save_pretrained(model, tmp.string(), tok);
    safetensors::save((tmp / "optimizer.safetensors").string(), opt.state(),
                            {{"optimizer_steps", std::to_string(opt.steps_taken)}, {"lr", std::to_string(opt.lr)}});
    bert::write_file_atomic((tmp / "trainer_state.json").string(), state.to_json().dump(2) + "\n");
    fs::remove_all(final_dir, ec);
    fs::rename(tmp, final_dir);
  } catch (const std::exception& e) {
    fs::remove_all(tmp, ec);
    throw Error(std::string("cannot save checkpoint ") + final_dir.string() + ": " + e.what());
  }
  if (keep > 0) {
    auto all = checkpoints(run_dir);
    for (size_t i = 0; i + keep < all.size(); ++i) {
      if (!state.best_checkpoint.empty() && fs::path(state.best_checkpoint) == all[i].second) continue;
      fs::remove_all(all[i].second, ec);
    }
  }
  return final_dir.string();
}

void publish(const std::string& checkpoint_dir, const std::string& run_dir, const std::string& name) {
  const fs::path target = fs::path(run_dir) / name;
  const fs::path tmp = fs::path(run_dir) / ("." + name + ".tmp." + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove_all(tmp, ec);
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
  fs::remove_all(old, ec);
}

TrainerState load_checkpoint_state(const std::string& dir, nn::Optimizer& opt) {
  const std::string state_path = (fs::path(dir) / "trainer_state.json").string();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(bert::read_file(state_path));
  } catch (const nlohmann::json::parse_error& e) {
    fail(state_path + ": invalid JSON: " + e.what());
  }
  TrainerState s = TrainerState::from_json(j, state_path);
  safetensors::File f((fs::path(dir) / "optimizer.safetensors").string());
  std::map<std::string, Tensor> st;
  for (auto& n : f.names()) st[n] = f.load(n);
  opt.load_state(st);
  opt.steps_taken = std::stoll(f.metadata().count("optimizer_steps") ? f.metadata().at("optimizer_steps") : "0");
  return s;
}

void check_finite(double loss, int64_t step, const std::string& last_good) {
  if (std::isfinite(loss)) return;
  fail("the loss became " + std::string(std::isnan(loss) ? "NaN" : "infinite") + " at step " + std::to_string(step) +
       "; stopping. " +
       (last_good.empty() ? std::string("No checkpoint was saved before it.")
                          : "The last good checkpoint is " + last_good + " (resume from it with a lower learning rate)."));
}

}  // namespace bertlab::train
