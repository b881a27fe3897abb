// tests/tasks/test_finetune.cpp — bert/tasks/finetune.h end to end on tiny models and the
// committed snippets: the loss goes down, the best checkpoint is published with the label maps
// in its config.json, evaluation reads it back, a run resumes; and each bad input ends in a
// clear error: missing or empty files, a dev label not in the label map, --max-length above
// max_position_embeddings, a NaN loss (the last good checkpoint stays loadable) and an
// unwritable output folder. (The full disk is tests/tasks/test_cli.cpp: a child process under
// `ulimit -f`, since fork() and OpenMP do not mix.)
#include <doctest/doctest.h>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <numeric>

#include "bert/tasks/evaluate.h"
#include "bert/tasks/finetune.h"
#include "bert/train/run.h"
#include "tests/golden.h"
#include "tests/tasks/tiny.h"

using namespace bertlab;
using namespace bertlab::tasks;
using testing::TempDir;
namespace fs = std::filesystem;

static const std::string D = "tests/data/tasks/";

static FinetuneOptions quick(const std::string& task, const std::string& model, const std::string& out) {
  FinetuneOptions o;
  o.task = task;
  o.model = model;
  o.out = out;
  o.epochs = 6;
  o.batch_size = 8;
  o.lr = 2e-3;
  o.warmup_ratio = 0.0;
  o.progress = false;
  o.verbose = false;
  o.seed = 3;
  return o;
}

static double mean(const std::vector<double>& v, size_t a, size_t b) {
  return std::accumulate(v.begin() + (long)a, v.begin() + (long)b, 0.0) / (double)(b - a);
}

TEST_CASE("finetune classify: loss goes down, best/ has the label maps, eval reads it back") {
  TempDir t("ft-classify");
  testing::make_tiny_model(t / "base", -1);
  FinetuneOptions o = quick("classify", t / "base", t / "run");
  o.train = D + "sst2_train.tsv";
  o.dev = D + "sst2_dev.tsv";
  o.label_names = {"negative", "positive"};
  FinetuneResult r = finetune(o);
  CHECK(r.steps == 6 * 6);  // 48 examples / 8 per batch, 6 epochs
  CHECK(mean(r.losses, 0, 6) > mean(r.losses, 30, 36));
  CHECK(r.evals.size() == 6);
  REQUIRE(!r.best.is_null());
  CHECK(fs::exists(t / "run/best/model.safetensors"));
  CHECK(fs::exists(t / "run/best/vocab.txt"));
  CHECK(fs::exists(t / "run/metrics.jsonl"));
  auto cfg = testing::read_json(t / "run/best/config.json");
  CHECK(cfg["id2label"]["0"] == "negative");
  CHECK(cfg["label2id"]["positive"] == 1);
  CHECK(cfg["architectures"][0] == "BertForSequenceClassification");
  auto res = testing::read_json(t / "run/eval_results.json");
  CHECK(res["accuracy"].get<double>() == doctest::Approx(r.best["accuracy"].get<double>()));
  // bertlab eval on the published folder gives the best evaluation's numbers
  nlohmann::json e = evaluate_file("classify", t / "run/best", D + "sst2_dev.tsv", {});
  CHECK(e["accuracy"].get<double>() == doctest::Approx(r.best["accuracy"].get<double>()));
  CHECK(e["n"] == 16);
  // metrics.jsonl: train and eval records
  int evals = 0;
  std::string text = bert::read_file(t / "run/metrics.jsonl"), line;
  std::istringstream in(text);
  while (std::getline(in, line)) evals += nlohmann::json::parse(line)["type"] == "eval";
  CHECK(evals == 6);
}

TEST_CASE("finetune classify with --freeze-encoder trains the head only") {
  TempDir t("ft-freeze");
  testing::make_tiny_model(t / "base", -1);
  FinetuneOptions o = quick("classify", t / "base", t / "run");
  o.train = D + "sst2_train.tsv";
  o.epochs = 1;
  o.freeze_encoder = true;
  finetune(o);
  // the encoder is unchanged, the classifier moved away from its init
  auto before = bert::from_pretrained(t / "base", bert::Task::SequenceClassification, nullptr, 0, 0, /*new_head=*/true);
  auto after = bert::from_pretrained(t / "run/best", bert::Task::SequenceClassification);
  std::map<std::string, Tensor> b;
  for (auto& [n, x] : before->named_parameters()) b[n] = x;
  for (auto& [n, x] : after->named_parameters()) {
    if (n.rfind("bert.", 0) != 0) continue;
    CAPTURE(n);
    CHECK(x.tolist<float>() == b[n].tolist<float>());
  }
}

TEST_CASE("finetune ner on the WNUT-17 snippet, from a config (no pretrained folder)") {
  TempDir t("ft-ner");
  const int64_t n = testing::write_tiny_vocab(t / "vocab.txt");
  testing::tiny_config(n).save(t / "config.json");
  FinetuneOptions o = quick("ner", "", t / "run");
  o.config = t / "config.json";
  o.vocab = t / "vocab.txt";
  o.train = D + "wnut_train.conll";
  o.dev = D + "wnut_dev.conll";
  o.epochs = 4;
  FinetuneResult r = finetune(o);
  CHECK(mean(r.losses, 0, 4) > mean(r.losses, r.losses.size() - 4, r.losses.size()));
  auto cfg = testing::read_json(t / "run/best/config.json");
  CHECK(cfg["id2label"].size() == 13);  // O + B-/I- of the six WNUT types
  CHECK(cfg["label2id"].contains("B-creative-work"));
  CHECK(cfg["label2id"].contains("O"));
  REQUIRE(!r.best.is_null());
  CHECK(r.best.contains("strict_f1"));
  nlohmann::json e = evaluate_file("ner", t / "run/best", D + "wnut_dev.conll", {});
  CHECK(e["f1"].get<double>() == doctest::Approx(r.best["f1"].get<double>()));
}

TEST_CASE("finetune qa on the SQuAD snippet: windows of 64 tokens, loss goes down, EM/F1 reported") {
  TempDir t("ft-qa");
  testing::make_tiny_model(t / "base", -1);
  FinetuneOptions o = quick("qa", t / "base", t / "run");
  o.train = D + "squad_tiny.json";
  o.dev = D + "squad_tiny.json";
  o.qa.doc_stride = 16;
  o.epochs = 5;
  FinetuneResult r = finetune(o);
  CHECK(mean(r.losses, 0, 3) > mean(r.losses, r.losses.size() - 3, r.losses.size()));
  REQUIRE(!r.best.is_null());
  CHECK(r.best["n"] == 6);
  // the best model as saved, evaluated again from disk with the same windows, scores what the
  // training loop recorded for it; EM <= F1 <= 100 (an exact match is also a full token F1)
  EvalOptions eo;
  eo.qa = o.qa;
  eo.max_length = 64;
  const nlohmann::json e = evaluate_file("qa", t / "run/best", D + "squad_tiny.json", eo);
  CHECK(e["f1"].get<double>() == doctest::Approx(r.best["f1"].get<double>()).epsilon(1e-12));
  CHECK(e["exact_match"].get<double>() == doctest::Approx(r.best["exact_match"].get<double>()).epsilon(1e-12));
  CHECK(e["exact_match"].get<double>() <= e["f1"].get<double>());
  CHECK(e["f1"].get<double>() <= 100.0);
  CHECK(testing::read_json(t / "run/finetune_args.json")["max_length"] == 64);  // capped by the positions
}

TEST_CASE("--grad-accum 2 with batches of 4 takes the same steps as batches of 8") {
  TempDir t("ft-accum");
  testing::make_tiny_model(t / "base", -1, {}, 1, /*dropout=*/0.0);
  FinetuneOptions o = quick("classify", t / "base", t / "b8");
  o.train = D + "sst2_train.tsv";
  o.epochs = 2;
  FinetuneResult a = finetune(o);
  o.out = t / "b4x2";
  o.batch_size = 4;
  o.grad_accum = 2;
  FinetuneResult b = finetune(o);
  REQUIRE(a.losses.size() == 12);
  REQUIRE(b.losses.size() == 12);
  for (size_t i = 0; i < a.losses.size(); ++i) CHECK(b.losses[i] == doctest::Approx(a.losses[i]).epsilon(1e-4));
}

// The train records of a metrics.jsonl: step -> loss.
static std::map<int64_t, double> train_losses(const std::string& path) {
  std::map<int64_t, double> out;
  std::istringstream in(bert::read_file(path));
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] == "train") {
      CHECK_MESSAGE(!out.count(j["step"].get<int64_t>()), "step " << j["step"] << " is logged twice");
      out[j["step"].get<int64_t>()] = j["loss"].get<double>();
    }
  }
  return out;
}

static bool bitwise_equal(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST_CASE("an interrupted run resumes from its checkpoint and ends where an uninterrupted one does, bitwise") {
  TempDir t("ft-resume");
  testing::make_tiny_model(t / "base", -1);
  FinetuneOptions o = quick("classify", t / "base", t / "full");
  o.train = D + "sst2_train.tsv";
  o.dev = D + "sst2_dev.tsv";
  o.epochs = 2;
  o.eval_every = 4;  // checkpoints at steps 4 and 8 (and at the end)
  o.log_every = 1;
  FinetuneResult full = finetune(o);
  // the same run, stopped at step 6 (a NaN), then resumed from checkpoint-4
  o.out = t / "part";
  o.inject_nan_at_step = 6;
  CHECK_THROWS_AS(finetune(o), Error);
  CHECK(fs::exists(t / "part/checkpoint-4/trainer_state.json"));
  o.inject_nan_at_step = 0;
  o.resume = true;
  FinetuneResult rest = finetune(o);
  CHECK(rest.steps == full.steps);
  REQUIRE(rest.losses.size() == full.losses.size() - 4);
  for (size_t i = 0; i < rest.losses.size(); ++i) {
    INFO("step " << i + 5 << ": straight " << full.losses[i + 4] << ", resumed " << rest.losses[i]);
    CHECK(bitwise_equal(rest.losses[i], full.losses[i + 4]));
  }
  CHECK(bert::read_file(t / "full/best/model.safetensors") == bert::read_file(t / "part/best/model.safetensors"));
  // metrics.jsonl: each step once (step 5 was logged before the NaN, and again after the
  // resume), with the straight run's losses
  const auto a = train_losses(t / "full/metrics.jsonl"), b = train_losses(t / "part/metrics.jsonl");
  CHECK(a.size() == 12);
  CHECK(b.size() == a.size());
  for (auto& [step, loss] : a) CHECK((b.count(step) && bitwise_equal(b.at(step), loss)));
}

TEST_CASE("--resume with other flags than the run had names each flag that differs") {
  TempDir t("ft-resume-flags");
  testing::make_tiny_model(t / "base", -1);
  FinetuneOptions o = quick("classify", t / "base", t / "run");
  o.train = D + "sst2_train.tsv";
  o.epochs = 1;
  o.eval_every = 2;
  o.inject_nan_at_step = 3;
  CHECK_THROWS_AS(finetune(o), Error);
  o.inject_nan_at_step = 0;
  o.resume = true;
  o.lr = 1e-3;
  o.seed = 4;
  std::string msg;
  try {
    finetune(o);
  } catch (const Error& e) {
    msg = e.what();
  }
  INFO(msg);
  CHECK(msg.find("other flags") != std::string::npos);
  CHECK(msg.find("--lr: 0.002 in that run, 0.001 now") != std::string::npos);
  CHECK(msg.find("--seed: 3 in that run, 4 now") != std::string::npos);
  CHECK(msg.find("--batch-size") == std::string::npos);  // the same: not named
  o.lr = 2e-3;
  o.seed = 3;
  CHECK(finetune(o).steps == 6);
}

TEST_CASE("bad input: missing files, empty data, unknown labels, too long max_length") {
  TempDir t("ft-bad");
  testing::make_tiny_model(t / "base", -1);
  FinetuneOptions o = quick("classify", t / "base", t / "run");
  o.train = D + "sst2_train.tsv";

  SUBCASE("missing training file") {
    o.train = t / "nope.tsv";
    CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains(("training file " + (t / "nope.tsv") + " does not exist").c_str()), Error);
  }
  SUBCASE("missing model folder") {
    o.model = t / "no-model";
    CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains(("model folder " + (t / "no-model") + " does not exist").c_str()), Error);
  }
  SUBCASE("neither model nor config") {
    o.model.clear();
    CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains("either a pretrained model folder"), Error);
  }
  SUBCASE("an empty training file") {
    testing::write_text(t / "empty.tsv", "sentence\tlabel\n");
    o.train = t / "empty.tsv";
    CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains("empty.tsv: no examples"), Error);
  }
  SUBCASE("a dev label the training labels do not have") {
    testing::write_text(t / "dev.tsv", "sentence\tlabel\ngood\t1\nso-so\t2\n");
    o.dev = t / "dev.tsv";
    CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains("dev.tsv:3: label '2' is not in the label map (known: 0, 1)"), Error);
  }
  SUBCASE("a dev tag the training tags do not have") {
    testing::write_text(t / "train.conll", "Tom B-PER\nsleeps O\n");
    testing::write_text(t / "dev.conll", "Ann B-PER\n\nin O\nRome B-LOC\n");
    o.task = "ner";
    o.train = t / "train.conll";
    o.dev = t / "dev.conll";
    CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains("dev.conll:4: tag 'B-LOC' is not in the label map (known: B-PER, I-PER, O)"), Error);
  }
  SUBCASE("a malformed training file") {
    testing::write_text(t / "bad.tsv", "sentence\tlabel\ngood\t1\nno label here\n");
    o.train = t / "bad.tsv";
    CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains("bad.tsv:3: expected 2 columns, found 1"), Error);
  }
  SUBCASE("--max-length above max_position_embeddings") {
    o.max_length = 100;
    CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains("--max-length 100 exceeds the model's max_position_embeddings 64"), Error);
  }
  SUBCASE("sentences longer than the positions are truncated, not a crash") {
    std::string text = "sentence\tlabel\n";
    for (int i = 0; i < 4; ++i) {
      for (int k = 0; k < 150; ++k) text += "film ";
      text += "\t" + std::to_string(i % 2) + "\n";
    }
    testing::write_text(t / "long.tsv", text);
    o.train = t / "long.tsv";
    o.epochs = 1;
    CHECK(finetune(o).steps == 1);
  }
  CHECK_FALSE(fs::exists(t / "run/checkpoint-0"));
}

TEST_CASE("a NaN loss stops the run naming the step and the last good checkpoint, which still loads") {
  TempDir t("ft-nan");
  testing::make_tiny_model(t / "base", -1);
  FinetuneOptions o = quick("classify", t / "base", t / "run");
  o.train = D + "sst2_train.tsv";
  o.dev = D + "sst2_dev.tsv";
  o.eval_every = 2;
  o.inject_nan_at_step = 3;
  CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains("the loss became NaN at step 3"), Error);
  CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains("checkpoint-2"), Error);
  auto m = bert::from_pretrained(t / "run/checkpoint-2", bert::Task::SequenceClassification);
  CHECK(m->config.num_labels() == 2);
  CHECK(fs::exists(t / "run/best/model.safetensors"));
  // a model whose weights are NaN fails at step 1, before any checkpoint
  TempDir t2("ft-nan-weights");
  testing::make_tiny_model(t2 / "base", -1);
  {
    auto bad = bert::bert_model_from_pretrained(t2 / "base");
    fill_(bad->embeddings->LayerNorm->weight, std::nan(""));
    bert::TokenizerFiles tok;
    tok.vocab_file = t2 / "base/vocab.txt";
    bert::save_pretrained(*bad, t2 / "nan", tok);
  }
  o.model = t2 / "nan";
  o.out = t2 / "run";
  o.inject_nan_at_step = 0;
  CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains("NaN at step 1; stopping. No checkpoint was saved before it."), Error);
}

TEST_CASE("deferred reads (the GPU's policy) give the same losses and still stop at a NaN, naming its step") {
  TempDir t("ft-defer");
  testing::make_tiny_model(t / "base", -1);
  FinetuneOptions o = quick("classify", t / "base", t / "plain");
  o.train = D + "sst2_train.tsv";
  const FinetuneResult plain = finetune(o);
  o.out = t / "deferred";
  o.defer_reads = true;
  const FinetuneResult deferred = finetune(o);
  REQUIRE(deferred.losses.size() == plain.losses.size());
  for (size_t i = 0; i < plain.losses.size(); ++i) CHECK(deferred.losses[i] == plain.losses[i]);
  o.out = t / "nan";
  o.dev = D + "sst2_dev.tsv";
  o.eval_every = 2;
  o.log_every = 100;
  o.inject_nan_at_step = 3;
  CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains("the loss became NaN at step 3"), Error);
  CHECK(fs::exists(t / "nan/checkpoint-2/model.safetensors"));
  CHECK(!fs::exists(t / "nan/checkpoint-4"));
}

TEST_CASE("an unwritable output folder is a clear error before any training") {
  TempDir t("ft-unwritable");
  testing::make_tiny_model(t / "base", -1);
  testing::write_text(t / "a-file", "x");
  FinetuneOptions o = quick("classify", t / "base", t / "a-file/run");
  o.train = D + "sst2_train.tsv";
  CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains((t / "a-file/run").c_str()), Error);
}

// Runs `fn` with stdout sent to a temporary file and returns what it printed.
template <class F>
static std::string capture_stdout(F fn) {
  std::fflush(stdout);
  std::FILE* tmp = std::tmpfile();
  REQUIRE(tmp != nullptr);
  const int saved = ::dup(1);
  ::dup2(::fileno(tmp), 1);
  try {
    fn();
  } catch (...) {
    std::fflush(stdout);
    ::dup2(saved, 1);
    ::close(saved);
    throw;
  }
  std::fflush(stdout);
  ::dup2(saved, 1);
  ::close(saved);
  std::string out;
  std::rewind(tmp);
  for (int c; (c = std::fgetc(tmp)) != EOF;) out += (char)c;
  std::fclose(tmp);
  return out;
}

TEST_CASE("every fine-tuning run prints its label map first") {
  TempDir t("ft-labels");
  testing::make_tiny_model(t / "base", -1);
  FinetuneOptions o = quick("classify", t / "base", t / "run");
  o.epochs = 1;
  o.verbose = true;
  SUBCASE("named labels") {
    o.train = D + "sst2_train.tsv";
    o.label_names = {"negative", "positive"};
    const std::string out = capture_stdout([&] { finetune(o); });
    INFO(out);
    CHECK(out.find("labels: negative=0 positive=1\n") != std::string::npos);
    CHECK(out.find("labels:") < out.find("training:"));  // before the first step
  }
  SUBCASE("integer labels that are not 0..n-1") {
    testing::write_text(t / "train.tsv", "sentence\tlabel\ngood\t0\nbad\t-1\nfine\t0\nawful\t-1\n");
    o.train = t / "train.tsv";
    const std::string out = capture_stdout([&] { finetune(o); });
    INFO(out);
    CHECK(out.find("labels: -1 -> 0, 0 -> 1\n") != std::string::npos);
  }
  SUBCASE("NER tags") {
    testing::write_text(t / "train.conll", "Tom B-PER\nsleeps O\n");
    o.task = "ner";
    o.train = t / "train.conll";
    const std::string out = capture_stdout([&] { finetune(o); });
    INFO(out);
    CHECK(out.find("tags: B-PER=0 I-PER=1 O=2\n") != std::string::npos);
  }
}

TEST_CASE("a failed run leaves no --out folder behind, and never removes one that was there") {
  TempDir t("ft-failed");
  testing::make_tiny_model(t / "base", -1);
  FinetuneOptions o = quick("classify", t / "base", t / "run");
  o.train = D + "sst2_train.tsv";
  o.epochs = 1;
  SUBCASE("a bad dev file: nothing is written") {
    testing::write_text(t / "dev.tsv", "sentence\tlabel\ngood\t1\nso-so\t2\n");
    o.dev = t / "dev.tsv";
    CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains("dev.tsv:3"), Error);
    CHECK_FALSE(fs::exists(t / "run"));
  }
  SUBCASE("a model folder without weights: nothing is written") {
    fs::remove(t / "base/model.safetensors");
    CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains("no model.safetensors"), Error);
    CHECK_FALSE(fs::exists(t / "run"));
  }
  SUBCASE("a NaN before the first checkpoint: the folder the run made is removed") {
    o.inject_nan_at_step = 1;
    CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains("NaN at step 1"), Error);
    CHECK_FALSE(fs::exists(t / "run"));
  }
  SUBCASE("a folder that was there stays, with what it held") {
    fs::create_directories(t / "run");
    testing::write_text(t / "run/notes.txt", "mine");
    o.inject_nan_at_step = 1;
    CHECK_THROWS_AS(finetune(o), Error);
    CHECK(bert::read_file(t / "run/notes.txt") == "mine");
    testing::write_text(t / "dev.tsv", "sentence\tlabel\ngood\t1\nso-so\t2\n");
    o.dev = t / "dev.tsv";
    o.out = t / "run2";
    fs::create_directories(t / "run2");
    CHECK_THROWS_AS(finetune(o), Error);
    CHECK(fs::exists(t / "run2"));
    CHECK(fs::is_empty(t / "run2"));  // an input error writes nothing, not even vocab.txt
  }
  SUBCASE("a NaN after a checkpoint: the folder stays, resumable") {
    o.eval_every = 2;
    o.inject_nan_at_step = 3;
    CHECK_THROWS_AS(finetune(o), Error);
    CHECK(fs::exists(t / "run/checkpoint-2/model.safetensors"));
  }
}

TEST_CASE("weights missing from model.safetensors: the encoder never, a task head only for fine-tuning") {
  TempDir t("ft-missing");
  testing::make_tiny_model(t / "base", -1);  // a bare 2-layer encoder
  // the same folder with a config.json asking for 4 layers
  testing::make_tiny_model(t / "deep", -1);
  {
    auto cfg = testing::read_json(t / "deep/config.json");
    cfg["num_hidden_layers"] = 4;
    testing::write_text(t / "deep/config.json", cfg.dump(2));
  }
  const std::string deep = "encoder layers 2-3 (32 tensors) are not in " + (t / "deep/model.safetensors");
  SUBCASE("fine-tuning refuses missing encoder layers, naming them") {
    FinetuneOptions o = quick("classify", t / "deep", t / "run");
    o.train = D + "sst2_train.tsv";
    CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains(deep.c_str()), Error);
    CHECK_THROWS_WITH_AS(finetune(o), doctest::Contains("4 layers"), Error);
    CHECK_FALSE(fs::exists(t / "run"));
  }
  SUBCASE("inference refuses them too") {
    CHECK_THROWS_WITH_AS(bert::from_pretrained(t / "deep", bert::Task::SequenceClassification), doctest::Contains(deep.c_str()),
                         Error);
    CHECK_THROWS_WITH_AS(bert::bert_model_from_pretrained(t / "deep"), doctest::Contains(deep.c_str()), Error);
  }
  SUBCASE("fine-tuning a bare encoder initialises the new head") {
    bert::LoadInfo info;
    auto m = bert::from_pretrained(t / "base", bert::Task::SequenceClassification, &info, 2, 1, /*new_head=*/true);
    CHECK(info.newly_initialized == std::vector<std::string>{"classifier.weight", "classifier.bias"});
  }
  SUBCASE("inference on a folder without the head is an error naming the head") {
    CHECK_THROWS_WITH_AS(bert::from_pretrained(t / "base", bert::Task::SequenceClassification),
                         doctest::Contains(("classifier.weight, classifier.bias are not in " + (t / "base/model.safetensors")).c_str()), Error);
    CHECK_THROWS_WITH_AS(bert::from_pretrained(t / "base", bert::Task::SequenceClassification),
                         doctest::Contains("no trained BertForSequenceClassification head"), Error);
    CHECK_THROWS_WITH_AS(evaluate_file("classify", t / "base", D + "sst2_dev.tsv", {}), doctest::Contains("classifier.weight"),
                         Error);
    CHECK_THROWS_WITH_AS(evaluate_file("qa", t / "base", D + "squad_tiny.json", {}), doctest::Contains("qa_outputs.weight"), Error);
  }
}
