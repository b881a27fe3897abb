// tests/tasks/test_cli.cpp — runs the real `bertlab finetune / eval / predict` executable (path
// in $BERTLAB_EXE, set by meson) on a tiny model: the commands work end to end, --json prints
// what the Hugging Face pipelines return, stdin input works, and bad input exits non-zero with
// a message (never a crash: a signal would give exit status -1 here), a full disk included.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bert/train/run.h"
#include "tests/tasks/tiny.h"

using namespace bertlab;
using testing::TempDir;
using nlohmann::json;

namespace {

struct Result {
  int status;
  std::string out;
};

// Runs `bertlab ARGS` (stdout and stderr together); "|" starts a whole shell command.
Result run(const std::string& args) {
  const char* exe = std::getenv("BERTLAB_EXE");
  REQUIRE_MESSAGE(exe != nullptr, "BERTLAB_EXE is not set (meson sets it)");
  std::string cmd = args.rfind("|", 0) == 0 ? args.substr(1) : "'" + std::string(exe) + "' " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

std::string exe() { return std::string("'") + std::getenv("BERTLAB_EXE") + "'"; }

std::vector<json> json_lines(const std::string& s) {
  std::vector<json> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && (line[0] == '{' || line[0] == '[')) out.push_back(json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("finetune classify, eval classify and predict sentiment from the command line") {
  TempDir t("cli-classify");
  testing::make_tiny_model(t / "base", -1);
  const std::string D = "tests/data/tasks/";
  Result r = run("finetune classify --model " + t / "base" + " --train " + D + "sst2_train.tsv --dev " + D +
                 "sst2_dev.tsv --label-names negative,positive --epochs 2 --batch-size 16 --lr 1e-3 --no-progress --json --out " +
                 t / "run");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("parameters ") != std::string::npos);
  CHECK(r.out.find("newly initialised") != std::string::npos);
  auto j = json_lines(r.out);
  REQUIRE(j.size() == 1);
  CHECK(j[0].contains("accuracy"));

  Result e = run("eval classify --model " + t / "run/best" + " --data " + D + "sst2_dev.tsv --json");
  REQUIRE_MESSAGE(e.status == 0, e.out);
  CHECK(json::parse(e.out)["accuracy"].get<double>() == doctest::Approx(j[0]["accuracy"].get<double>()));

  Result p = run("predict sentiment --json --model " + t / "run/best" + " \"a gorgeous film\" \"a dull film\"");
  REQUIRE_MESSAGE(p.status == 0, p.out);
  auto pj = json_lines(p.out);
  REQUIRE(pj.size() == 2);
  CHECK((pj[0]["label"] == "negative" || pj[0]["label"] == "positive"));
  CHECK(pj[0]["score"].get<double>() >= 0.5);

  Result s = run("|printf 'one\\n\\ntwo\\n' | " + exe() + " predict sentiment --model " + t / "run/best" + " - 2>&1");
  REQUIRE_MESSAGE(s.status == 0, s.out);
  CHECK(s.out.find("one") != std::string::npos);
  CHECK(s.out.find("two") != std::string::npos);
}

TEST_CASE("a folder as transformers 5 saves it (tokenizer.json, no vocab.txt) predicts and fine-tunes") {
  TempDir t("cli-hf5");
  testing::make_tiny_model(t / "m", (int)bert::Task::SequenceClassification, {"negative", "positive"});
  const std::string texts = " \"a gorgeous film\" \"a dull, DULL film\"";
  Result with_txt = run("predict sentiment --json --model " + t / "m" + texts);
  REQUIRE_MESSAGE(with_txt.status == 0, with_txt.out);
  std::filesystem::remove(std::filesystem::path(t / "m") / "vocab.txt");
  Result p = run("predict sentiment --json --model " + t / "m" + texts);
  REQUIRE_MESSAGE(p.status == 0, p.out);
  CHECK(json_lines(p.out) == json_lines(with_txt.out));
  CHECK(json_lines(p.out).size() == 2);

  const std::string D = "tests/data/tasks/";
  Result f = run("finetune classify --model " + t / "m" + " --train " + D + "sst2_train.tsv --dev " + D +
                 "sst2_dev.tsv --epochs 1 --batch-size 32 --no-progress --out " + t / "run");
  REQUIRE_MESSAGE(f.status == 0, f.out);
  for (const char* file : {"vocab.txt", "tokenizer.json", "tokenizer_config.json"})
    CHECK_MESSAGE(std::filesystem::exists(std::filesystem::path(t / "run/best") / file), file);

  // the tokenizer files exactly as transformers 5.23 wrote them, beside a model of their vocab size
  const std::filesystem::path golden = "tests/tokenizer/golden/hf5/uncased";
  bert::BertConfig c = testing::tiny_config(1292);
  c.set_labels({"negative", "positive"});
  auto m = bert::make_model(bert::Task::SequenceClassification, c);
  Generator g(3);
  m->init_weights(g);
  bert::save_pretrained(*m, t / "g");
  for (const char* file : {"tokenizer.json", "tokenizer_config.json"})
    std::filesystem::copy_file(golden / file, std::filesystem::path(t / "g") / file);
  Result gp = run("predict sentiment --json --model " + t / "g" + texts);
  REQUIRE_MESSAGE(gp.status == 0, gp.out);
  CHECK(json_lines(gp.out).size() == 2);
}

TEST_CASE("predict ner --json and --html, predict qa from JSON lines on stdin") {
  TempDir t("cli-ner");
  testing::make_tiny_model(t / "ner", (int)bert::Task::TokenClassification, {"B-LOC", "B-PER", "I-LOC", "I-PER", "O"});
  Result r = run("predict ner --json --model " + t / "ner" + " --html " + t / "out.html" + " \"tom lives in <paris> & rome\"");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  auto j = json_lines(r.out);
  REQUIRE(j.size() == 1);
  CHECK(j[0].is_array());
  for (auto& e : j[0]) {
    CHECK(e.contains("entity_group"));
    CHECK(e.contains("word"));
    CHECK(e.contains("score"));
    CHECK(e["start"].get<int64_t>() < e["end"].get<int64_t>());
  }
  std::string html = bert::read_file(t / "out.html");
  CHECK(html.find("&lt;") != std::string::npos);  // the text's < > & are escaped (entities may split them)
  CHECK(html.find("&gt;") != std::string::npos);
  CHECK(html.find("&amp;") != std::string::npos);
  CHECK(html.find(" & ") == std::string::npos);
  CHECK(html.find("<paris>") == std::string::npos);

  TempDir q("cli-qa");
  testing::make_tiny_model(q / "qa", (int)bert::Task::QuestionAnswering);
  Result a = run("|printf '%s\\n' '{\"question\": \"Who won?\", \"context\": \"Denver beat Carolina.\"}' | " + exe() +
                 " predict qa --json --model " + q / "qa" + " 2>/dev/null");
  REQUIRE_MESSAGE(a.status == 0, a.out);
  json aj = json::parse(a.out);
  CHECK(aj.contains("answer"));
  CHECK(std::string("Denver beat Carolina.").substr(aj["start"].get<size_t>(), aj["end"].get<size_t>() - aj["start"].get<size_t>()) ==
        aj["answer"].get<std::string>());
  Result bad = run("|echo 'not json' | " + exe() + " predict qa --model " + q / "qa" + " 2>&1");
  CHECK(bad.status == 1);
  CHECK(bad.out.find("stdin:1: invalid JSON") != std::string::npos);
}

TEST_CASE("zero-shot on a model without NLI labels exits 1 with a message") {
  TempDir t("cli-zs");
  testing::make_tiny_model(t / "m", (int)bert::Task::SequenceClassification, {"negative", "positive"});
  Result r = run("predict zero-shot --model " + t / "m" + " --labels sports,politics \"the match ended\"");
  CHECK(r.status == 1);
  CHECK(r.out.find("no entailment label") != std::string::npos);
}

TEST_CASE("bad input exits non-zero with a clear message") {
  TempDir t("cli-bad");
  testing::make_tiny_model(t / "base", -1);
  const std::string D = "tests/data/tasks/";
  Result missing = run("finetune classify --model " + t / "base" + " --train " + t / "nope.tsv" + " --out " + t / "run");
  CHECK(missing.status == 1);
  CHECK(missing.out.find("bertlab: error: finetune: training file") != std::string::npos);

  Result nomodel = run("eval ner --model " + t / "nothing" + " --data " + D + "wnut_dev.conll");
  CHECK(nomodel.status == 1);
  CHECK(nomodel.out.find("model folder") != std::string::npos);

  testing::write_text(t / "bad.json", "{\"data\": [");
  Result badjson = run("finetune qa --model " + t / "base" + " --train " + t / "bad.json" + " --out " + t / "run2");
  CHECK(badjson.status == 1);
  CHECK(badjson.out.find("bad.json: invalid JSON") != std::string::npos);

  Result toolong = run("finetune ner --model " + t / "base" + " --train " + D + "wnut_train.conll --max-length 513 --out " + t / "run3");
  CHECK(toolong.status == 1);
  CHECK(toolong.out.find("exceeds the model's max_position_embeddings 64") != std::string::npos);

  Result every = run("finetune ner --model " + t / "base" + " --train " + D + "wnut_train.conll --eval-every often --out " + t / "run4");
  CHECK(every.status == 1);
  CHECK(every.out.find("--eval-every must be 'epoch' or a positive number") != std::string::npos);

  Result cuda = run("finetune classify --model " + t / "base" + " --train " + D + "sst2_train.tsv --device cuda --epochs 1 --no-progress --out " + t / "run5");
  if (cuda.status != 0) CHECK(cuda.out.find("CUDA") != std::string::npos);  // "built without CUDA" on a CPU build
}

TEST_CASE("a full disk (ulimit -f) fails with a message, exit 1, and no half-written checkpoint") {
  TempDir t("cli-full");
  testing::make_tiny_model(t / "base", -1);
  // SIGXFSZ ignored (inherited through exec): writes past the limit fail with EFBIG, as on a full disk
  Result r = run("|bash -c \"trap '' XFSZ; ulimit -f 64; exec " + exe() + " finetune classify --model " + t / "base" +
                 " --train tests/data/tasks/sst2_train.tsv --epochs 1 --no-progress --out " + t / "run" + "\" 2>&1");
  CHECK(r.status == 1);
  CHECK(r.out.find("cannot save checkpoint") != std::string::npos);
  CHECK(r.out.find("File too large") != std::string::npos);
  for (auto& e : std::filesystem::directory_iterator(t / "run")) {
    const std::string name = e.path().filename().string();
    CAPTURE(name);
    CHECK(name.rfind("checkpoint-", 0) != 0);
    CHECK(name.find(".tmp.") == std::string::npos);
  }
}

TEST_CASE("Ctrl-C (SIGINT) saves a checkpoint, exits 130, and --resume continues") {
  TempDir t("cli-int");
  testing::make_tiny_model(t / "base", -1);
  const std::string args = " finetune classify --model " + t / "base" +
                           " --train tests/data/tasks/sst2_train.tsv --epochs 100000 --batch-size 8 --no-progress --out " + t / "run";
  // SIGINT once the run has printed "training:" (its handler is installed by then) and had a
  // second to train: a fixed delay from the start would land before the handler on a loaded
  // machine (tests running in parallel), and the default action kills it without a checkpoint.
  auto interrupted_run = [&](const std::string& extra) {
    const std::string log = t / ("log" + std::to_string(std::rand()));
    return run("|bash -c '" + exe() + args + extra + " > " + log + " 2>&1 & pid=$!; " +
               "for i in $(seq 600); do grep -q \"^training:\" " + log + " && break; sleep 0.1; done; sleep 1; " +
               "kill -INT $pid; wait $pid; rc=$?; cat " + log + "; exit $rc'");
  };
  Result r = interrupted_run("");
  CHECK(r.status == 130);
  CHECK(r.out.find("interrupted at step") != std::string::npos);
  const std::string ckpt = bertlab::train::latest_checkpoint(t / "run");
  REQUIRE_FALSE(ckpt.empty());
  CHECK(std::filesystem::exists(ckpt + "/model.safetensors"));
  CHECK(std::filesystem::exists(ckpt + "/optimizer.safetensors"));
  Result again = interrupted_run(" --resume");
  CHECK(again.out.find("resuming from " + ckpt) != std::string::npos);
  CHECK(again.status == 130);
}
