// tests/bert/test_distilbert.cpp — DistilBERT (bert/distilbert/) against Hugging Face
// transformers, as tests/bert/test_parity.cpp checks BERT.
//
// tests/data/distilbert_parity/<Class>/ holds a random-initialised small DistilBERT saved by
// transformers 5.23 and expected.safetensors with its outputs on a padded batch, the gradient
// of every parameter after one backward and the parameters after three AdamW steps
// (tools/make_distilbert_golden.py). Tolerances as for BERT: hidden states and logits 1e-4,
// loss 1e-5 relative, gradients 1e-4, parameters after AdamW 1e-5.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "bert/checkpoint.h"
#include "bert/distilbert/model.h"
#include "bert/safetensors.h"
#include "nn/optim.h"
#include "ops/ops.h"
#include "tests/gradcheck.h"

using namespace bertlab;
using namespace bertlab::bert;
using bertlab::testing::allclose;
namespace fs = std::filesystem;

namespace {

const std::string kRoot = "tests/data/distilbert_parity/";

#define CHECK_NEAR_T(got, ref, atol, rtol, what) \
  do {                                           \
    auto r_ = allclose(got, ref, atol, rtol);    \
    INFO(what << ": " << r_.message);            \
    CHECK(r_.ok);                                \
  } while (0)

BertInputs inputs_of(const safetensors::File& e) {
  BertInputs in;
  in.input_ids = e.load("input_ids");
  in.attention_mask = e.load("attention_mask");
  auto maybe = [&](const char* key) { return e.contains(key) ? e.load(key) : Tensor(); };
  if (e.contains("label.labels"))
    in.labels = e.info("label.labels").dtype[0] == 'F' ? e.load("label.labels", DType::Float32) : e.load("label.labels");
  in.start_positions = maybe("label.start_positions");
  in.end_positions = maybe("label.end_positions");
  return in;
}

void run_case(const std::string& folder, Task task) {
  INFO(folder);
  safetensors::File e(kRoot + folder + "/expected.safetensors");
  LoadInfo info;
  auto model = distilbert_from_pretrained(kRoot + folder, task, &info);
  CHECK_MESSAGE(info.newly_initialized.empty(), info.summary());
  CHECK_MESSAGE(info.unused.empty(), info.summary());
  model->eval();
  BertInputs in = inputs_of(e);
  ForwardOptions opt;
  opt.output_hidden_states = true;
  ModelOutput o = model->forward(in, opt);
  REQUIRE(o.bert.hidden_states.size() == 3);  // the embeddings and 2 layers
  for (size_t i = 0; i < 3; ++i)
    CHECK_NEAR_T(o.bert.hidden_states[i], e.load("hidden_states." + std::to_string(i)), 1e-4, 0, "hidden state " << i);
  int outputs = 0;
  for (auto [key, got] : {std::pair{"out.logits", o.logits}, {"out.start_logits", o.start_logits},
                          {"out.end_logits", o.end_logits}})
    if (e.contains(key)) {
      CHECK_NEAR_T(got, e.load(key), 1e-4, 0, key);
      ++outputs;
    }
  CHECK(outputs > 0);
  REQUIRE(o.loss.defined());
  CHECK(o.loss.item() == doctest::Approx(e.load("loss", DType::Float64).item()).epsilon(1e-5));

  o.loss.backward();
  std::map<std::string, Tensor> params;
  for (auto& [n, p] : model->named_parameters()) params[n] = p;
  int compared = 0;
  for (const std::string& key : e.names()) {
    if (key.rfind("grad.", 0) != 0) continue;
    const std::string name = key.substr(5);
    REQUIRE_MESSAGE(params.count(name), "no parameter named " << name);
    CHECK_NEAR_T(params[name].grad(), e.load(key), 1e-4, 0, "gradient of " << name);
    ++compared;
  }
  CHECK(compared == (int)params.size());

  // three AdamW steps, float64 on both sides (as for BERT)
  model = distilbert_from_pretrained(kRoot + folder, task);
  model->to(DType::Float64);
  model->eval();
  params.clear();
  for (auto& [n, p] : model->named_parameters()) params[n] = p;
  if (in.labels.defined() && is_floating(in.labels.dtype())) in.labels = in.labels.to(DType::Float64);
  nn::AdamW adam(nn::decay_groups(*model, 0.01), 1e-3);
  nn::Schedule sched(adam, 1e-3, nn::linear_warmup_decay(1, 3));
  std::vector<double> losses;
  for (int step = 0; step < 3; ++step) {
    adam.zero_grad();
    Tensor l = model->forward(in).loss;
    l.backward();
    adam.step();
    sched.step();
    losses.push_back(l.item());
  }
  const std::vector<double> ref = e.load("adamw_losses", DType::Float64).tolist<double>();
  for (int i = 0; i < 3; ++i) CHECK(losses[i] == doctest::Approx(ref[i]).epsilon(1e-5));
  for (auto& [name, p] : params) CHECK_NEAR_T(p, e.load("adamw." + name), 1e-5, 0, "parameter after AdamW: " << name);
}

std::vector<std::string> sorted_names(const std::string& path) {
  std::vector<std::string> n = safetensors::File(path).names();
  std::sort(n.begin(), n.end());
  return n;
}

std::string read(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("DistilBertModel matches transformers: hidden states, with learned and sinusoidal positions") {
  for (const std::string folder : {"DistilBertModel", "DistilBertModel_sinusoidal"}) {
    INFO(folder);
    safetensors::File e(kRoot + folder + "/expected.safetensors");
    const DistilBertConfig c = DistilBertConfig::load(kRoot + folder + "/config.json");
    DistilBertModel model(c);
    const LoadInfo info = load_weights(model, kRoot + folder + "/model.safetensors", {}, "distilbert");
    CHECK_MESSAGE(info.newly_initialized.empty(), info.summary());
    CHECK_MESSAGE(info.unused.empty(), info.summary());
    model.eval();
    ForwardOptions opt;
    opt.output_hidden_states = true;
    BertOutputs o = model.forward(e.load("input_ids"), e.load("attention_mask"), opt);
    REQUIRE(o.hidden_states.size() == 3);
    for (size_t i = 0; i < 3; ++i)
      CHECK_NEAR_T(o.hidden_states[i], e.load("hidden_states." + std::to_string(i)), 1e-4, 0, "hidden state " << i);
    CHECK_NEAR_T(o.last_hidden_state, e.load("out.last_hidden_state"), 1e-4, 0, "last hidden state");
    if (c.sinusoidal_pos_embds) {
      // the fixed table: ours equals the one transformers saved, and it is not trained
      safetensors::File w(kRoot + folder + "/model.safetensors");
      CHECK_NEAR_T(sinusoidal_positions(40, 32), w.load("embeddings.position_embeddings.weight"), 1e-6, 0, "sin/cos table");
      CHECK_FALSE(model.embeddings->position_embeddings->weight.requires_grad());
    }
  }
}

TEST_CASE("DistilBertForMaskedLM matches transformers (the projector tied to the word embeddings)") {
  run_case("DistilBertForMaskedLM", Task::MaskedLM);
}
TEST_CASE("DistilBertForSequenceClassification matches transformers") {
  run_case("DistilBertForSequenceClassification", Task::SequenceClassification);
}
TEST_CASE("DistilBertForSequenceClassification with one label (regression, MSE) matches transformers") {
  run_case("DistilBertForSequenceClassification_regression", Task::SequenceClassification);
}
TEST_CASE("DistilBertForTokenClassification matches transformers") {
  run_case("DistilBertForTokenClassification", Task::TokenClassification);
}
TEST_CASE("DistilBertForQuestionAnswering matches transformers, an out-of-range position ignored") {
  run_case("DistilBertForQuestionAnswering", Task::QuestionAnswering);
}

TEST_CASE("a DistilBERT folder saved here has transformers' keys and config, and loads back") {
  const std::string src = kRoot + "DistilBertForSequenceClassification";
  auto model = distilbert_from_pretrained(src, Task::SequenceClassification);
  const fs::path dir = fs::temp_directory_path() / ("bertlab_distilbert_save_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  save_pretrained(*model, dir.string());
  // the same tensor names as the file transformers wrote, and the same config keys
  CHECK(sorted_names((dir / "model.safetensors").string()) == sorted_names(src + "/model.safetensors"));
  const nlohmann::json ours = nlohmann::json::parse(read((dir / "config.json").string()));
  const nlohmann::json theirs = nlohmann::json::parse(read(src + "/config.json"));
  for (auto& [k, v] : theirs.items()) {
    INFO("config key " << k);
    CHECK(ours.contains(k));
    if (k != "tie_weights_") CHECK(ours[k] == v);
  }
  for (const char* bert_only : {"hidden_size", "type_vocab_size", "layer_norm_eps", "num_hidden_layers"})
    CHECK_FALSE(ours.contains(bert_only));
  // and the masked-LM folder leaves its tied projector out, as transformers does
  auto mlm = distilbert_from_pretrained(kRoot + "DistilBertForMaskedLM", Task::MaskedLM);
  save_pretrained(*mlm, (dir / "mlm").string());
  CHECK(sorted_names((dir / "mlm/model.safetensors").string()) ==
        sorted_names(kRoot + "DistilBertForMaskedLM/model.safetensors"));
  auto back = distilbert_from_pretrained((dir / "mlm").string(), Task::MaskedLM);
  safetensors::File e(kRoot + "DistilBertForMaskedLM/expected.safetensors");
  back->eval();
  CHECK_NEAR_T(back->forward(inputs_of(e)).logits, e.load("out.logits"), 1e-4, 0, "reloaded MLM logits");
  fs::remove_all(dir);
}

TEST_CASE("init_weights keeps the sinusoidal position table; a new head starts as transformers starts one") {
  DistilBertConfig c = DistilBertConfig::preset("distilbert-tiny");
  c.sinusoidal_pos_embds = true;
  auto m = make_distilbert(Task::SequenceClassification, c);
  Generator g(7);
  m->init_weights(g);
  const Tensor pos = m->distilbert->embeddings->position_embeddings->weight;
  CHECK_NEAR_T(pos, sinusoidal_positions(512, 128), 0, 0, "sin/cos table after init_weights");
  CHECK_FALSE(pos.requires_grad());
  // a MaskedLM folder fine-tuned as a classifier: the head is new (weights N(0, 0.02), biases 0)
  LoadInfo info;
  auto cls = distilbert_from_pretrained(kRoot + "DistilBertForMaskedLM", Task::SequenceClassification, &info, true, 3);
  REQUIRE(info.newly_initialized.size() == 4);  // pre_classifier and classifier, weight and bias
  DistilBertForSequenceClassification& h = dynamic_cast<DistilBertForSequenceClassification&>(*cls);
  CHECK(max(h.classifier->bias).item() == 0.0);
  const double sd = std::sqrt(mean(h.pre_classifier->weight * h.pre_classifier->weight).item());
  CHECK(sd == doctest::Approx(0.02).epsilon(0.1));
}

TEST_CASE("DistilBERT presets have transformers' parameter counts") {
  // transformers 5.23: DistilBertModel(DistilBertConfig()) and its heads, counted on the meta device
  auto count = [](const nn::Module& m) {
    int64_t n = 0;
    for (auto& [_, p] : m.named_parameters()) n += p.numel();
    return n;
  };
  nn::SkipInitGuard no_init;
  const DistilBertConfig base = DistilBertConfig::preset("distilbert-base-uncased");
  CHECK(count(DistilBertModel(base)) == 66362880);
  CHECK(count(DistilBertForSequenceClassification(base)) == 66955010);
  CHECK(count(DistilBertForMaskedLM(base)) == 66985530);  // the tied projector counted once
  CHECK(count(DistilBertModel(DistilBertConfig::preset("distilbert-tiny"))) == 4369152);
  CHECK_THROWS_WITH_AS(DistilBertConfig::preset("distilbert-huge"),
                       doctest::Contains("unknown DistilBERT preset 'distilbert-huge'"), Error);
}

TEST_CASE("bad DistilBERT configs and tasks are errors naming DistilBERT's keys") {
  auto parse = [](const std::string& text) { return DistilBertConfig::parse(text, "cfg.json"); };
  CHECK_THROWS_WITH_AS(parse(R"({"model_type": "bert", "hidden_size": 32})"),
                       doctest::Contains("key \"model_type\" is \"bert\", expected \"distilbert\""), Error);
  CHECK_THROWS_WITH_AS(parse(R"({"dim": 30, "n_heads": 4})"),
                       doctest::Contains("dim 30 is not a multiple of n_heads 4"), Error);
  CHECK_THROWS_WITH_AS(parse(R"({"dim": "big"})"), doctest::Contains("key \"dim\" must be an integer"), Error);
  CHECK_THROWS_WITH_AS(parse(R"({"n_layers": -1})"), doctest::Contains("n_layers must be positive"), Error);
  CHECK_THROWS_WITH_AS(parse(R"({"activation": "swish"})"), doctest::Contains("activation 'swish' is not supported"),
                       Error);
  CHECK_THROWS_WITH_AS(parse(R"({"qa_dropout": 1.5})"), doctest::Contains("key \"qa_dropout\" is 1.5, outside [0, 1)"),
                       Error);
  CHECK_THROWS_WITH_AS(parse(R"({"sinusoidal_pos_embds": "yes"})"),
                       doctest::Contains("key \"sinusoidal_pos_embds\" must be true or false"), Error);
  CHECK_THROWS_WITH_AS(parse(R"({"hidden_size": 32})"),
                       doctest::Contains("key \"hidden_size\" is BERT's name; DistilBERT's config.json calls it \"dim\""),
                       Error);
  CHECK_THROWS_WITH_AS(parse("{\"dim\": 32,"), doctest::Contains("cfg.json: invalid JSON"), Error);
  // a BERT folder loaded as DistilBERT
  CHECK_THROWS_WITH_AS(distilbert_from_pretrained("tests/data/bert_parity/BertForMaskedLM", Task::MaskedLM),
                       doctest::Contains("expected \"distilbert\""), Error);
  // heads DistilBERT does not have
  CHECK_THROWS_WITH_AS(make_distilbert(Task::NextSentence, DistilBertConfig::preset("distilbert-tiny")),
                       doctest::Contains("DistilBERT has no BertForNextSentencePrediction"), Error);
  // a folder whose weights lack a layer the config asks for
  const fs::path dir = fs::temp_directory_path() / ("bertlab_distilbert_bad_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  nlohmann::json c = nlohmann::json::parse(read(kRoot + "DistilBertModel/config.json"));
  c["n_layers"] = 3;
  std::ofstream(dir / "config.json") << c.dump();
  fs::copy_file(kRoot + "DistilBertModel/model.safetensors", dir / "model.safetensors");
  CHECK_THROWS_WITH_AS(distilbert_from_pretrained(dir.string(), Task::TokenClassification),
                       doctest::Contains("encoder tensors"), Error);
  fs::remove_all(dir);
}
