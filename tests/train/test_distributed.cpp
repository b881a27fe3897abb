// tests/train/test_distributed.cpp — data-parallel training (bert/train/distributed.h) as a user
// runs it: `mpirun -np 2 bertlab finetune|pretrain ...` against one process, the same step
// taken with gradient accumulation, stop and --resume on two ranks, a resume on another number
// of ranks, and a rank that dies or hangs. Exits 77 (meson SKIP) when bertlab was built
// without MPI. $BERTLAB_EXE and $BERTLAB_MPIRUN are set by meson.
//
// Dropout is off in these runs (a config with dropout 0): each rank draws its own dropout
// masks, so with dropout on two ranks do not compute what one process does.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bert/safetensors.h"
#include "cuda/cuda.h"
#include "tests/run_command.h"
#include "tests/train/helpers.h"

namespace fs = std::filesystem;
using nlohmann::json;
using test_train::TempDir;
using test_train::write_file;

namespace {

using test_cli::exe;
using test_cli::Result;
using test_cli::sh;
// Two ranks on this machine: --oversubscribe (CI has 2 cores, maybe fewer slots), root allowed
// (CI runs as root), shared memory only, one OpenMP thread per rank.
// In the sanitizer build (test.sh's second run) the ranks keep AddressSanitizer's checks but
// not its leak report: OpenMPI 4.1 leaves its runtime allocated at exit from components it
// has unloaded, which LeakSanitizer cannot name (so no suppression can match them). bertlab's
// own allocations on these paths are leak-checked in the single-process tests.
std::string mpirun(int np) {
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string no_leaks = asan ? std::string("-x 'ASAN_OPTIONS=") + asan + ":detect_leaks=0' " : "";
  return std::string("'") + std::getenv("BERTLAB_MPIRUN") + "' --oversubscribe --allow-run-as-root --mca btl self,vader " +
         no_leaks + "-x OMP_NUM_THREADS=1 -np " + std::to_string(np) + " ";
}
Result run_bertlab(const std::string& args) { return sh("OMP_NUM_THREADS=1 " + exe() + " " + args); }
Result run_np(int np, const std::string& args) { return sh(mpirun(np) + exe() + " " + args); }

// The files every case uses: a bert-tiny config without dropout, a labelled set, a corpus.
struct Fixture {
  TempDir dir{"distributed"};
  std::string config, train, corpus;
  Fixture() {
    const Result r = run_bertlab("init --config bert-tiny --task classify --num-labels 2 --out '" + dir / "init" + "'");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    json c = json::parse(std::ifstream(dir / "init/config.json"));
    c["hidden_dropout_prob"] = 0.0;
    c["attention_probs_dropout_prob"] = 0.0;
    config = dir / "config.json";
    write_file(config, c.dump(2));
    // 24 labelled sentences: 3 global batches of 8 (2 ranks x 4)
    const char* pos[] = {"a fine film", "great acting", "i loved it", "a joy to watch", "warm and funny",
                         "the best this year", "moving and smart", "a delight", "wonderful story", "truly great",
                         "so much fun", "beautifully made"};
    const char* neg[] = {"a dull mess", "i hated it", "boring and long", "the worst film", "a waste of time",
                         "flat and lifeless", "painfully slow", "not funny at all", "a tedious bore", "badly acted",
                         "utterly forgettable", "a sad failure"};
    std::string tsv = "sentence\tlabel\n";
    for (int i = 0; i < 12; ++i) tsv += std::string(pos[i]) + "\t1\n" + neg[i] + "\t0\n";
    train = dir / "train.tsv";
    write_file(train, tsv);
    corpus = dir / "corpus.raw";
    write_file(corpus, test_train::wikitext_head(30000));
  }
  std::string finetune_flags(const std::string& out, int batch) const {
    return "finetune classify --config '" + config + "' --train '" + train + "' --out '" + out +
           "' --epochs 2 --lr 1e-3 --batch-size " + std::to_string(batch) + " --seed 5 --log-every 1";
  }
  std::string pretrain_flags(const std::string& out, int batch) const {
    return "pretrain --config '" + config + "' --corpus '" + corpus + "' --out '" + out +
           "' --max-seq-length 32 --batch-size " + std::to_string(batch) +
           " --holdout-every 0 --log-every 1 --seed 3 --lr 1e-3 --warmup-steps 1";
  }
};

Fixture& fx() {
  static Fixture f;
  return f;
}

// The largest difference between two model.safetensors files (same names, float32).
double max_diff(const std::string& a, const std::string& b) {
  const bertlab::safetensors::File fa(a), fb(b);
  REQUIRE(fa.names() == fb.names());
  double m = 0;
  for (const std::string& name : fa.names()) {
    const std::vector<float> x = fa.load(name, bertlab::DType::Float32).tolist<float>(),
                             y = fb.load(name, bertlab::DType::Float32).tolist<float>();
    REQUIRE(x.size() == y.size());
    for (size_t i = 0; i < x.size(); ++i) m = std::max(m, (double)std::fabs(x[i] - y[i]));
  }
  return m;
}

// The training losses of metrics.jsonl, by step.
std::vector<double> losses(const std::string& run) {
  std::ifstream f(run + "/metrics.jsonl");
  REQUIRE(f.good());
  std::vector<double> out;
  std::string line;
  while (std::getline(f, line)) {
    const json j = json::parse(line);
    if (j.contains("loss") && j.value("type", std::string("train")) == "train") {
      const size_t step = j["step"].get<size_t>();
      if (out.size() < step) out.resize(step, NAN);
      out[step - 1] = j["loss"].get<double>();
    }
  }
  return out;
}

// The ranks mpirun started under `root` (their own process groups): the descendants of root
// that run bertlab itself (not the shell, not mpirun), by pid.
std::vector<int> rank_processes(pid_t root) {
  std::map<int, int> parent;
  std::map<int, std::string> comm;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "stat");
    std::string line;
    if (!std::getline(f, line)) continue;
    const size_t open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    int ppid = 0;
    rest >> state >> ppid;
    parent[std::stoi(name)] = ppid;
    comm[std::stoi(name)] = line.substr(open + 1, close - open - 1);
  }
  std::vector<int> out;
  for (const auto& [pid, pp] : parent) {
    bool below = false;
    for (int q = pp; q > 1 && !below; q = parent.count(q) ? parent[q] : 0) below = q == root;
    if (below && comm[pid] != "mpirun" && comm[pid] != "sh" && comm[pid] != "orterun") out.push_back(pid);
  }
  return out;
}

}  // namespace

TEST_CASE("finetune: 2 ranks x batch 4 take the steps of 1 process x batch 8 and of batch 4 x 2 accumulated") {
  const std::string one = fx().dir / "ft1", two = fx().dir / "ft2", acc = fx().dir / "ftacc";
  Result r = run_bertlab(fx().finetune_flags(one, 8));
  REQUIRE_MESSAGE(r.status == 0, r.out);
  r = run_np(2, fx().finetune_flags(two, 4));
  REQUIRE_MESSAGE(r.status == 0, r.out);
  // rank 0 speaks for both: one header line, the effective batch named
  CHECK(r.out.find("batch 4 per rank x 2 ranks = 8 examples per step") != std::string::npos);
  size_t headers = 0;
  for (size_t p = 0; (p = r.out.find("training: 2 epochs", p)) != std::string::npos; ++p) ++headers;
  CHECK(headers == 1);
  r = run_bertlab(fx().finetune_flags(acc, 4) + " --gradient-accumulation-steps 2");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  // 24 examples, 8 a step: 3 steps an epoch, 6 in all
  const std::string last = "/checkpoint-6/model.safetensors";
  REQUIRE(fs::exists(one + last));
  REQUIRE(fs::exists(two + last));
  // float32, summed in another order: equal to about 1e-7 after 6 AdamW steps at lr 1e-3
  const double d1 = max_diff(one + last, two + last), d2 = max_diff(acc + last, two + last);
  MESSAGE("largest weight difference: 2 ranks vs batch 8 " << d1 << ", vs accumulation " << d2);
  CHECK(d1 < 1e-6);
  CHECK(d2 < 1e-6);
  // the weights moved (a test of nothing otherwise)
  CHECK(max_diff(fx().dir / "init/model.safetensors", two + last) > 1e-3);
  const std::vector<double> l1 = losses(one), l2 = losses(two);
  REQUIRE(l1.size() == 6);
  REQUIRE(l2.size() == 6);
  for (size_t i = 0; i < 6; ++i) CHECK(l2[i] == doctest::Approx(l1[i]).epsilon(1e-5));
  // the checkpoint records both ranks
  const json st = json::parse(std::ifstream(two + "/checkpoint-6/trainer_state.json"));
  CHECK(st["extra"]["world_size"] == 2);
  CHECK(st["extra"]["rank_generators"].size() == 2);
}

TEST_CASE("pretrain: 2 ranks x batch 2 equal 1 process x batch 2 x 2 accumulated; stop and --resume on 2 ranks") {
  const std::string two = fx().dir / "pt2", acc = fx().dir / "ptacc", cut = fx().dir / "ptcut";
  Result r = run_np(2, fx().pretrain_flags(two, 2) + " --steps 6 --save-every 3");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("batch 2 per rank x 2 ranks x 1 accumulated = 4 sequences") != std::string::npos);
  // bert-tiny's 17.7 MB of gradients are one bucket, sent during each of the 6 backward passes
  CHECK(r.out.find("in 1 bucket (6 of 6 started during backward)") != std::string::npos);
  r = run_bertlab(fx().pretrain_flags(acc, 2) + " --steps 6 --save-every 3 --grad-accum 2");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  const std::vector<double> l2 = losses(two), la = losses(acc);
  REQUIRE(l2.size() == 6);
  REQUIRE(la.size() == 6);
  for (size_t i = 0; i < 6; ++i) CHECK(l2[i] == doctest::Approx(la[i]).epsilon(1e-5));
  CHECK(max_diff(two + "/final/model.safetensors", acc + "/final/model.safetensors") < 1e-6);
  // the buckets sent after backward instead of during it, in small buckets: bitwise the same
  const std::string late = fx().dir / "ptlate";
  r = sh("BERTLAB_DDP_OVERLAP=0 BERTLAB_BUCKET_MB=1 " + mpirun(2) + "-x BERTLAB_DDP_OVERLAP -x BERTLAB_BUCKET_MB " + exe() +
         " " + fx().pretrain_flags(late, 2) + " --steps 6 --save-every 3");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("(overlap off)") != std::string::npos);
  CHECK(losses(late) == l2);
  CHECK(max_diff(two + "/final/model.safetensors", late + "/final/model.safetensors") == 0.0);

  // the same 2-rank run cut after its first step (a time budget) and resumed: bitwise the same
  r = run_np(2, fx().pretrain_flags(cut, 2) + " --steps 6 --save-every 3 --max-minutes 0.00001");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  REQUIRE(fs::exists(cut + "/checkpoint-1"));
  r = run_np(2, fx().pretrain_flags(cut, 2) + " --steps 6 --save-every 3 --resume latest");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  const std::vector<double> lc = losses(cut);
  REQUIRE(lc.size() == 6);
  for (size_t i = 0; i < 6; ++i) CHECK(lc[i] == l2[i]);  // bitwise
  CHECK(max_diff(two + "/final/model.safetensors", cut + "/final/model.safetensors") == 0.0);

  // resuming a 2-rank checkpoint in one process: a clear error, nothing trained
  r = run_bertlab(fx().pretrain_flags(cut, 2) + " --steps 7 --resume latest");
  CHECK(r.status == 1);
  CHECK(r.out.find("was written by a run on 2 processes, this one has 1; resume it with the same number (mpirun -np 2)") !=
        std::string::npos);
}

TEST_CASE("ZeRO-1: the optimizer state sharded over 2 ranks takes the steps of the all-reduce path") {
  const std::string two = fx().dir / "ft2", zero = fx().dir / "ftzero";
  if (!fs::exists(two + "/checkpoint-6")) {  // (the first case's run, when it ran alone)
    const Result r = run_np(2, fx().finetune_flags(two, 4));
    REQUIRE_MESSAGE(r.status == 0, r.out);
  }
  Result r = run_np(2, fx().finetune_flags(zero, 4) + " --zero-stage 1");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  // bert-tiny (4,386,178 parameters): 35.1 MB of moments, half on each rank
  CHECK(r.out.find("ZeRO-1: each rank holds 17.5 MB of the 35.1 MB of AdamW moments") != std::string::npos);
  const std::string last = "/checkpoint-6/";
  // the same AdamW arithmetic per element; only the global norm is summed in another order
  const double dw = max_diff(two + last + "model.safetensors", zero + last + "model.safetensors");
  // the checkpoint holds the whole state, gathered from both ranks, under one process's names
  const double dm = max_diff(two + last + "optimizer.safetensors", zero + last + "optimizer.safetensors");
  MESSAGE("ZeRO-1 against the all-reduce path: weights " << dw << ", optimizer state " << dm);
  CHECK(dw < 1e-6);
  CHECK(dm < 1e-6);
  CHECK(max_diff(fx().dir / "init/model.safetensors", zero + last + "model.safetensors") > 1e-3);
  // buckets of 78,643 elements (0.3 MB): odd, so each bucket's last slice is padded, and
  // parameters span buckets
  const std::string small = fx().dir / "ftzerosmall";
  r = sh("BERTLAB_BUCKET_MB=0.3 " + mpirun(2) + "-x BERTLAB_BUCKET_MB " + exe() + " " + fx().finetune_flags(small, 4) +
         " --zero-stage 1");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(max_diff(two + last + "model.safetensors", small + last + "model.safetensors") < 1e-6);
  CHECK(max_diff(two + last + "optimizer.safetensors", small + last + "optimizer.safetensors") < 1e-6);

  // pretrain with ZeRO-1, cut after its first step and resumed: bitwise the uninterrupted run
  const std::string full = fx().dir / "ptzero", cut = fx().dir / "ptzerocut";
  r = run_np(2, fx().pretrain_flags(full, 2) + " --steps 4 --save-every 2 --zero-stage 1");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  r = run_np(2, fx().pretrain_flags(cut, 2) + " --steps 4 --save-every 2 --zero-stage 1 --max-minutes 0.00001");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  REQUIRE(fs::exists(cut + "/checkpoint-1"));
  r = run_np(2, fx().pretrain_flags(cut, 2) + " --steps 4 --save-every 2 --zero-stage 1 --resume latest");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  const std::vector<double> lf = losses(full), lc = losses(cut);
  REQUIRE(lf.size() == 4);
  REQUIRE(lc.size() == 4);
  for (size_t i = 0; i < 4; ++i) CHECK(lc[i] == lf[i]);  // bitwise
  CHECK(max_diff(full + "/final/model.safetensors", cut + "/final/model.safetensors") == 0.0);
  CHECK(max_diff(full + "/checkpoint-4/optimizer.safetensors", cut + "/checkpoint-4/optimizer.safetensors") == 0.0);

  // a bad stage is refused by the flag parser, naming the flag
  r = run_bertlab(fx().pretrain_flags(fx().dir / "ptbad", 2) + " --steps 1 --zero-stage 2");
  CHECK(r.status == 2);
  CHECK(r.out.find("--zero-stage") != std::string::npos);
}

TEST_CASE("finetune: stop and --resume on 2 ranks continue bitwise") {
  const std::string full = fx().dir / "ft2", cut = fx().dir / "ftcut";
  if (!fs::exists(full + "/checkpoint-6")) {  // (the first case's run, when it ran alone)
    const Result r = run_np(2, fx().finetune_flags(full, 4));
    REQUIRE_MESSAGE(r.status == 0, r.out);
  }
  // stopped by a NaN at step 5 (a test hook) after the checkpoint of epoch 1 (step 3), resumed
  Result r = run_np(2, fx().finetune_flags(cut, 4) + " --debug-nan-at-step 5");
  CHECK(r.status != 0);
  CHECK(r.out.find("The last good checkpoint is") != std::string::npos);
  REQUIRE(fs::exists(cut + "/checkpoint-3"));
  REQUIRE(!fs::exists(cut + "/checkpoint-6"));
  r = run_np(2, fx().finetune_flags(cut, 4) + " --resume");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  const std::vector<double> lf = losses(full), lc = losses(cut);
  REQUIRE(lc.size() == 6);
  for (size_t i = 0; i < 6; ++i) CHECK(lc[i] == lf[i]);  // bitwise
  CHECK(max_diff(full + "/checkpoint-6/model.safetensors", cut + "/checkpoint-6/model.safetensors") == 0.0);
}

TEST_CASE("bad settings of the data-parallel environment variables are named") {
  Result r = sh("BERTLAB_BUCKET_MB=lots " + mpirun(2) + "-x BERTLAB_BUCKET_MB " + exe() + " " +
                fx().finetune_flags(fx().dir / "badbucket", 4));
  CHECK(r.status != 0);
  CHECK(r.out.find("BERTLAB_BUCKET_MB must be a number of megabytes in (0, 4096], got 'lots'") != std::string::npos);
  r = sh("BERTLAB_DIST_TIMEOUT=-3 " + mpirun(2) + "-x BERTLAB_DIST_TIMEOUT " + exe() + " " +
         fx().finetune_flags(fx().dir / "badtimeout", 4));
  CHECK(r.status != 0);
  CHECK(r.out.find("BERTLAB_DIST_TIMEOUT must be a positive number of seconds, got '-3'") != std::string::npos);
}

TEST_CASE("a rank that dies or hangs ends the job with a non-zero exit") {
  // a long run; one rank is killed (or stopped) once training is under way
  auto run_and = [&](int sig, const std::string& env) {
    const std::string out = fx().dir / ("fault" + std::to_string(sig));
    const std::string log = out + ".log";
    const std::string cmd = env + " " + mpirun(2) + exe() + " " + fx().pretrain_flags(out, 2) + " --steps 100000 > '" +
                            log + "' 2>&1";
    const auto t0 = std::chrono::steady_clock::now();
    const pid_t launcher = fork();
    REQUIRE(launcher >= 0);
    if (launcher == 0) {
      setpgid(0, 0);
      execl("/bin/sh", "sh", "-c", cmd.c_str(), (char*)nullptr);
      _exit(127);
    }
    // wait for training to start (a metrics record), then signal one rank's bertlab process
    bool started = false;
    for (int i = 0; i < 600 && !started; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      started = fs::exists(out + "/metrics.jsonl");
    }
    REQUIRE(started);
    const std::vector<int> ranks = rank_processes(launcher);
    REQUIRE(ranks.size() == 2);
    const int victim = ranks.back();
    kill(victim, sig);
    const auto t1 = std::chrono::steady_clock::now();
    int st = 0;
    pid_t done = 0;
    for (int i = 0; i < 1200 && done == 0; ++i) {  // at most 120 s
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      done = waitpid(launcher, &st, WNOHANG);
    }
    if (done == 0) {
      kill(-launcher, SIGKILL);
      waitpid(launcher, &st, 0);
      FAIL("the job did not end within 120 s of the signal");
    }
    if (sig == SIGSTOP) kill(victim, SIGKILL);  // (mpirun may have killed it already)
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    std::ifstream lf(log);
    const std::string text((std::istreambuf_iterator<char>(lf)), std::istreambuf_iterator<char>());
    MESSAGE("signal " << sig << ": the job ended " << secs << " s later, "
                      << std::chrono::duration<double>(t1 - t0).count() << " s after its start");
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) != 0);
    return std::make_pair(secs, text);
  };
  SUBCASE("killed") {
    const auto [secs, text] = run_and(SIGKILL, "");
    CHECK(secs < 30);
  }
  SUBCASE("hung: the other rank gives up after BERTLAB_DIST_TIMEOUT") {
    const auto [secs, text] = run_and(SIGSTOP, "BERTLAB_DIST_TIMEOUT=3");
    CHECK(secs < 60);
    CHECK(text.find("no answer from the other ranks") != std::string::npos);
    // the rank still running names the one that stopped (the victim, whichever rank it was)
    CHECK((text.find("rank 0 did not answer") != std::string::npos) != (text.find("rank 1 did not answer") != std::string::npos));
  }
}

// On the GPU machine (one GPU): NCCL's path on one rank against the plain GPU run. NCCL refuses
// two ranks on one GPU, so more than one GPU is untested here.
TEST_CASE("NCCL: one rank on the GPU takes the steps of one process on it") {
  const std::string plain = fx().dir / "gpu", nccl = fx().dir / "gpunccl";
  Result r = run_bertlab(fx().finetune_flags(plain, 8) + " --device cuda");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  r = sh("BERTLAB_DDP_FORCE=1 " + mpirun(1) + "-x BERTLAB_DDP_FORCE " + exe() + " " + fx().finetune_flags(nccl, 8) +
         " --device cuda");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("data parallel on 1 rank: ") != std::string::npos);
  CHECK(r.out.find("(NCCL, after backward)") != std::string::npos);
  const std::string last = "/checkpoint-6/model.safetensors";
  const double d = max_diff(plain + last, nccl + last);
  MESSAGE("NCCL on one rank against the plain GPU run: largest weight difference " << d);
  CHECK(d < 1e-6);
  CHECK(max_diff(fx().dir / "init/model.safetensors", nccl + last) > 1e-3);
}

int main(int argc, char** argv) {
  const char* m = std::getenv("BERTLAB_MPIRUN");
  if (!m || !*m || !std::getenv("BERTLAB_EXE")) {
    std::printf("SKIP: bertlab was built without MPI (install libopenmpi-dev openmpi-bin and reconfigure)\n");
    return 77;
  }
  doctest::Context ctx(argc, argv);
  // BERTLAB_TEST_GPU=1 (the meson test train_distributed_gpu): only the NCCL cases, which
  // need a GPU and NCCL; the CPU run leaves them out
  const char* gpu = std::getenv("BERTLAB_TEST_GPU");
  if (gpu && std::string(gpu) == "1") {
    if (!bertlab::cuda::available() || !bertlab::cuda::nccl_built()) {
      std::printf("SKIP: %s\n", !bertlab::cuda::available() ? "no CUDA device" : "bertlab was built without NCCL");
      return 77;
    }
    ctx.addFilter("test-case", "NCCL*");
  } else {
    ctx.addFilter("test-case-exclude", "NCCL*");
  }
  return ctx.run();
}
