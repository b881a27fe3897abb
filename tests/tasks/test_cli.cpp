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
#include "cuda/cuda.h"
#include "tests/run_command.h"
#include "tests/tasks/tiny.h"

using namespace bertlab;
using testing::TempDir;
using nlohmann::json;

namespace {

using test_cli::Result;
using test_cli::exe;
using test_cli::run;  // bertlab ARGS, or "|" and a whole shell command

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

TEST_CASE("a DistilBERT folder fine-tunes, evaluates and predicts: classify, ner, qa") {
  TempDir t("cli-distilbert");
  testing::make_tiny_distilbert(t / "base");
  CHECK(json::parse(bert::read_file(t / "base/config.json"))["model_type"] == "distilbert");
  const std::string D = "tests/data/tasks/";
  Result r = run("finetune classify --model " + t / "base" + " --train " + D + "sst2_train.tsv --dev " + D +
                 "sst2_dev.tsv --label-names negative,positive --epochs 2 --batch-size 16 --lr 1e-3 --no-progress --json --out " +
                 t / "cls");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("DistilBertForSequenceClassification") != std::string::npos);
  auto j = json_lines(r.out);
  REQUIRE(j.size() == 1);
  const json saved = json::parse(bert::read_file(t / "cls/best/config.json"));
  CHECK(saved["model_type"] == "distilbert");
  CHECK(saved["architectures"][0] == "DistilBertForSequenceClassification");
  CHECK(saved.contains("dim"));
  Result e = run("eval classify --model " + t / "cls/best" + " --data " + D + "sst2_dev.tsv --json");
  REQUIRE_MESSAGE(e.status == 0, e.out);
  CHECK(json::parse(e.out)["accuracy"].get<double>() == doctest::Approx(j[0]["accuracy"].get<double>()));
  Result p = run("predict sentiment --json --model " + t / "cls/best" + " \"a gorgeous film\"");
  REQUIRE_MESSAGE(p.status == 0, p.out);
  REQUIRE(json_lines(p.out).size() == 1);

  r = run("finetune ner --model " + t / "base" + " --train " + D + "wnut_train.conll --dev " + D +
          "wnut_dev.conll --epochs 1 --batch-size 8 --no-progress --out " + t / "ner");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(json::parse(bert::read_file(t / "ner/best/config.json"))["architectures"][0] == "DistilBertForTokenClassification");
  r = run("finetune qa --model " + t / "base" + " --train " + D + "squad_tiny.json --epochs 1 --batch-size 4 " +
          "--max-length 64 --doc-stride 16 --no-progress --out " + t / "qa");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(json::parse(bert::read_file(t / "qa/best/config.json"))["architectures"][0] == "DistilBertForQuestionAnswering");
  Result q = run("|printf '{\"question\": \"who?\", \"context\": \"a cat sat\"}\\n' | " + exe() +
                 " predict qa --json --model " + t / "qa/best");
  REQUIRE_MESSAGE(q.status == 0, q.out);
  CHECK(json_lines(q.out).at(0).contains("answer"));

  // init from a DistilBERT preset; a head DistilBERT does not have is refused, naming it
  r = run("init --config distilbert-tiny --task mlm --out " + t / "init");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(r.out.find("DistilBertForMaskedLM, 4,") != std::string::npos);
  CHECK(json::parse(bert::read_file(t / "init/config.json"))["n_layers"] == 2);
  // embed reads the DistilBERT encoder of a folder
  r = run("embed --json --model " + t / "cls/best" + " \"a fine film\" \"a dull film\"");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  const json emb = json::parse(r.out);
  REQUIRE(emb["embeddings"].size() == 2);
  CHECK(emb["embeddings"][0].size() == 32);  // the tiny model's width
  // from scratch with a DistilBERT preset (--config) and the bundled vocabulary
  r = run("finetune classify --config distilbert-tiny --train " + D + "sst2_train.tsv --epochs 1 --batch-size 16 " +
          "--max-length 32 --no-progress --out " + t / "scratch");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(json::parse(bert::read_file(t / "scratch/best/config.json"))["model_type"] == "distilbert");
  // info: DistilBERT's class names and transformers' parameter counts
  r = run("info --json --config " + t / "init");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(json::parse(r.out)["model"] == "DistilBertModel");
  CHECK(json::parse(r.out)["total"] == 4369152);
  r = run("info --json --config distilbert-base-uncased --task classify");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(json::parse(r.out)["model"] == "DistilBertForSequenceClassification");
  CHECK(json::parse(r.out)["total"] == 66955010);
  r = run("init --config distilbert-tiny --task pretrain --out " + t / "init2");
  CHECK(r.status == 1);
  CHECK(r.out.find("DistilBERT has no BertForPreTraining") != std::string::npos);
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
  REQUIRE(!j[0].empty());  // the loop below must check something
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
  Result badjson = run("finetune qa --model " + t / "base" + " --train " + t / "bad.json" + " --doc-stride 16 --out " + t / "run2");
  INFO(badjson.out);
  CHECK(badjson.status == 1);
  CHECK(badjson.out.find("bad.json: invalid JSON") != std::string::npos);

  Result toolong = run("finetune ner --model " + t / "base" + " --train " + D + "wnut_train.conll --max-length 513 --out " + t / "run3");
  CHECK(toolong.status == 1);
  CHECK(toolong.out.find("exceeds the model's max_position_embeddings 64") != std::string::npos);

  Result every = run("finetune ner --model " + t / "base" + " --train " + D + "wnut_train.conll --eval-every often --out " + t / "run4");
  CHECK(every.status == 2);  // a usage error
  CHECK(every.out.find("bertlab: error: --eval-every must be 'epoch' or a positive number") != std::string::npos);

  Result cuda = run("finetune classify --model " + t / "base" + " --train " + D + "sst2_train.tsv --device cuda --epochs 1 --no-progress --out " + t / "run5");
  if (!cuda::available()) {  // a CPU build, or no GPU: refused with a message naming CUDA (not skipped silently)
    CHECK(cuda.status != 0);
    CHECK(cuda.out.find("CUDA") != std::string::npos);
  } else {
    CHECK_MESSAGE(cuda.status == 0, cuda.out);
  }
}

TEST_CASE("sizes that overflow and QA options out of range exit 1 with a message naming them") {
  TempDir t("cli-sizes");
  // 2^62 x 4 wrapped to 0: `info` used to report 204 parameters
  testing::write_text(t / "config.json", R"({"vocab_size": 4611686018427387904, "hidden_size": 4, "num_attention_heads": 1})");
  Result info = run("info --config " + t / "config.json" + " --json");
  CHECK(info.status == 1);
  CHECK(info.out.find("bertlab: error: " + t / "config.json" + ": config: vocab_size is 4611686018427387904, more than the limit 16777216") != std::string::npos);
  CHECK(info.out.find("total") == std::string::npos);

  testing::make_tiny_model(t / "base", -1);
  Result q0 = run("finetune qa --model " + t / "base" + " --train tests/data/tasks/squad_tiny.json --max-query-length 0 --doc-stride 16 --epochs 1 --no-progress --out " + t / "run");
  INFO(q0.out);
  CHECK(q0.status == 2);  // a flag out of its range is a usage error
  CHECK(q0.out.find("--max-query-length must be at least 1, got 0") != std::string::npos);
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
  // the run failed before its first checkpoint: the folder it created is gone
  CHECK(!std::filesystem::exists(t / "run"));
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

// ---- one consistent CLI: errors, exit codes, ranges ------------------------------------------

TEST_CASE("every error starts with 'bertlab: error:'; usage errors exit 2 and say how to get help") {
  Result none = run("");
  CHECK(none.status == 2);
  CHECK(none.out.find("bertlab: error: a subcommand is required (tokenize, ") == 0);
  CHECK(none.out.find("run 'bertlab --help'") != std::string::npos);

  Result unknown = run("finetune classify --train x --out y --bogus");
  CHECK(unknown.status == 2);
  CHECK(unknown.out.find("bertlab: error: ") == 0);
  CHECK(unknown.out.find("--bogus") != std::string::npos);
  CHECK(unknown.out.find("run 'bertlab finetune classify --help'") != std::string::npos);

  Result missing = run("eval qa --data x");
  CHECK(missing.status == 2);
  CHECK(missing.out.find("bertlab: error: --model is required") == 0);

  Result help = run("--help");
  CHECK(help.status == 0);
  CHECK(help.out.find("Exit codes: 0 success; 1 error") != std::string::npos);
  CHECK(help.out.find("130 interrupted") != std::string::npos);
  CHECK(run("predict qa --help").status == 0);
  Result version = run("--version");
  CHECK(version.status == 0);
  CHECK(version.out.find("bertlab ") == 0);

  Result runtime = run("predict sentiment --model /nonexistent/model \"a film\"");
  CHECK(runtime.status == 1);
  CHECK(runtime.out.find("bertlab: error: ") != std::string::npos);
}

TEST_CASE("every numeric flag of every subcommand has a range with a readable message (exit 2)") {
  struct Case {
    std::string args, message;
  };
  // Each command line is complete but for one bad value: the range check must be what fails.
  const std::vector<Case> cases = {
      {"pretrain --corpus c.txt --steps 1 --batch-size -4", "--batch-size must be at least 1, got -4"},
      {"pretrain --corpus c.txt --steps 1 --batch-size 99999999999999999999",
       "--batch-size must be at most 9223372036854775807, got 99999999999999999999"},
      {"pretrain --corpus c.txt --steps -1", "--steps must be at least 0, got -1"},
      {"pretrain --corpus c.txt --steps 1 --lr 0", "--lr must be greater than 0, got 0"},
      {"pretrain --corpus c.txt --steps 1 --lr nan", "--lr must be a finite number greater than 0, got nan"},
      {"pretrain --corpus c.txt --steps 1 --mlm-prob 1.5", "--mlm-prob must be from 0.001 to 1, got 1.5"},
      {"pretrain --corpus c.txt --steps 1 --warmup-ratio nan", "--warmup-ratio must be a finite number from 0 to 1, got nan"},
      {"pretrain --corpus c.txt --steps 1 --holdout-every 1", "--holdout-every must be 0 (none) or at least 2, got 1"},
      {"pretrain --corpus c.txt --steps 1 --max-seq-length 4", "--max-seq-length must be at least 8, got 4"},
      {"pretrain --corpus c.txt --steps 1 --keep -1", "--keep must be at least 0, got -1"},
      {"pretrain --corpus c.txt --steps 1 --threads -3", "--threads must be at least 0, got -3"},
      {"pretrain --corpus c.txt --steps 1 --seed -1", "--seed must be at least 0, got -1"},
      {"pretrain --corpus c.txt --steps 1 --device gpu", "--device must be cpu or cuda, got 'gpu'"},
      {"eval pretrain --corpus c.txt --examples 0", "--examples must be at least 1, got 0"},
      {"finetune classify --train t --out o --batch-size -4", "--batch-size must be at least 1, got -4"},
      {"finetune classify --train t --out o --epochs 0", "--epochs must be at least 1, got 0"},
      {"finetune classify --train t --out o --lr -1e-5", "--lr must be greater than 0, got -1e-5"},
      {"finetune classify --train t --out o --warmup-ratio 2", "--warmup-ratio must be from 0 to 1, got 2"},
      {"finetune ner --train t --out o --grad-accum 0", "--grad-accum must be at least 1, got 0"},
      {"finetune ner --train t --out o --max-length abc", "--max-length must be a whole number at least 1, got 'abc'"},
      {"finetune qa --train t --out o --max-query-length 0", "--max-query-length must be at least 1, got 0"},
      {"finetune qa --train t --out o --n-best -1", "--n-best must be at least 1, got -1"},
      {"finetune qa --train t --out o --doc-stride 0", "--doc-stride must be at least 1, got 0"},
      {"finetune qa --train t --out o --max-answer-length 0", "--max-answer-length must be at least 1, got 0"},
      {"finetune qa --train t --out o --max-length 64 --doc-stride 60",
       "--doc-stride 60 leaves no room for the question: it must be less than --max-length 64 minus 4"},
      {"finetune qa --train t --out o --threads -3", "--threads must be at least 0, got -3"},
      {"eval classify --model m --data d --batch-size 0", "--batch-size must be at least 1, got 0"},
      {"eval ner --model m --data d --max-examples -1", "--max-examples must be at least 0, got -1"},
      {"eval qa --model m --data d --n-best 0", "--n-best must be at least 1, got 0"},
      {"predict sentiment --model m --batch-size 0 x", "--batch-size must be at least 1, got 0"},
      {"predict ner --model m --threads -3 x", "--threads must be at least 0, got -3"},
      {"predict qa --model m --top-k 0", "--top-k must be at least 1, got 0"},
      {"predict qa --model m --max-answer-len -2", "--max-answer-len must be at least 1, got -2"},
      {"predict zero-shot --model m --labels a,b --batch-size -1 x", "--batch-size must be at least 1, got -1"},
      {"predict fill-mask --model m --top-k 0 x", "--top-k must be at least 1, got 0"},
      {"embed --model m --max-length 0 x", "--max-length must be at least 1, got 0"},
      {"embed --model m --batch-size 0 x", "--batch-size must be at least 1, got 0"},
      {"tokenize --max-length 0 x", "--max-length must be at least 1, got 0"},
      {"init --out o --num-labels 0", "--num-labels must be at least 1, got 0"},
      {"init --out o --seed abc", "--seed must be a whole number at least 0, got 'abc'"},
      {"init --out o --task pretrain --num-labels 3", "--num-labels applies to classify and ner heads only"},
      {"pretrain --corpus c.txt", "give --steps N and/or --max-minutes M"},
      {"info --num-labels -2", "--num-labels must be at least 1, got -2"},
      {"demo --steps 0", "--steps must be at least 1, got 0"},
      {"demo --momentum 1.5", "--momentum must be from 0 to 1, got 1.5"},
      {"demo --hidden 99999999999", "--hidden must be at most 65536, got 99999999999"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const Result r = run(c.args);
    CHECK(r.status == 2);
    CHECK_MESSAGE(r.out.find("bertlab: error: " + c.message) == 0, r.out);
    CHECK(r.out.find("--help' for the usage") != std::string::npos);
  }
}

TEST_CASE("--model DIR/config.json means the folder DIR") {
  TempDir t("cli-config-json");
  testing::make_tiny_model(t / "m", (int)bert::Task::SequenceClassification, {"negative", "positive"});
  Result r = run("predict sentiment --json --model " + t / "m/config.json" + " \"a film\"");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(json_lines(r.out).size() == 1);
}

// ---- batch prediction from files -------------------------------------------------------------

TEST_CASE("predict --input FILE --output FILE: one JSON line per input line, blank lines kept, file written at the end") {
  TempDir t("cli-input");
  testing::make_tiny_model(t / "cls", (int)bert::Task::SequenceClassification, {"negative", "positive"});
  testing::make_tiny_model(t / "ner", (int)bert::Task::TokenClassification, {"B-LOC", "I-LOC", "O"});
  testing::make_tiny_model(t / "mlm", (int)bert::Task::MaskedLM);
  testing::make_tiny_model(t / "base", -1);
  testing::write_text(t / "in.txt", "a gorgeous film\n\nrome is far\r\n   \nthe end");
  // the records of `out`, checked against in.txt's five lines
  auto check_records = [](const std::string& out) {
    std::vector<json> j = json_lines(out);
    REQUIRE(j.size() == 5);
    const std::vector<std::string> text = {"a gorgeous film", "", "rome is far", "   ", "the end"};
    for (size_t i = 0; i < 5; ++i) {
      CAPTURE(i);
      CHECK(j[i]["line"] == i + 1);
      CHECK(j[i]["text"] == text[i]);
      CHECK(j[i].contains("empty") == (i == 1 || i == 3));
    }
    return j;
  };

  Result s = run("predict sentiment --model " + t / "cls" + " --batch-size 2 --input " + t / "in.txt" + " --output " + t / "s.jsonl");
  REQUIRE_MESSAGE(s.status == 0, s.out);
  auto sj = check_records(bert::read_file(t / "s.jsonl"));
  CHECK((sj[0]["label"] == "negative" || sj[0]["label"] == "positive"));
  CHECK(sj[0]["score"].get<double>() >= 0.5);
  CHECK_FALSE(sj[1].contains("label"));
  // the same results as the positional arguments give
  Result p = run("predict sentiment --json --model " + t / "cls" + " \"a gorgeous film\" \"the end\"");
  auto pj = json_lines(p.out);
  REQUIRE(pj.size() == 2);
  CHECK(pj[0]["label"] == sj[0]["label"]);
  CHECK(pj[1]["score"].get<double>() == doctest::Approx(sj[4]["score"].get<double>()));

  Result n = run("predict ner --model " + t / "ner" + " --input " + t / "in.txt");  // stdout
  REQUIRE_MESSAGE(n.status == 0, n.out);
  auto nj = check_records(n.out);
  CHECK(nj[2]["entities"].is_array());

  Result z = run("|" + exe() + " predict zero-shot --model " + t / "cls" + " --labels a,b --input - < " + t / "in.txt" + " 2>&1");
  CHECK(z.status == 1);  // the tiny classifier has no entailment label: the same error as with arguments
  CHECK(z.out.find("no entailment label") != std::string::npos);

  testing::write_text(t / "masks.txt", "a [MASK] film\n\nrome [MASK] far\n   \nthe [MASK]\n");
  Result f = run("predict fill-mask --model " + t / "mlm" + " --top-k 2 --input " + t / "masks.txt");
  REQUIRE_MESSAGE(f.status == 0, f.out);
  auto fj = json_lines(f.out);
  REQUIRE(fj.size() == 5);
  CHECK(fj[0]["predictions"].size() == 2);
  CHECK(fj[0]["predictions"][0].contains("token_str"));
  CHECK(fj[3]["empty"] == true);

  Result e = run("embed --model " + t / "base" + " --batch-size 2 --input " + t / "in.txt" + " --output " + t / "e.jsonl");
  REQUIRE_MESSAGE(e.status == 0, e.out);
  auto ej = check_records(bert::read_file(t / "e.jsonl"));
  CHECK(ej[0]["embedding"].size() == 32);
  // batched embeddings equal the ones of one text alone
  Result one = run("embed --json --model " + t / "base" + " \"the end\"");
  REQUIRE_MESSAGE(one.status == 0, one.out);
  const json v = json::parse(one.out)["embeddings"][0];
  for (size_t i = 0; i < 32; ++i) CHECK(ej[4]["embedding"][i].get<double>() == doctest::Approx(v[i].get<double>()).epsilon(1e-4));

  // qa reads JSON lines; a bad line names file:line, and --output is not written at all
  TempDir q("cli-input-qa");
  testing::make_tiny_model(q / "qa", (int)bert::Task::QuestionAnswering);
  testing::write_text(q / "q.jsonl", "{\"question\": \"Who won?\", \"context\": \"Denver beat Carolina.\"}\n\n");
  Result a = run("predict qa --model " + q / "qa" + " --input " + q / "q.jsonl" + " --output " + q / "a.jsonl");
  REQUIRE_MESSAGE(a.status == 0, a.out);
  auto aj = json_lines(bert::read_file(q / "a.jsonl"));
  REQUIRE(aj.size() == 2);
  CHECK(aj[0]["line"] == 1);
  CHECK(aj[0]["question"] == "Who won?");
  CHECK(aj[0].contains("answer"));
  CHECK(aj[1]["empty"] == true);
  testing::write_text(q / "bad.jsonl", "{\"question\": \"Who won?\", \"context\": \"Denver beat Carolina.\"}\n\nnot json\n");
  Result bad = run("predict qa --model " + q / "qa" + " --input " + q / "bad.jsonl" + " --output " + q / "b.jsonl");
  CHECK(bad.status == 1);
  CHECK(bad.out.find("bertlab: error: " + q / "bad.jsonl" + ":3: invalid JSON") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(q / "b.jsonl"));
  for (auto& f : std::filesystem::directory_iterator(q.path)) CHECK(f.path().filename().string().find(".tmp.") == std::string::npos);

  Result both = run("predict sentiment --model " + t / "cls" + " --input " + t / "in.txt" + " \"a text\"");
  CHECK(both.status == 2);
  CHECK(both.out.find("not both") != std::string::npos);
  Result noin = run("predict sentiment --model " + t / "cls" + " --output " + t / "x.jsonl" + " \"a text\"");
  CHECK(noin.status == 2);
  CHECK(noin.out.find("--output requires --input") != std::string::npos);
  Result missing = run("predict sentiment --model " + t / "cls" + " --input " + t / "nope.txt");
  CHECK(missing.status == 1);
  CHECK(missing.out.find("--input " + t / "nope.txt" + ": cannot read it") != std::string::npos);
}

TEST_CASE("predict --input - streams: the first batch is written before the input ends") {
  TempDir t("cli-stream");
  testing::make_tiny_model(t / "cls", (int)bert::Task::SequenceClassification, {"negative", "positive"});
  // The writer sends two lines and then waits (up to 20 s) for the first output before it
  // sends the third and closes the pipe: a reader that waits for the end of the input to
  // start predicting only answers after the timeout, and "streamed" stays absent.
  const std::string out = t / "out.jsonl", flag = t / "streamed";
  Result r = run("|bash -c '{ printf \"one\\ntwo\\n\"; for i in $(seq 200); do [ -s " + out + " ] && { touch " + flag +
                 "; break; }; sleep 0.1; done; printf \"three\\n\"; } | " + exe() + " predict sentiment --model " + t / "cls" +
                 " --batch-size 2 --input - > " + out + "' 2>&1");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  CHECK(std::filesystem::exists(flag));
  auto j = json_lines(bert::read_file(out));
  REQUIRE(j.size() == 3);
  CHECK(j[2]["line"] == 3);
  CHECK(j[2]["text"] == "three");
}

// ---- eval --predictions ------------------------------------------------------------------------

TEST_CASE("eval classify|ner|qa --predictions write TSV, CoNLL and SQuAD's predictions.json") {
  TempDir t("cli-eval-pred");
  const std::string D = "tests/data/tasks/";
  testing::make_tiny_model(t / "cls", (int)bert::Task::SequenceClassification, {"0", "1"});
  Result c = run("eval classify --json --model " + t / "cls" + " --data " + D + "sst2_dev.tsv --predictions " + t / "c.tsv");
  REQUIRE_MESSAGE(c.status == 0, c.out);
  {
    std::istringstream in(bert::read_file(t / "c.tsv")), gold(bert::read_file(D + "sst2_dev.tsv"));
    std::string row, g;
    std::getline(in, row);
    std::getline(gold, g);  // the header
    CHECK(row == "line\ttext\tgold\tpredicted\tscore");
    int64_t n = 0, right = 0;
    while (std::getline(in, row)) {
      std::getline(gold, g);
      std::vector<std::string> f;
      std::istringstream cells(row);
      for (std::string x; std::getline(cells, x, '\t');) f.push_back(x);
      REQUIRE(f.size() == 5);
      CHECK(f[0] == std::to_string(n + 2));  // the file's line: the header is line 1
      CHECK(g.find(f[1]) == 0);               // the text of that line
      CHECK(f[2] == g.substr(g.rfind('\t') + 1));
      CHECK((f[3] == "0" || f[3] == "1"));
      CHECK(std::stod(f[4]) >= 0.5);
      right += f[2] == f[3];
      ++n;
    }
    CHECK(n == 16);
    CHECK(json::parse(c.out)["accuracy"].get<double>() == doctest::Approx((double)right / n));
  }

  testing::make_tiny_model(t / "ner", (int)bert::Task::TokenClassification,
                           {"B-creative-work", "B-location", "B-person", "B-product", "I-creative-work", "I-location", "I-person",
                            "I-product", "O"});
  Result n = run("eval ner --json --model " + t / "ner" + " --data " + D + "wnut_dev.conll --predictions " + t / "n.conll");
  REQUIRE_MESSAGE(n.status == 0, n.out);
  {
    std::istringstream in(bert::read_file(t / "n.conll")), gold(bert::read_file(D + "wnut_dev.conll"));
    std::string row, g;
    int64_t tokens = 0, blanks = 0, right = 0;
    while (std::getline(in, row)) {
      // the gold file's next non-blank line is this token, with its tag
      if (row.empty()) {
        ++blanks;
        continue;
      }
      do std::getline(gold, g);
      while (g.find_first_not_of(" \t") == std::string::npos);
      std::istringstream cells(row);
      std::string tok, gt, pt;
      cells >> tok >> gt >> pt;
      CHECK(g == tok + "\t" + gt);
      right += gt == pt;
      ++tokens;
    }
    CHECK(tokens == 182);
    CHECK(blanks == 12);  // one after each sentence
    CHECK(json::parse(n.out)["accuracy"].get<double>() == doctest::Approx((double)right / tokens));
  }

  testing::make_tiny_model(t / "qa", (int)bert::Task::QuestionAnswering);
  Result q = run("eval qa --model " + t / "qa" + " --data " + D + "squad_tiny.json --doc-stride 16 --predictions " + t / "predictions.json");
  REQUIRE_MESSAGE(q.status == 0, q.out);
  const json pj = json::parse(bert::read_file(t / "predictions.json"));
  const json sq = json::parse(bert::read_file(D + "squad_tiny.json"));
  size_t ids = 0;
  for (auto& a : sq["data"])
    for (auto& p : a["paragraphs"])
      for (auto& qa : p["qas"]) {
        ++ids;
        REQUIRE(pj.contains(qa["id"].get<std::string>()));
        const std::string ans = pj[qa["id"].get<std::string>()];
        CHECK((ans == "empty" || p["context"].get<std::string>().find(ans) != std::string::npos));
      }
  CHECK(pj.size() == ids);
}

TEST_CASE("--dtype bfloat16: finetune, eval and predict run the GEMMs in bfloat16; close to float32; bad values refused") {
  TempDir t("cli-bf16");
  testing::make_tiny_model(t / "base", -1);
  const std::string D = "tests/data/tasks/";
  Result r = run("finetune classify --dtype bfloat16 --model " + t / "base" + " --train " + D + "sst2_train.tsv --dev " + D +
                 "sst2_dev.tsv --label-names negative,positive --epochs 1 --batch-size 16 --lr 1e-3 --no-progress --json --out " +
                 t / "run");
  REQUIRE_MESSAGE(r.status == 0, r.out);
  // the run's saved flags say it computed in bfloat16 (a --resume must give the same)
  int states = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(t / "run"))
    if (f.path().filename() == "trainer_state.json") {
      auto state = json::parse(bert::read_file(f.path().string()));
      CHECK(state["extra"]["flags"]["--dtype"] == "bfloat16");
      ++states;
    }
  CHECK(states >= 1);

  Result e32 = run("eval classify --model " + t / "run/best" + " --data " + D + "sst2_dev.tsv --json");
  Result e16 = run("eval classify --dtype bfloat16 --model " + t / "run/best" + " --data " + D + "sst2_dev.tsv --json");
  REQUIRE_MESSAGE(e32.status == 0, e32.out);
  REQUIRE_MESSAGE(e16.status == 0, e16.out);
  const double a32 = json::parse(e32.out)["accuracy"].get<double>(), a16 = json::parse(e16.out)["accuracy"].get<double>();
  CHECK(std::fabs(a32 - a16) <= 0.05);

  const std::string texts = " \"a gorgeous film\" \"a dull film\" \"it was fine\"";
  Result p32 = run("predict sentiment --json --model " + t / "run/best" + texts);
  Result p16 = run("predict sentiment --json --dtype bfloat16 --model " + t / "run/best" + texts);
  REQUIRE_MESSAGE(p16.status == 0, p16.out);
  auto j32 = json_lines(p32.out), j16 = json_lines(p16.out);
  REQUIRE(j32.size() == 3);
  REQUIRE(j16.size() == 3);
  bool any_differs = false;
  for (int i = 0; i < 3; ++i) {
    const double s32 = j32[i]["label"] == "positive" ? j32[i]["score"].get<double>() : 1 - j32[i]["score"].get<double>();
    const double s16 = j16[i]["label"] == "positive" ? j16[i]["score"].get<double>() : 1 - j16[i]["score"].get<double>();
    CHECK(std::fabs(s32 - s16) <= 0.01);
    any_differs = any_differs || s32 != s16;
  }
  CHECK(any_differs);  // bfloat16 rounding happened

  Result bad = run("predict sentiment --dtype float16 --model " + t / "run/best" + " hi");
  CHECK(bad.status == 2);
  CHECK(bad.out.find("--dtype") != std::string::npos);
  CHECK(bad.out.find("float32 or bfloat16") != std::string::npos);
  Result gpu = run("embed --dtype bfloat16 --device cuda --model " + t / "run/best" + " hi");
  CHECK(gpu.status == 1);
  CHECK(gpu.out.find("bfloat16 runs on the CPU only") != std::string::npos);
}
