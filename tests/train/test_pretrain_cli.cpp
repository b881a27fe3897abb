// tests/train/test_pretrain_cli.cpp — the real `bertlab` executable (path in $BERTLAB_EXE, set by
// meson): `pretrain` bad input (clear message, non-zero exit, no run folder), a short run, the NaN
// stop, --resume, `predict fill-mask` (arguments, stdin, --json), `eval pretrain` and `plot`.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/run_command.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using test_cli::exe;
using test_cli::Result;
using test_cli::sh;
Result bertlab(const std::string& args) { return sh(exe() + " " + args); }

// One folder for the whole file: a corpus and a tiny trained model that several cases use.
struct Fixture {
  fs::path dir;
  std::string corpus, run;
  Fixture() {
    std::string tmpl = (fs::temp_directory_path() / "bertlab_pretrain_cli_XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    corpus = (dir / "corpus.raw").string();
    std::ifstream in("data/wikitext2/wiki.test.raw", std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "run from the repository root");
    std::string s(40000, '\0');
    in.read(s.data(), (std::streamsize)s.size());
    s.resize(s.rfind('\n') + 1);
    std::ofstream(corpus, std::ios::binary) << s;
    run = (dir / "run").string();
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string tiny_flags() const {
    return "--config bert-tiny --corpus '" + corpus + "' --max-seq-length 32 --batch-size 2 --log-every 1 "
           "--holdout-every 4 --eval-examples 8 --threads 1 --seed 3";
  }
};

Fixture& fx() {
  static Fixture f;
  return f;
}

}  // namespace

TEST_CASE("bertlab pretrain: bad input gives a clear message, a non-zero exit and no run folder") {
  const std::string out = (fx().dir / "bad").string();
  SUBCASE("a missing corpus") {
    const Result r = bertlab("pretrain --corpus '" + out + "-nope.txt' --steps 1 --out '" + out + "'");
    CHECK(r.status != 0);
    CHECK(r.out.find("nope.txt: no such file") != std::string::npos);
  }
  SUBCASE("an empty corpus") {
    std::ofstream(fx().dir / "empty.txt") << "\n\n";
    const Result r = bertlab("pretrain --config bert-tiny --corpus '" + (fx().dir / "empty.txt").string() +
                             "' --steps 1 --out '" + out + "'");
    CHECK(r.status != 0);
    CHECK(r.out.find("no usable text") != std::string::npos);
  }
  SUBCASE("an unknown preset") {
    const Result r = bertlab("pretrain --config bert-huge --corpus '" + fx().corpus + "' --steps 1 --out '" + out + "'");
    CHECK(r.status != 0);
    CHECK(r.out.find("unknown model preset 'bert-huge'") != std::string::npos);
  }
  SUBCASE("a sequence longer than max_position_embeddings") {
    const Result r = bertlab("pretrain --config bert-tiny --corpus '" + fx().corpus +
                             "' --max-seq-length 1024 --steps 1 --out '" + out + "'");
    CHECK(r.status != 0);
    CHECK(r.out.find("--max-seq-length 1024 is larger than the model's max_position_embeddings (512)") != std::string::npos);
  }
  SUBCASE("no --steps and no --max-minutes") {
    const Result r = bertlab("pretrain --config bert-tiny --corpus '" + fx().corpus + "' --out '" + out + "'");
    CHECK(r.status != 0);
    CHECK(r.out.find("--steps") != std::string::npos);
  }
  SUBCASE("--resume without a checkpoint") {
    const Result r = bertlab("pretrain --config bert-tiny --corpus '" + fx().corpus + "' --steps 1 --resume --out '" + out + "'");
    CHECK(r.status != 0);
    CHECK(r.out.find("no checkpoint") != std::string::npos);
  }
  CHECK(!fs::exists(out));
}

// The tiny run that the cases below share, made once.
const std::string& trained_run() {
  static bool done = false;
  Fixture& f = fx();
  if (!done) {
    const Result r = bertlab("pretrain " + f.tiny_flags() + " --steps 3 --save-every 2 --out '" + f.run + "'");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("pretrain: model ") != std::string::npos);
    done = true;
  }
  return f.run;
}

TEST_CASE("bertlab pretrain writes a run folder that --resume continues") {
  const std::string run = trained_run();
  CHECK(fs::exists(run + "/final/model.safetensors"));
  CHECK(fs::exists(run + "/final/vocab.txt"));
  CHECK(fs::exists(run + "/checkpoint-3/trainer_state.json"));
  CHECK(fs::exists(run + "/pretrain_args.json"));
  // a copy, so that the other cases keep the 3-step model
  const std::string copy = (fx().dir / "resumed").string();
  fs::copy(run, copy, fs::copy_options::recursive);
  Result r = bertlab("pretrain " + fx().tiny_flags() + " --steps 4 --out '" + copy + "' --resume");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("now at step 4") != std::string::npos);
  r = bertlab("pretrain " + fx().tiny_flags() + " --steps 5 --resume '" + copy + "/checkpoint-4'");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("now at step 5") != std::string::npos);
  r = bertlab("pretrain " + fx().tiny_flags() + " --steps 5 --out '" + copy + "'");
  CHECK(r.status != 0);
  CHECK(r.out.find("already holds checkpoints") != std::string::npos);
}

TEST_CASE("bertlab predict fill-mask: readable lines, --json as transformers, stdin, bad input") {
  const std::string model = trained_run() + "/final";
  Result r = bertlab("predict fill-mask --model '" + model + "' --top-k 3 \"the cat sat on the [MASK] .\"");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("the cat sat on the [MASK] .\n") == 0);
  r = bertlab("predict fill-mask --model '" + model + "' --json \"the [MASK] is here .\"");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  const json j = json::parse(r.out);
  REQUIRE(j.is_array());
  CHECK(j.size() == 5);
  CHECK(j[0]["score"].is_number());
  CHECK(j[0]["token"].is_number_integer());
  CHECK(j[0]["token_str"].is_string());
  CHECK(j[0]["sequence"].is_string());
  r = sh("printf 'a [MASK] b\\n\\n[MASK] c [MASK]\\n' | " + exe() + " predict fill-mask --json --top-k 2 --model '" +
         model + "' -");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  std::istringstream lines(r.out);
  std::string l1, l2;
  std::getline(lines, l1);
  std::getline(lines, l2);
  CHECK(json::parse(l1).size() == 2);
  CHECK(json::parse(l2).size() == 2);
  CHECK(json::parse(l2)[0].is_array());
  r = bertlab("predict fill-mask --model '" + model + "' \"no mask here\"");
  CHECK(r.status != 0);
  CHECK(r.out.find("no [MASK]") != std::string::npos);
  r = bertlab("predict fill-mask --model '" + fx().run + "/nothing' \"a [MASK]\"");
  CHECK(r.status != 0);
  CHECK(r.out.find("does not exist") != std::string::npos);
}

TEST_CASE("bertlab pretrain --no-progress: no progress lines, the rest as before") {
  Fixture& f = fx();
  const std::string out = (f.dir / "quiet").string();
  Result r = bertlab("pretrain " + f.tiny_flags() + " --steps 2 --no-progress --out '" + out + "'");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("pretrain step ") == std::string::npos);
  CHECK(r.out.find("pretrain: model ") != std::string::npos);
  r = bertlab("pretrain " + f.tiny_flags() + " --steps 2 --out '" + out + "-2'");  // without it: progress lines
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("pretrain step 2/2") != std::string::npos);
}

TEST_CASE("bertlab eval pretrain --data is --corpus, as in eval classify|ner|qa") {
  const Result r = bertlab("eval pretrain --model '" + trained_run() + "/final/config.json' --data '" + fx().corpus +
                           "' --max-seq-length 32 --examples 4 --json");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(json::parse(r.out)["examples"] == 4);
}

TEST_CASE("bertlab plot runs gnuplot without a shell: a folder named with ' and $(...) is only a name") {
  if (::access("/usr/bin/gnuplot", X_OK) != 0) {
    MESSAGE("SKIPPED: gnuplot is not installed (tools/install_deps.sh installs gnuplot-nox)");
    return;
  }
  const fs::path dir = fx().dir / "it's $(touch INJECTED) `touch INJECTED2`";
  fs::create_directories(dir);
  fs::copy_file(trained_run() + "/metrics.jsonl", dir / "metrics.jsonl");
  std::string quoted = "'";  // the name as one shell word: ' is written '\''
  for (char c : dir.filename().string()) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  const Result r = sh("cd '" + fx().dir.string() + "' && " + exe() + " plot " + quoted);
  CHECK_MESSAGE(r.status == 0, r.out);
  CHECK(fs::exists(dir / "loss.png"));
  CHECK(fs::file_size(dir / "loss.png") > 1000);
  CHECK_FALSE(fs::exists(fx().dir / "INJECTED"));
  CHECK_FALSE(fs::exists(fx().dir / "INJECTED2"));
  CHECK_FALSE(fs::exists(dir / "INJECTED"));
  for (auto& e : fs::directory_iterator(dir)) {  // nothing left behind: no script, log or temporary image
    CAPTURE(e.path());
    CHECK((e.path().filename() == "metrics.jsonl" || e.path().filename() == "loss.png"));
  }
}

TEST_CASE("bertlab eval pretrain reports MLM and NSP accuracy") {
  const Result r = bertlab("eval pretrain --model '" + trained_run() + "/final' --corpus '" + fx().corpus +
                           "' --max-seq-length 32 --examples 16 --json");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  const json j = json::parse(r.out);
  CHECK(j["examples"] == 16);
  // each accuracy is a count over its total (masked tokens; examples), and the loss its parts' sum
  const double n = j["predictions"].get<double>(), mlm = j["mlm_accuracy"].get<double>() * n,
               nsp = j["nsp_accuracy"].get<double>() * 16;
  REQUIRE(n >= 16);
  CHECK(std::fabs(mlm - std::round(mlm)) < 1e-9);
  CHECK(std::fabs(nsp - std::round(nsp)) < 1e-9);
  CHECK(j["loss"].get<double>() == doctest::Approx(j["mlm_loss"].get<double>() + j["nsp_loss"].get<double>()));
  // and none of it depends on how the examples are batched (padding is masked out)
  const Result r3 = bertlab("eval pretrain --model '" + trained_run() + "/final' --corpus '" + fx().corpus +
                            "' --max-seq-length 32 --examples 16 --batch-size 3 --json");
  REQUIRE_MESSAGE(r3.status == 0, r3.out);
  const json j3 = json::parse(r3.out);
  CHECK(j3["predictions"] == j["predictions"]);
  CHECK(j3["mlm_accuracy"] == j["mlm_accuracy"]);
  CHECK(j3["nsp_accuracy"] == j["nsp_accuracy"]);
  CHECK(j3["mlm_loss"].get<double>() == doctest::Approx(j["mlm_loss"].get<double>()).epsilon(1e-5));
  CHECK(j3["nsp_loss"].get<double>() == doctest::Approx(j["nsp_loss"].get<double>()).epsilon(1e-5));
}

TEST_CASE("bertlab plot draws the run's curves, and names a missing run") {
  const std::string run = trained_run();
  Result r = bertlab("plot '" + run + "/nothing'");
  CHECK(r.status != 0);
  CHECK(r.out.find("no such run folder") != std::string::npos);
  if (::access("/usr/bin/gnuplot", X_OK) != 0) {
    MESSAGE("gnuplot is not installed: the image is not checked");
    return;
  }
  r = bertlab("plot '" + run + "' --out '" + run + "/curve.svg'");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(fs::file_size(run + "/curve.svg") > 1000);
}

TEST_CASE("bertlab pretrain stops on a NaN loss naming the step and the last good checkpoint") {
  Fixture& f = fx();
  const std::string out = (f.dir / "nan").string();
  const Result r = bertlab("pretrain " + f.tiny_flags() + " --steps 5 --save-every 1 --debug-nan-at-step 3 --out '" + out + "'");
  CHECK(r.status == 1);
  CHECK(r.out.find("the loss became NaN at step 3") != std::string::npos);
  CHECK(r.out.find("checkpoint-2") != std::string::npos);
  CHECK(fs::exists(out + "/checkpoint-2/model.safetensors"));
  CHECK(!fs::exists(out + "/checkpoint-3"));
  CHECK(!fs::exists(out + "/final"));
}
