// bert/train/progress.cpp — see progress.h.
#include "bert/train/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace bertlab::train {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  long t = (long)std::llround(s);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm%02lds", t / 3600, (t / 60) % 60, t % 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

std::string format_count(double v) {
  char buf[32];
  if (v >= 1e9) std::snprintf(buf, sizeof buf, "%.1fG", v / 1e9);
  else if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.1fM", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

Progress::Progress(std::string label, int64_t total, std::string unit, int log_every, int tty)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), log_every_(log_every > 0 ? log_every : 1) {
  tty_ = tty < 0 ? ::isatty(2) : tty != 0;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
  if (!finished_ && tty_ && done_ > 0) std::fputc('\n', stderr);
}

void Progress::set_time_limit(double seconds) {
  time_limit_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count() + std::max(0.0, seconds);
}

double Progress::rate() const {
  double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return el > 0 ? items_ / el : 0;
}

// The share of the job done: steps done of the total, or, under a time budget that ends the
// job sooner (or when the total is unknown), the budget's share used. The bar, the
// percentage and the ETA then all count the same end.
bool Progress::time_bound(double elapsed, double step_eta) const {
  if (time_limit_ < 0) return false;
  return total_ <= 0 || std::isnan(step_eta) || time_limit_ - elapsed < step_eta;
}

std::string Progress::line(bool bar) const {
  const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t done_here = done_ - (first_done_ < 0 ? 0 : first_done_);
  const double step_eta = (total_ > 0 && done_here > 0) ? el / done_here * (double)(total_ - done_) : NAN;
  const bool by_time = time_bound(el, step_eta);
  const double eta = by_time ? std::max(0.0, time_limit_ - el) : step_eta;
  double frac = total_ > 0 ? std::min(1.0, (double)done_ / (double)total_) : 0;
  if (by_time) frac = time_limit_ > 0 ? std::min(1.0, el / time_limit_) : 1.0;
  const bool known = total_ > 0 || by_time;
  std::string s = label_ + " ";
  char buf[64];
  // the counts: "420/1000" against the steps, "step 420 | 1m05s/2m00s" against the time budget
  std::string counts = std::to_string(done_) + "/" + std::to_string(total_);
  if (by_time) counts = "step " + std::to_string(done_) + " | " + format_duration(el) + "/" + format_duration(time_limit_);
  if (bar && known) {
    const int width = 20;
    const double filled = width * frac;
    static const char* eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    std::snprintf(buf, sizeof buf, "%3.0f%% |", 100.0 * frac);
    s += buf;
    int full = (int)filled;
    for (int i = 0; i < full; ++i) s += "█";
    int rem = (int)((filled - full) * 8);
    int used = full;
    if (full < width && rem > 0) {
      s += eighths[rem];
      ++used;
    }
    s += std::string(width - used, ' ') + "| " + counts;
  } else if (known) {
    std::snprintf(buf, sizeof buf, " (%.0f%%)", 100.0 * frac);
    s += (by_time ? counts : "step " + counts) + buf;
  } else {
    s += "step " + std::to_string(done_);
  }
  if (!stats_.empty()) s += " " + stats_;
  s += " | " + format_count(rate()) + " " + unit_ + "/s";
  if (!bar && !by_time) s += " | elapsed " + format_duration(el);
  if (known) s += " | ETA " + format_duration(eta);
  return s;
}

void Progress::draw(bool final) {
  drawn_done_ = done_;
  drawn_stats_ = stats_;
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line(true).c_str());
    if (final) std::fputc('\n', stderr);
  } else {
    std::fprintf(stderr, "%s\n", line(false).c_str());
  }
  std::fflush(stderr);
}

void Progress::update(int64_t done, double items, const std::string& stats) {
  if (first_done_ < 0) first_done_ = done - 1 < 0 ? 0 : done - 1;
  done_ = done;
  items_ += items;
  if (!stats.empty()) stats_ = stats;
  auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ > std::chrono::milliseconds(100) || (total_ > 0 && done_ >= total_)) {
      last_draw_ = now;
      draw(false);
    }
  } else if (done_ % log_every_ == 0) {
    draw(false);
  }
}

void Progress::message(const std::string& text) {
  if (tty_) std::fprintf(stderr, "\r\033[K%s\n", text.c_str());
  else std::fprintf(stderr, "%s\n", text.c_str());
  if (tty_ && done_ > 0 && !finished_) draw(false);  // after finish() the bar stays above
  std::fflush(stderr);
}

void Progress::finish(const std::string& stats) {
  if (finished_) return;
  if (!stats.empty()) stats_ = stats;
  finished_ = true;
  // A log line for this very step is already there: not a second copy of it. On a terminal
  // the bar is redrawn once more and ended with a newline, so what prints next starts on a
  // line of its own.
  if (!tty_ && drawn_done_ == done_ && drawn_stats_ == stats_) return;
  draw(true);
}

}  // namespace bertlab::train
