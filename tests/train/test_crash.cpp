// tests/train/test_crash.cpp — kill -9 while checkpoints are written. The real `bertlab
// pretrain` ($BERTLAB_EXE) saves a tiny model every step; the test kills it with SIGKILL at a
// random moment, again and again, each time continuing the same run with --resume. After each
// kill the newest checkpoint-<step> must load (model, optimizer, trainer state), and the next
// --resume must take it further; at the end a resumed run finishes normally and no temporary
// folder is left. (A child process because fork() and OpenMP do not mix; posix_spawn execs at
// once.) About 20 kills, a few seconds each on two cores.
#include <doctest/doctest.h>
#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bert/checkpoint.h"
#include "bert/io.h"
#include "bert/train/run.h"
#include "helpers.h"
#include "nn/optim.h"

using namespace bertlab;
using test_train::TempDir;
namespace fs = std::filesystem;

extern char** environ;

namespace {

std::string exe() {
  const char* e = std::getenv("BERTLAB_EXE");
  REQUIRE_MESSAGE(e != nullptr, "BERTLAB_EXE is not set (meson sets it)");
  return e;
}

// Starts `args` with its output to `log`; returns the child's pid.
pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return pid;
}

int64_t step_of(const std::string& checkpoint) {
  return checkpoint.empty() ? 0 : std::stoll(fs::path(checkpoint).filename().string().substr(11));
}

// Folders in the run under a temporary name (a checkpoint being written or deleted).
int temporaries(const std::string& run) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(run)) n += e.path().filename().string().rfind(".checkpoint-", 0) == 0;
  return n;
}

}  // namespace

TEST_CASE("kill -9 at random moments while checkpoints are written: the newest one always loads and --resume continues") {
  TempDir t("crash");
  // A tiny model (1 layer, hidden 16, the first 2000 tokens of the bundled vocabulary): a
  // checkpoint of about 400 kB, written after every step, so most of a step's time is saving.
  {
    std::ifstream in(test_train::vocab_path());
    std::ofstream out(t / "vocab.txt");
    std::string line;
    for (int i = 0; i < 2000 && std::getline(in, line); ++i) out << line << "\n";
  }
  bert::BertConfig c;
  c.vocab_size = 2000;
  c.hidden_size = 16;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.intermediate_size = 32;
  c.max_position_embeddings = 64;
  c.save(t / "config.json");
  test_train::write_file(t / "corpus.raw", test_train::wikitext_head(20000));
  const std::string run = t / "run", log = t / "log.txt";
  const std::vector<std::string> args = {exe(), "pretrain", "--config", t / "config.json", "--vocab", t / "vocab.txt",
                                         "--corpus", t / "corpus.raw", "--max-seq-length", "32", "--batch-size", "2",
                                         "--holdout-every", "0", "--save-every", "1", "--keep", "2", "--log-every", "1",
                                         "--threads", "1", "--seed", "3", "--out", run};

  std::mt19937 rng(20261203);
  const int rounds = 20;
  int mid_write = 0;
  int64_t last = 0;
  for (int round = 0; round < rounds; ++round) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--steps", "100000"});
    if (last > 0) a.push_back("--resume");
    const pid_t pid = spawn(a, log);
    // Past its start: wait for a checkpoint newer than the last one (this run's own), then a
    // random moment more, in which it takes a few more steps and saves.
    const auto t0 = std::chrono::steady_clock::now();
    while (step_of(bertlab::train::latest_checkpoint(run)) <= last) {
      int st;
      if (::waitpid(pid, &st, WNOHANG) != 0) FAIL("bertlab exited early; its output:\n" << bert::read_file(log));
      if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(60)) {
        ::kill(pid, SIGKILL);
        FAIL("no new checkpoint in 60 s");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 30000));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    int st;
    REQUIRE(::waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st));
    mid_write += temporaries(run) > 0;

    // The newest checkpoint is complete: the model, the optimizer's moments and the state load.
    const std::string latest = bertlab::train::latest_checkpoint(run);
    INFO("round " << round << ": " << latest);
    REQUIRE(!latest.empty());
    const int64_t step = step_of(latest);
    CHECK(step > last);
    auto m = bert::from_pretrained(latest, bert::Task::PreTraining);
    nn::AdamW opt(nn::decay_groups(*m, 0.01), 1e-4);
    const train::TrainerState s = train::load_checkpoint_state(latest, opt);
    CHECK(s.step == step);
    CHECK(opt.steps_taken == step);
    last = step;
  }
  MESSAGE(mid_write << " of " << rounds << " kills landed while a checkpoint folder was being written or deleted");
  CHECK(mid_write > 0);

  // A last --resume runs to its end: two more steps, final/, and nothing temporary left.
  std::vector<std::string> a = args;
  a.insert(a.end(), {"--steps", std::to_string(last + 2), "--resume"});
  const pid_t pid = spawn(a, log);
  int st;
  REQUIRE(::waitpid(pid, &st, 0) == pid);
  REQUIRE_MESSAGE((WIFEXITED(st) && WEXITSTATUS(st) == 0), bert::read_file(log));
  CHECK(step_of(bertlab::train::latest_checkpoint(run)) == last + 2);
  CHECK(fs::exists(run + "/final/model.safetensors"));
  CHECK(temporaries(run) == 0);
}
