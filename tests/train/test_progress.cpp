// tests/train/test_progress.cpp — bert/train/progress.h as a log reader sees it (plain lines, not
// a terminal): step, percentage, rate and ETA; the ETA under a time budget (--max-minutes) is
// the sooner of the two ends; format_duration / format_count.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <string>

#include "bert/train/progress.h"

using namespace bertlab::train;

namespace {

// Runs `fn` with stderr sent to a temporary file and returns what it wrote.
template <class F>
std::string capture_stderr(F fn) {
  std::fflush(stderr);
  std::FILE* tmp = std::tmpfile();
  REQUIRE(tmp != nullptr);
  const int saved = ::dup(2);
  ::dup2(::fileno(tmp), 2);
  fn();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::string out;
  std::rewind(tmp);
  for (int c; (c = std::fgetc(tmp)) != EOF;) out += (char)c;
  std::fclose(tmp);
  return out;
}

std::string eta_of(const std::string& line) {
  const auto at = line.find("ETA ");
  return at == std::string::npos ? "" : line.substr(at + 4, line.find_first_of(" \n", at + 4) - at - 4);
}

}  // namespace

TEST_CASE("format_duration and format_count") {
  CHECK(format_duration(5) == "5s");
  CHECK(format_duration(65) == "1m05s");
  CHECK(format_duration(3725.2) == "1h02m05s");
  CHECK(format_duration(-1) == "?");
  CHECK(format_count(5123) == "5.1k");
  CHECK(format_count(1.2e6) == "1.2M");
}

TEST_CASE("plain log lines: step, percentage, stats, ETA from the steps") {
  const std::string out = capture_stderr([] {
    Progress p("pretrain", 1000, "tok", /*log_every=*/1, /*tty=*/0);
    ::usleep(20000);
    p.update(1, 128, "loss 2.31");
    p.finish();
  });
  CHECK(out.find("pretrain step 1/1000 (0%) loss 2.31") != std::string::npos);
  CHECK(out.find("tok/s") != std::string::npos);
  // 20 ms a step and 999 to go: about 20 s, certainly more than 5 s and less than an hour
  const std::string eta = eta_of(out);
  INFO(out);
  CHECK(eta.find('h') == std::string::npos);
  CHECK(eta != "?");
  CHECK(eta != "0s");
}

TEST_CASE("a time budget caps the ETA, and gives one when the step total is unknown") {
  const std::string capped = capture_stderr([] {
    Progress p("pretrain", 1000000, "tok", 1, 0);
    p.set_time_limit(90);  // a million steps would take hours; the budget ends it in 90 s
    ::usleep(20000);
    p.update(1, 128);
  });
  INFO(capped);
  CHECK(eta_of(capped) == "1m30s");

  const std::string unknown = capture_stderr([] {
    Progress p("pretrain", 0, "tok", 1, 0);
    p.set_time_limit(3600);
    p.update(1, 128);
  });
  INFO(unknown);
  CHECK(unknown.find("ETA ") != std::string::npos);
  CHECK(eta_of(unknown).rfind("1h00m0", 0) == 0);  // 1h00m00s, or 1h00m0Xs rounding just below

  const std::string none = capture_stderr([] {
    Progress p("finetune", 0, "ex", 1, 0);
    p.update(1, 8);
  });
  CHECK(none.find("ETA") == std::string::npos);
}

static size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST_CASE("plain log lines: the last step is printed once, not again by finish()") {
  const std::string out = capture_stderr([] {
    Progress p("pretrain", 4, "tok", /*log_every=*/2, /*tty=*/0);
    for (int s = 1; s <= 4; ++s) p.update(s, 128, "loss 2.31");
    p.finish("loss 2.31");
  });
  INFO(out);
  CHECK(count_of(out, "step 2/4") == 1);
  CHECK(count_of(out, "step 4/4") == 1);
  // a step that was not logged yet is printed by finish()
  const std::string odd = capture_stderr([] {
    Progress p("pretrain", 3, "tok", 2, 0);
    for (int s = 1; s <= 3; ++s) p.update(s, 128);
    p.finish();
  });
  INFO(odd);
  CHECK(count_of(odd, "step 3/3") == 1);
}

TEST_CASE("on a terminal, what is printed after finish() starts on a line of its own") {
  const std::string out = capture_stderr([] {
    Progress p("pretrain", 2, "tok", 1, /*tty=*/1);
    p.update(1, 128);
    p.update(2, 128);
    p.finish();
    p.message("eval step 2: loss 1.0");  // e.g. the final evaluation
    std::fputs("pretrain: 2 steps\n", stderr);
  });
  INFO(out);
  CHECK(out.find("eval step 2: loss 1.0\npretrain: 2 steps\n") != std::string::npos);
  CHECK(out.find("ETA 0spretrain") == std::string::npos);
  CHECK(out.find("ETA 0seval") == std::string::npos);
  const size_t msg = out.find("eval step 2");
  REQUIRE(msg != std::string::npos);
  CHECK(count_of(out.substr(msg), "|") == 0);  // no bar redrawn after the message
}

TEST_CASE("under a time budget that ends the job first, the bar and the ETA both count the time") {
  const std::string early = capture_stderr([] {
    Progress p("pretrain", 1000000, "tok", 1, /*tty=*/1);
    p.set_time_limit(90);  // 20 ms a step: a million steps would take hours
    ::usleep(20000);
    p.update(1, 128);
    p.finish();
  });
  INFO(early);
  CHECK(early.find("  0% |") != std::string::npos);
  CHECK(early.find("step 1 | 0s/1m30s") != std::string::npos);
  CHECK(early.find("1/1000000") == std::string::npos);
  // the budget spent: the bar is full when the ETA says 0s
  const std::string spent = capture_stderr([] {
    Progress p("pretrain", 1000000, "tok", 1, 1);
    p.set_time_limit(0.01);
    ::usleep(30000);
    p.update(1, 128);
    p.finish();
  });
  INFO(spent);
  CHECK(spent.find("100% |") != std::string::npos);
  CHECK(eta_of(spent.substr(spent.rfind("100% |"))) == "0s");
  // the steps end first: the bar counts steps as before
  const std::string steps = capture_stderr([] {
    Progress p("pretrain", 4, "tok", 1, 0);
    p.set_time_limit(3600);
    ::usleep(10000);
    p.update(2, 128);
  });
  INFO(steps);
  CHECK(steps.find("step 2/4 (50%)") != std::string::npos);
}
