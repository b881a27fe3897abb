// tests/train/test_pretrain.cpp — bert/pretrain.h on a tiny BERT (2 layers, hidden 32) and a
// slice of WikiText-2: resume exactness (6 steps straight = 3 + Ctrl-C + resume + 3, bitwise),
// the Ctrl-C path, the NaN stop, the time budget, bad input; the MLM-on-masked-positions loss
// against the full BertForPreTraining forward; the fill-mask pipeline; the plot.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "bert/checkpoint.h"
#include "bert/fill_mask.h"
#include "bert/io.h"
#include "bert/pretrain.h"
#include "bert/train/plot.h"
#include "bert/train/run.h"
#include "helpers.h"
#include "ops/ops.h"

using namespace bertlab;
using namespace bertlab::bert;
using test_train::TempDir;
using test_train::write_file;
namespace fs = std::filesystem;

namespace {

BertConfig tiny_config() {
  BertConfig c;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 64;
  c.max_position_embeddings = 64;
  return c;
}

PretrainOptions tiny_run(const std::string& corpus, const std::string& out) {
  PretrainOptions o;
  o.config = tiny_config();
  o.config_name = "tiny";
  o.corpus = {corpus};
  o.vocab = test_train::vocab_path();
  o.max_seq_length = 32;
  o.batch_size = 4;
  o.steps = 6;
  o.lr = 1e-3;
  o.warmup_steps = 2;
  o.out = out;
  o.quiet = true;
  o.log_every = 1;
  o.shuffle_buffer = 64;
  o.holdout_every = 4;
  o.eval_examples = 16;
  o.keep = 0;
  o.seed = 5;
  return o;
}

std::string corpus(const TempDir& t) {
  const std::string path = t / "corpus.raw";
  if (!fs::exists(path)) write_file(path, test_train::wikitext_head(60000));
  return path;
}

bool bitwise_equal(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Runs `fn` with stderr sent to a temporary file and returns what it wrote.
template <class F>
std::string capture_stderr(F fn) {
  std::fflush(stderr);
  std::FILE* tmp = std::tmpfile();
  REQUIRE(tmp != nullptr);
  const int saved = ::dup(2);
  ::dup2(::fileno(tmp), 2);
  try {
    fn();
  } catch (...) {
    std::fflush(stderr);
    ::dup2(saved, 2);
    throw;
  }
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::string out;
  std::rewind(tmp);
  for (int c; (c = std::fgetc(tmp)) != EOF;) out += (char)c;
  std::fclose(tmp);
  return out;
}

}  // namespace

TEST_CASE("resume is exact: 6 steps straight = 3 steps, Ctrl-C, resume, 3 steps (bitwise on the CPU)") {
  TempDir t("resume");
  PretrainOptions a = tiny_run(corpus(t), t / "a");
  a.grad_accum = 2;
  a.eval_every = 2;
  a.save_every = 2;
  const PretrainResult ra = run_pretraining(a);
  REQUIRE(ra.history.size() == 6);
  CHECK(fs::exists(t / "a/final/model.safetensors"));
  CHECK(ra.eval.has_value());

  // The same run, interrupted after step 3 (a real SIGINT, handled in-process).
  PretrainOptions b = a;
  b.out = t / "b";
  b.on_step = [](int64_t step) {
    if (step == 3) std::raise(SIGINT);
  };
  train::clear_interrupt();
  const PretrainResult rb = run_pretraining(b);
  train::clear_interrupt();
  CHECK(rb.interrupted);
  CHECK(rb.step == 3);
  CHECK(fs::exists(t / "b/checkpoint-3/trainer_state.json"));
  CHECK(fs::exists(t / "b/checkpoint-3/optimizer.safetensors"));
  CHECK(!fs::exists(t / "b/final"));  // interrupted: no final model
  REQUIRE(rb.history.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(bitwise_equal(rb.history[i].loss, ra.history[i].loss));

  PretrainOptions c = a;
  c.out = t / "b";
  c.resume = "latest";
  const PretrainResult rc = run_pretraining(c);
  CHECK(rc.start_step == 3);
  REQUIRE(rc.history.size() == 3);
  for (int i = 0; i < 3; ++i) {
    const auto &x = ra.history[3 + i], &y = rc.history[i];
    INFO("step " << x.step << ": straight " << x.loss << ", resumed " << y.loss);
    CHECK(x.step == y.step);
    CHECK(bitwise_equal(x.loss, y.loss));
    CHECK(bitwise_equal(x.mlm_loss, y.mlm_loss));
    CHECK(bitwise_equal(x.nsp_loss, y.nsp_loss));
    CHECK(bitwise_equal(x.grad_norm, y.grad_norm));
    CHECK(bitwise_equal(x.lr, y.lr));
  }
  // The final weights are the same bytes.
  CHECK(read_file(t / "a/final/model.safetensors") == read_file(t / "b/final/model.safetensors"));
  // metrics.jsonl lists every step once, with the same losses as the straight run's.
  std::istringstream ma(read_file(t / "a/metrics.jsonl")), mb(read_file(t / "b/metrics.jsonl"));
  std::vector<nlohmann::json> la, lb;
  for (std::string l; std::getline(ma, l);) la.push_back(nlohmann::json::parse(l));
  for (std::string l; std::getline(mb, l);) lb.push_back(nlohmann::json::parse(l));
  std::vector<int64_t> steps_b;
  for (const auto& j : lb)
    if (j.contains("loss")) steps_b.push_back(j["step"]);
  CHECK(steps_b == std::vector<int64_t>{1, 2, 3, 4, 5, 6});
  int compared = 0;  // the loop's CHECK must run for every step, or it proves nothing
  for (const auto& j : la)
    for (const auto& k : lb)
      if (j.contains("loss") && k.contains("loss") && j["step"] == k["step"]) {
        CHECK(j["loss"] == k["loss"]);
        ++compared;
      }
  CHECK(compared == 6);
}

TEST_CASE("a NaN loss stops the run naming the step and the last good checkpoint, which stays intact") {
  TempDir t("nan");
  PretrainOptions o = tiny_run(corpus(t), t / "run");
  o.save_every = 2;
  o.debug_nan_at_step = 3;
  std::string msg;
  try {
    run_pretraining(o);
  } catch (const Error& e) {
    msg = e.what();
  }
  INFO(msg);
  CHECK(msg.find("the loss became NaN at step 3") != std::string::npos);
  CHECK(msg.find("checkpoint-2") != std::string::npos);
  CHECK(fs::exists(t / "run/checkpoint-2/model.safetensors"));
  CHECK(!fs::exists(t / "run/checkpoint-3"));
  CHECK(!fs::exists(t / "run/final"));
  // The checkpoint loads and resumes.
  o.debug_nan_at_step = 0;
  o.resume = "latest";
  const PretrainResult r = run_pretraining(o);
  CHECK(r.start_step == 2);
  CHECK(r.step == 6);
}

// The GPU's policy (a step's loss and gradient norm read back only when logged, before a
// save or once a second), applied on the CPU: the same numbers, and a NaN still stops the run
// naming its step before anything after it is saved.
TEST_CASE("deferred reads (the GPU's policy): the same history, and a NaN stops the run before the next save") {
  TempDir t("defer");
  PretrainOptions a = tiny_run(corpus(t), t / "a");
  a.grad_accum = 2;
  a.log_every = 4;
  const PretrainResult ra = run_pretraining(a);
  PretrainOptions b = a;
  b.out = t / "b";
  b.defer_reads = true;
  const PretrainResult rb = run_pretraining(b);
  REQUIRE(rb.history.size() == ra.history.size());
  for (size_t i = 0; i < ra.history.size(); ++i) {
    CHECK(rb.history[i].step == ra.history[i].step);
    CHECK(bitwise_equal(rb.history[i].loss, ra.history[i].loss));
    CHECK(bitwise_equal(rb.history[i].grad_norm, ra.history[i].grad_norm));
  }
  CHECK(read_file(t / "a/final/model.safetensors") == read_file(t / "b/final/model.safetensors"));

  PretrainOptions c = tiny_run(corpus(t), t / "c");
  c.defer_reads = true;
  c.log_every = 50;  // nothing logged in between: the read before the save at step 4 finds it
  c.save_every = 2;
  c.debug_nan_at_step = 3;
  std::string msg;
  try {
    run_pretraining(c);
  } catch (const Error& e) {
    msg = e.what();
  }
  INFO(msg);
  CHECK(msg.find("the loss became NaN at step 3") != std::string::npos);
  CHECK(msg.find("checkpoint-2") != std::string::npos);
  CHECK(fs::exists(t / "c/checkpoint-2/model.safetensors"));
  CHECK(!fs::exists(t / "c/checkpoint-4"));
  CHECK(!fs::exists(t / "c/final"));
}

TEST_CASE("an absurd learning rate is caught as a non-finite loss, not a crash") {
  TempDir t("lr");
  PretrainOptions o = tiny_run(corpus(t), t / "run");
  o.lr = 1e30;
  o.clip = 0;
  o.warmup_steps = 0;
  o.steps = 20;
  bool stopped = false;
  try {
    run_pretraining(o);
  } catch (const Error& e) {
    stopped = true;
    CHECK(std::string(e.what()).find("at step") != std::string::npos);
  }
  CHECK(stopped);
  CHECK(!fs::exists(t / "run/final"));
}

TEST_CASE("a full disk while saving a checkpoint: a clear error, no partial checkpoint, the old one intact") {
  TempDir t("full");
  PretrainOptions o = tiny_run(corpus(t), t / "run");
  o.save_every = 2;
  o.steps = 2;
  run_pretraining(o);  // checkpoint-2, written normally
  // Files may grow to 1 MB only (RLIMIT_FSIZE): the 4 MB model cannot be written, as on a full disk.
  struct rlimit old;
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  auto prev = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = old;
  lim.rlim_cur = 1 << 20;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &lim) == 0);
  o.resume = "latest";
  o.steps = 4;
  std::string msg;
  try {
    run_pretraining(o);
  } catch (const Error& e) {
    msg = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, prev);
  INFO(msg);
  CHECK(msg.find("cannot save checkpoint") != std::string::npos);
  CHECK(msg.find("checkpoint-4") != std::string::npos);
  CHECK(!fs::exists(t / "run/checkpoint-4"));
  for (const auto& e : fs::directory_iterator(t / "run")) CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
  // checkpoint-2 is untouched and still resumes
  const PretrainResult r = run_pretraining(o);
  CHECK(r.start_step == 2);
  CHECK(r.step == 4);
}

TEST_CASE("--max-minutes stops on time, saves a checkpoint and the final model") {
  TempDir t("time");
  PretrainOptions o = tiny_run(corpus(t), t / "run");
  o.steps = 0;
  o.max_minutes = 0.3 / 60;  // 0.3 s
  const PretrainResult r = run_pretraining(o);
  CHECK(r.time_up);
  CHECK(r.step >= 1);
  CHECK(fs::exists(t / ("run/checkpoint-" + std::to_string(r.step))));
  REQUIRE(fs::exists(t / "run/final/config.json"));
  auto m = from_pretrained(t / "run/final", Task::PreTraining);
  CHECK(m->config.hidden_size == 32);
}

TEST_CASE("a run stopped by its time budget says so; progress = false prints no progress lines") {
  TempDir t("budget");
  PretrainOptions o = tiny_run(corpus(t), t / "run");
  o.steps = 0;
  o.max_minutes = 0.3 / 60;
  o.quiet = false;
  o.progress_tty = 0;
  o.log_every = 1;
  PretrainResult r;
  const std::string err = capture_stderr([&] { r = run_pretraining(o); });
  INFO(err);
  CHECK(r.time_up);
  CHECK(err.find("pretrain: stopped at step " + std::to_string(r.step) +
                 ": the time budget (--max-minutes 0.005) was reached") != std::string::npos);
  CHECK(err.find("pretrain step 1 |") != std::string::npos);  // the time budget's progress lines

  o.out = t / "quiet";
  o.progress = false;
  o.steps = 2;
  o.max_minutes = 0;
  const std::string quiet = capture_stderr([&] { run_pretraining(o); });
  INFO(quiet);
  CHECK(quiet.find("pretrain step") == std::string::npos);
  CHECK(quiet.find("pretrain: batch 4") != std::string::npos);  // the summary lines stay
}

TEST_CASE("bad input: a clear message, and no run folder or checkpoint left behind") {
  TempDir t("badin");
  PretrainOptions o = tiny_run(corpus(t), t / "run");
  SUBCASE("a missing corpus file") {
    o.corpus = {t / "missing.txt"};
    CHECK_THROWS_WITH_AS(run_pretraining(o), doctest::Contains("missing.txt"), Error);
  }
  SUBCASE("an empty corpus") {
    write_file(t / "empty.txt", "\n\n  \n");
    o.corpus = {t / "empty.txt"};
    CHECK_THROWS_WITH_AS(run_pretraining(o), doctest::Contains("no usable text"), Error);
  }
  SUBCASE("a sequence longer than max_position_embeddings") {
    o.max_seq_length = 65;
    CHECK_THROWS_WITH_AS(run_pretraining(o), doctest::Contains("max_position_embeddings (64)"), Error);
  }
  SUBCASE("no stopping rule") {
    o.steps = 0;
    CHECK_THROWS_WITH_AS(run_pretraining(o), doctest::Contains("--steps"), Error);
  }
  SUBCASE("--resume with nothing to resume") {
    o.resume = "latest";
    CHECK_THROWS_WITH_AS(run_pretraining(o), doctest::Contains("no checkpoint"), Error);
  }
  SUBCASE("a vocabulary larger than the model's") {
    BertConfig c = tiny_config();
    c.vocab_size = 1000;
    o.config = c;
    CHECK_THROWS_WITH_AS(run_pretraining(o), doctest::Contains("vocab_size 1000"), Error);
  }
  CHECK(!fs::exists(t / "run"));
}

TEST_CASE("resuming refuses other data options, and a fresh run refuses a folder with checkpoints") {
  TempDir t("mismatch");
  PretrainOptions o = tiny_run(corpus(t), t / "run");
  o.steps = 2;
  run_pretraining(o);
  CHECK_THROWS_WITH_AS(run_pretraining(o), doctest::Contains("already holds checkpoints"), Error);
  o.resume = "latest";
  o.steps = 3;
  o.max_seq_length = 48;
  CHECK_THROWS_WITH_AS(run_pretraining(o), doctest::Contains("max_seq_length"), Error);
  o.max_seq_length = 32;
  const PretrainResult r = run_pretraining(o);  // a longer schedule is fine
  CHECK(r.step == 3);
}

TEST_CASE("the MLM loss on the masked positions equals BertForPreTraining's loss over all positions") {
  TempDir t("loss");
  PretrainDataOptions d;
  d.max_seq_length = 32;
  ExampleStream s({corpus(t)}, test_train::tokenizer(), d);
  PretrainBatch b = collate(s.take(6), 0);
  BertForPreTraining m(tiny_config());
  Generator g(1);
  m.init_weights(g);
  m.eval();
  NoGradGuard ng;
  PretrainLoss L = pretraining_loss(m, b);
  BertInputs in;
  in.input_ids = b.input_ids;
  in.attention_mask = b.attention_mask;
  in.token_type_ids = b.token_type_ids;
  in.labels = b.labels;
  in.next_sentence_label = b.next_sentence_label;
  ModelOutput full = m.forward(in);
  CHECK(L.mlm_loss.item() == doctest::Approx(full.mlm_loss.item()).epsilon(1e-5));
  CHECK(L.nsp_loss.item() == doctest::Approx(full.nsp_loss.item()).epsilon(1e-6));
  CHECK(L.mlm_loss.item() == doctest::Approx(std::log(30522.0)).epsilon(0.05));  // untrained: about ln V
  const std::vector<Example> ex = s.take(20);
  const PretrainEval e = evaluate_pretraining(m, ex, 8, 0);
  CHECK(e.examples == 20);
  CHECK(e.predictions > 20);
  CHECK(e.loss == doctest::Approx(e.mlm_loss + e.nsp_loss));
  // An independent count: the full model's logits over every position of one batch (not the
  // masked rows that evaluate_pretraining gathers), argmax against the labels here.
  const PretrainEval one = evaluate_pretraining(m, ex, 20, 0);  // one batch: the same padding as below
  PretrainBatch all = collate(ex, 0);
  BertInputs ain;
  ain.input_ids = all.input_ids;
  ain.attention_mask = all.attention_mask;
  ain.token_type_ids = all.token_type_ids;
  const ModelOutput out = m.forward(ain);
  const std::vector<int64_t> pred = argmax(out.logits, 2).tolist<int64_t>(), lab = all.labels.tolist<int64_t>();
  int64_t n = 0, right = 0;
  for (size_t i = 0; i < lab.size(); ++i)
    if (lab[i] != -100) ++n, right += pred[i] == lab[i];
  const std::vector<int64_t> nsp = argmax(out.seq_relationship_logits, 1).tolist<int64_t>(),
                             nsp_lab = all.next_sentence_label.tolist<int64_t>();
  int64_t nsp_right = 0;
  for (size_t i = 0; i < nsp.size(); ++i) nsp_right += nsp[i] == nsp_lab[i];
  INFO("by hand: MLM " << right << " of " << n << ", NSP " << nsp_right << " of 20");
  CHECK(e.predictions == n);
  CHECK(one.mlm_accuracy == doctest::Approx((double)right / (double)n).epsilon(1e-15));
  CHECK(one.nsp_accuracy == doctest::Approx((double)nsp_right / 20.0).epsilon(1e-15));
  CHECK(e.mlm_accuracy == doctest::Approx((double)right / (double)n).epsilon(1e-15));  // batches of 8 too
  CHECK(e.nsp_accuracy == doctest::Approx((double)nsp_right / 20.0).epsilon(1e-15));
  CHECK(e.mlm_loss == doctest::Approx(one.mlm_loss).epsilon(1e-5));  // batches of 8 or one of 20
  CHECK(e.nsp_loss == doctest::Approx(one.nsp_loss).epsilon(1e-5));
}

// (fill-mask against transformers' own pipeline: tests/tasks/test_pipelines_hf.cpp)
TEST_CASE("training lowers the loss, and fill-mask's top tokens are the MLM head's softmax, best first") {
  TempDir t("learn");
  PretrainOptions o = tiny_run(corpus(t), t / "run");
  o.steps = 30;
  o.lr = 3e-3;
  const PretrainResult r = run_pretraining(o);
  double first = 0, last = 0;
  for (int i = 0; i < 5; ++i) first += r.history[i].mlm_loss / 5, last += r.history[25 + i].mlm_loss / 5;
  INFO("MLM loss, first 5 steps " << first << ", last 5 " << last);
  CHECK(last < first - 0.5);

  FillMask fm(t / "run/final");
  const auto one = fm("the cat sat on the [MASK] .", 4);
  REQUIRE(one.size() == 1);
  REQUIRE(one[0].size() == 4);
  double total = 0;
  for (size_t i = 0; i < 4; ++i) {
    const auto& c = one[0][i];
    if (i) CHECK(c.score <= one[0][i - 1].score);
    total += c.score;
    CHECK(!c.token_str.empty());
    CHECK(c.sequence.rfind("the cat sat on the", 0) == 0);
    CHECK(c.sequence.find("[MASK]") == std::string::npos);
  }
  CHECK(total <= 1.0 + 1e-9);
  {
    // by hand: the saved model's MLM logits at the [MASK] position, softmax over the vocabulary,
    // the four largest
    NoGradGuard ng;
    auto mlm = from_pretrained(t / "run/final", Task::MaskedLM);
    mlm->eval();
    const tokenizer::Encoding enc = fm.tokenizer().encode("the cat sat on the [MASK] .");
    const int64_t T = (int64_t)enc.ids.size();
    int64_t at = -1;
    for (int64_t i = 0; i < T; ++i)
      if (enc.ids[i] == fm.tokenizer().mask_id()) at = i;
    REQUIRE(at >= 0);
    BertInputs hin;
    hin.input_ids = from_vector(std::vector<int64_t>(enc.ids.begin(), enc.ids.end()), {1, T});
    hin.attention_mask = ones({1, T}, DType::Int64);
    hin.token_type_ids = zeros({1, T}, DType::Int64);
    const std::vector<double> p = softmax(select(select(mlm->forward(hin).logits, 0, 0), 0, at), -1).to(DType::Float64).tolist<double>();
    std::vector<int64_t> order(p.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = (int64_t)i;
    std::partial_sort(order.begin(), order.begin() + 4, order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
    for (size_t i = 0; i < 4; ++i) {
      CHECK(one[0][i].token == order[i]);
      // relative: these probabilities are ~1e-3, where Approx's default scale of 1 would allow 1%
      CHECK(std::fabs(one[0][i].score - p[order[i]]) <= 1e-5 * p[order[i]]);
    }
  }
  const nlohmann::json j1 = FillMask::to_json(one);
  CHECK(j1.is_array());
  CHECK(j1[0].contains("score"));
  CHECK(j1[0].contains("token"));
  CHECK(j1[0].contains("token_str"));
  CHECK(j1[0].contains("sequence"));

  const auto two = fm("[MASK] is the capital of [MASK] .", 2);
  REQUIRE(two.size() == 2);
  CHECK(two[0][0].sequence.find("[MASK]") != std::string::npos);  // the other mask is kept
  CHECK(FillMask::to_json(two)[1].is_array());
  CHECK_THROWS_WITH_AS(fm("no mask here", 5), doctest::Contains("no [MASK]"), Error);
}

TEST_CASE("plot: every loss-like key against step, accuracy-like keys in a second panel; gnuplot's absence is explained") {
  TempDir t("plot");
  write_file(t / "metrics.jsonl",
             "{\"step\":1,\"loss\":10.5,\"mlm_loss\":9.8,\"nsp_loss\":0.7,\"lr\":1e-5}\n"
             "{\"step\":2,\"loss\":9.5,\"mlm_loss\":8.8,\"nsp_loss\":0.69,\"lr\":2e-5}\n"
             "not json\n"
             "{\"step\":2,\"eval_loss\":9.7,\"eval_mlm_accuracy\":0.05,\"eval_nsp_accuracy\":0.5}\n"
             "{\"step\":3,\"train_loss\":0.6,\"eval_f1\":0.7,\"epoch\":1}\n");
  const auto series = train::read_metric_series(t / "metrics.jsonl");
  std::vector<std::string> keys;
  for (const auto& s : series) keys.push_back(s.key);
  CHECK(keys == std::vector<std::string>{"loss", "mlm_loss", "nsp_loss", "eval_loss", "eval_mlm_accuracy",
                                         "eval_nsp_accuracy", "train_loss", "eval_f1"});
  CHECK(series[0].points.size() == 2);
  CHECK(series[3].eval);
  CHECK(series[4].score);
  const std::string script = train::gnuplot_script(series, "x.svg", "run");
  CHECK(script.find("set terminal svg") != std::string::npos);
  CHECK(script.find("multiplot layout 2,1") != std::string::npos);
  CHECK_THROWS_WITH_AS(train::gnuplot_script(series, "x.gif", "run"), doctest::Contains("unknown image type"), Error);
  CHECK_THROWS_WITH_AS(train::plot_run(t.path.string(), t / "a.png", "/nonexistent/gnuplot"),
                       doctest::Contains("gnuplot-nox"), Error);
  write_file(t / "empty.jsonl", "{\"step\": 1, \"lr\": 0.1}\n");
  CHECK_THROWS_WITH_AS(train::read_metric_series(t / "empty.jsonl"), doctest::Contains("no loss"), Error);
  if (::access("/usr/bin/gnuplot", X_OK) == 0) {
    const std::string png = train::plot_run(t.path.string());
    CHECK(png == t / "loss.png");
    CHECK(read_file(png).substr(1, 3) == "PNG");
    const std::string svg = train::plot_run(t / "metrics.jsonl", t / "sub/loss.svg");
    CHECK(read_file(svg).find("<svg") != std::string::npos);
  } else {
    MESSAGE("gnuplot is not installed: only the script was checked");
  }
}

// Found by the fuzzer (tests/fuzz/corpus_optimizer_state/crash-steps-*): a damaged
// "optimizer_steps" in optimizer.safetensors threw std::invalid_argument / out_of_range from
// std::stoll, which reached the user as "stoll".
TEST_CASE("optimizer.safetensors with a damaged step count: an error naming the file and the key") {
  TempDir t("bertlab_test_optimizer_steps");
  nn::ParamGroup g;
  g.params = {zeros({3})};
  g.names = {"bias"};
  nn::AdamW opt({g}, 1e-3);
  const auto load = [&](const std::string& steps) {
    const std::string path = t / "optimizer.safetensors";
    safetensors::save(path, {{"bias.exp_avg", ones({3})}, {"bias.exp_avg_sq", ones({3})}}, {{"optimizer_steps", steps}});
    try {
      train::load_optimizer_state(safetensors::File(path), opt);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(load("12").empty());
  CHECK(opt.steps_taken == 12);
  for (const char* bad : {"twelve", "99999999999999999999999", "-4", "12 ", ""}) {
    CAPTURE(bad);
    const std::string e = load(bad);
    CHECK(e.find("optimizer.safetensors: metadata \"optimizer_steps\" must be a step count") != std::string::npos);
  }
}
