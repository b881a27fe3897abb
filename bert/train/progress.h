// bert/train/progress.h — progress of a long job: a bar with rate and ETA on a terminal,
// plain log lines otherwise (a file, a pipe, CI).
//
//   Progress p("pretrain", total_steps, "tok");
//   for (...) { ...; p.update(step, tokens_this_step, "loss 2.31 | lr 1.0e-04"); }
//   p.finish();
//
// On a terminal the bar redraws in place at most 10 times a second:
//   pretrain  42% |████████▍           | 420/1000 loss 2.31 | lr 1.0e-04 | 5.1k tok/s | ETA 1m52s
// Otherwise a line is printed every `log_every` steps (and at the end):
//   pretrain step 420/1000 (42%) loss 2.31 | lr 1.0e-04 | 5.1k tok/s | elapsed 1m21s | ETA 1m52s
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace bertlab::train {

class Progress {
 public:
  // total = 0 means unknown (no percentage or ETA). `unit` names what update() counts
  // for the rate ("tok", "ex"). `tty` defaults to whether stderr is a terminal.
  Progress(std::string label, int64_t total, std::string unit = "it", int log_every = 50, int tty = -1);
  ~Progress();
  // `done` steps finished so far, `items` processed in this step (for the rate), `stats` shown.
  void update(int64_t done, double items, const std::string& stats = "");
  // Prints a line (above the bar on a terminal) without disturbing it.
  void message(const std::string& line);
  // The last line: the bar once more, ended by a newline (a terminal), or the last log line
  // unless the last update() already printed it (plain lines).
  void finish(const std::string& stats = "");
  double rate() const;  // items per second since start
  // The job also stops after `seconds` from now (a time budget such as --max-minutes). When
  // that is the sooner end (or the step total is unknown) the bar, the percentage and the
  // ETA count the time budget instead of the steps: "step 420 | 1m05s/2m00s".
  void set_time_limit(double seconds);

 private:
  void draw(bool final);
  std::string line(bool bar) const;
  bool time_bound(double elapsed, double step_eta) const;  // the time budget is the sooner end
  std::string label_, unit_, stats_, drawn_stats_;
  int64_t total_, done_ = 0, first_done_ = -1, drawn_done_ = -1;
  int log_every_;
  bool tty_, finished_ = false;
  double items_ = 0;
  double time_limit_ = -1;  // seconds after start_, or < 0 for none
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// 3725.2 -> "1h02m05s", 65 -> "1m05s", 5 -> "5s"
std::string format_duration(double seconds);
// 5123 -> "5.1k", 1.2e6 -> "1.2M"
std::string format_count(double v);

}  // namespace bertlab::train
