// tests/tasks/test_pipelines_hf.cpp — bertlab's pipelines (bert/tasks/pipelines.h,
// bert/fill_mask.h) against Hugging Face transformers' pipelines on the same model folders.
//
// tools/make_pipelines_golden.py made the folders under tests/data/pipelines/ with
// `bertlab init` (tiny random models) and wrote what transformers' text-classification,
// token-classification (aggregation_strategy="simple"), question-answering, fill-mask and
// zero-shot-classification pipelines returned for each input into pipelines_golden.json.
// Labels, entity groups, words, offsets, answers, tokens and orders must agree exactly; scores
// within kScoreTol.
//
// Why 1e-5: both sides compute in float32 on the CPU, so scores (probabilities <= 1) agree to
// a few float32 ulps of the logits after two layers of sums over 16-32 terms: ~1e-6 is seen.
// The models were initialised with std 0.5 (not 0.02), so a real difference (a wrong GELU, a
// missing attention mask, a wrong layer-norm epsilon, a different tokenization) moves scores
// by 1e-2 or more; the last test shows a 1e-3 change of one bias is already caught.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>

#include "autograd/graph.h"
#include "bert/fill_mask.h"
#include "bert/tasks/pipelines.h"
#include "tests/golden.h"

using namespace bertlab;
using namespace bertlab::tasks;
using nlohmann::json;

namespace {

const std::string kDir = "tests/data/pipelines/";
constexpr double kScoreTol = 1e-5;

const json& golden() {
  static const json g = testing::read_json(kDir + "pipelines_golden.json");
  return g;
}

// Collects the differences as text so a test can also check that a wrong model *has* them.
struct Diffs {
  std::ostringstream out;
  int n = 0;
  double max_score_diff = 0;
  void label(const std::string& where, const std::string& got, const std::string& want) {
    if (got != want) out << where << ": got '" << got << "', transformers '" << want << "'\n", ++n;
  }
  void value(const std::string& where, int64_t got, int64_t want) {
    if (got != want) out << where << ": got " << got << ", transformers " << want << "\n", ++n;
  }
  void score(const std::string& where, double got, double want) {
    const double d = std::fabs(got - want);
    max_score_diff = std::max(max_score_diff, std::isnan(d) ? INFINITY : d);
    if (!(d <= kScoreTol)) out << where << ": score " << got << ", transformers " << want << "\n", ++n;
  }
  std::string str() const { return out.str(); }
};

void compare_classify(Loaded& m, Diffs& d) {
  const json& cases = golden().at("text_classification");
  REQUIRE(cases.size() >= 4);
  std::vector<std::string> texts;
  for (const auto& c : cases) texts.push_back(c.at("text"));
  const auto got = classify_texts(m, texts);
  REQUIRE(got.size() == texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const json& want = cases[i].at("labels");  // every label, best first (top_k=None)
    REQUIRE(got[i].size() == want.size());
    for (size_t k = 0; k < want.size(); ++k) {
      const std::string where = "text " + std::to_string(i) + " label " + std::to_string(k);
      d.label(where, got[i][k].label, want[k].at("label"));
      d.score(where, got[i][k].score, want[k].at("score"));
    }
  }
}

}  // namespace

TEST_CASE("the golden file says what made it") {
  CHECK(golden().at("made_by") == "tools/make_pipelines_golden.py");
  CHECK(golden().at("transformers").get<std::string>().rfind("4.", 0) == 0);
}

TEST_CASE("text-classification: every label and score as transformers' pipeline (top_k=None)") {
  Loaded m = load_for_inference(kDir + "classify", bert::Task::SequenceClassification);
  Diffs d;
  compare_classify(m, d);
  INFO(d.str());
  MESSAGE("text-classification: max |score diff| " << d.max_score_diff);
  CHECK(d.n == 0);
}

TEST_CASE("token-classification, aggregation_strategy=simple: the same groups, words, offsets and scores") {
  Loaded m = load_for_inference(kDir + "ner", bert::Task::TokenClassification);
  const json& cases = golden().at("token_classification");
  REQUIRE(cases.size() >= 3);
  std::vector<std::string> texts;
  size_t total = 0;
  for (const auto& c : cases) texts.push_back(c.at("text")), total += c.at("entities").size();
  REQUIRE(total >= 3);  // the golden has entities to compare
  const auto got = ner_texts(m, texts);
  REQUIRE(got.size() == texts.size());
  Diffs d;
  for (size_t i = 0; i < texts.size(); ++i) {
    const json& want = cases[i].at("entities");
    CAPTURE(texts[i]);
    REQUIRE(got[i].size() == want.size());
    for (size_t k = 0; k < want.size(); ++k) {
      const std::string where = "text " + std::to_string(i) + " entity " + std::to_string(k);
      d.label(where + " group", got[i][k].entity_group, want[k].at("entity_group"));
      d.label(where + " word", got[i][k].word, want[k].at("word"));
      d.value(where + " start", got[i][k].start, want[k].at("start"));
      d.value(where + " end", got[i][k].end, want[k].at("end"));
      d.score(where, got[i][k].score, want[k].at("score"));
    }
  }
  INFO(d.str());
  MESSAGE("token-classification: max |score diff| " << d.max_score_diff);
  CHECK(d.n == 0);
}

TEST_CASE("question-answering: the same top-k answers, offsets and scores") {
  Loaded m = load_for_inference(kDir + "qa", bert::Task::QuestionAnswering);
  const json& cases = golden().at("question_answering");
  REQUIRE(cases.size() >= 2);
  Diffs d;
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& c = cases[i];
    const json& want = c.at("answers");
    REQUIRE(want.size() == c.at("top_k").get<size_t>());
    const auto got = answer_question(m, c.at("question"), c.at("context"), c.at("top_k"));
    REQUIRE(got.size() == want.size());
    for (size_t k = 0; k < want.size(); ++k) {
      const std::string where = "question " + std::to_string(i) + " answer " + std::to_string(k);
      d.label(where, got[k].answer, want[k].at("answer"));
      d.value(where + " start", got[k].start, want[k].at("start"));
      d.value(where + " end", got[k].end, want[k].at("end"));
      d.score(where, got[k].score, want[k].at("score"));
    }
  }
  INFO(d.str());
  MESSAGE("question-answering: max |score diff| " << d.max_score_diff);
  CHECK(d.n == 0);
}

TEST_CASE("fill-mask: the same top-k tokens, strings, sequences and scores, one list per [MASK]") {
  bert::FillMask fm(kDir + "mlm");
  const json& cases = golden().at("fill_mask");
  REQUIRE(cases.size() >= 2);
  Diffs d;
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& c = cases[i];
    const json& masks = c.at("masks");
    const auto got = fm(c.at("text").get<std::string>(), c.at("top_k").get<int64_t>());
    REQUIRE(got.size() == masks.size());
    for (size_t m = 0; m < masks.size(); ++m) {
      REQUIRE(got[m].size() == masks[m].size());
      for (size_t k = 0; k < masks[m].size(); ++k) {
        const json& want = masks[m][k];
        const std::string where = "text " + std::to_string(i) + " mask " + std::to_string(m) + " #" + std::to_string(k);
        d.value(where + " token", got[m][k].token, want.at("token"));
        d.label(where + " token_str", got[m][k].token_str, want.at("token_str"));
        d.label(where + " sequence", got[m][k].sequence, want.at("sequence"));
        d.score(where, got[m][k].score, want.at("score"));
      }
    }
  }
  INFO(d.str());
  MESSAGE("fill-mask: max |score diff| " << d.max_score_diff);
  CHECK(d.n == 0);
}

TEST_CASE("zero-shot-classification: the same label order and scores, single- and multi-label") {
  Loaded m = load_for_inference(kDir + "nli", bert::Task::SequenceClassification);
  const json& cases = golden().at("zero_shot");
  REQUIRE(cases.size() == 2);
  Diffs d;
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& c = cases[i];
    const auto got = zero_shot(m, c.at("text"), c.at("candidate_labels").get<std::vector<std::string>>(),
                               c.at("hypothesis_template"), c.at("multi_label"));
    const json& labels = c.at("labels");
    REQUIRE(got.labels.size() == labels.size());
    REQUIRE(got.scores.size() == labels.size());
    for (size_t k = 0; k < labels.size(); ++k) {
      const std::string where = std::string(c.at("multi_label") ? "multi" : "single") + "-label #" + std::to_string(k);
      d.label(where, got.labels[k], labels[k]);
      d.score(where, got.scores[k], c.at("scores")[k]);
    }
  }
  INFO(d.str());
  MESSAGE("zero-shot: max |score diff| " << d.max_score_diff);
  CHECK(d.n == 0);
}

TEST_CASE("the comparison can fail: a classifier bias moved by 1e-3 is caught") {
  Loaded m = load_for_inference(kDir + "classify", bert::Task::SequenceClassification);
  bool moved = false;
  for (auto& [name, p] : m.model->named_parameters())
    if (name == "classifier.bias") {
      NoGradGuard ng;
      p.data<float>()[0] += 1e-3f;
      moved = true;
    }
  REQUIRE(moved);
  Diffs d;
  compare_classify(m, d);
  CHECK(d.n > 0);
}
