// tests/tasks/test_pipelines.cpp — the prediction pipelines: entity grouping against
// transformers' TokenClassificationPipeline.group_entities (tests/data/tasks/group_golden.json),
// HTML escaping and the coloured renderings, and sentiment / ner / qa / zero-shot end to end on
// tiny random models. No NLI model is available offline: zero-shot is checked on a random model
// saved with the label names contradiction / neutral / entailment, against the formulas.
#include <doctest/doctest.h>

#include <cmath>

#include "bert/tasks/infer.h"
#include "bert/tasks/pipelines.h"
#include "tests/golden.h"
#include "tests/tasks/tiny.h"

using namespace bertlab;
using namespace bertlab::tasks;
using testing::TempDir;

static const tokenizer::BertTokenizer& uncased() {
  static tokenizer::BertTokenizer tok("data/vocab/bert-base-uncased-vocab.txt");
  return tok;
}

TEST_CASE("entity grouping matches the Hugging Face pipeline (aggregation_strategy=simple)") {
  auto g = testing::read_json("tests/data/tasks/group_golden.json");
  for (auto& c : g["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    std::vector<TokenTag> tags;
    for (auto& t : c["tokens"]) tags.push_back({t["entity"], t["score"].get<double>(), t["word"], t["start"], t["end"]});
    std::vector<EntityGroup> got = group_entities(tags, uncased());
    REQUIRE(got.size() == c["groups"].size());
    for (size_t i = 0; i < got.size(); ++i) {
      const auto& want = c["groups"][i];
      CHECK(got[i].entity_group == want["entity_group"].get<std::string>());
      CHECK(got[i].word == want["word"].get<std::string>());
      CHECK(got[i].score == doctest::Approx(want["score"].get<double>()).epsilon(1e-5));
      CHECK(got[i].start == want["start"].get<int64_t>());
      CHECK(got[i].end == want["end"].get<int64_t>());
    }
  }
}

TEST_CASE("HTML output escapes text and entity names; ANSI output colours each type") {
  CHECK(html_escape("<b>\"Tom\" & 'Jerry'</b>") == "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;");
  std::vector<std::string> texts = {"<script>alert(1)</script> met Zoë in Paris"};
  std::vector<std::vector<EntityGroup>> ents = {{{"PER", 0.9, "zoe", 30, 33}, {"LOC<x>", 0.8, "paris", 37, 42}}};
  std::string h = render_html(texts, ents, {"PER", "LOC<x>"});
  CHECK(h.find("<script>") == std::string::npos);
  CHECK(h.find("&lt;script&gt;alert(1)&lt;/script&gt; met ") != std::string::npos);
  CHECK(h.find(">Zoë<span>PER</span></mark>") != std::string::npos);
  CHECK(h.find("LOC&lt;x&gt;") != std::string::npos);
  std::string a = render_ansi("Zoë in Paris", {{"PER", 0.9, "zoe", 0, 3}, {"LOC", 0.8, "paris", 7, 12}}, {"PER", "LOC"});
  CHECK(a == "\x1b[1;31mZoë\x1b[0;2;31m PER\x1b[0m in \x1b[1;32mParis\x1b[0;2;32m LOC\x1b[0m");
  CHECK(entity_types({"B-PER", "I-PER", "O", "B-LOC", "I-LOC"}) == std::vector<std::string>{"PER", "LOC"});
}

TEST_CASE("sentiment: the top label and its softmax probability") {
  TempDir t("sentiment");
  testing::make_tiny_model(t / "m", (int)bert::Task::SequenceClassification, {"negative", "positive"});
  Loaded m = load_for_inference(t / "m", bert::Task::SequenceClassification);
  auto r = classify_texts(m, {"a gorgeous , witty , seductive movie .", "bad"});
  REQUIRE(r.size() == 2);
  for (auto& x : r) {
    REQUIRE(x.size() == 2);
    CHECK(x[0].score >= x[1].score);
    CHECK(x[0].score + x[1].score == doctest::Approx(1.0));
  }
  // same numbers as the logits through a softmax
  std::vector<tokenizer::Encoding> enc = {m.tok->encode("bad")};
  HeadOutputs out = run_head(*m.model, enc, 1, Device::CPU);
  std::vector<double> p = softmax_row(out.logits[0].data(), 2);
  CHECK(r[1][0].score == doctest::Approx(std::max(p[0], p[1])));
}

TEST_CASE("sentiment: a text longer than max_position_embeddings is truncated, not a crash") {
  TempDir t("longtext");
  testing::make_tiny_model(t / "m", (int)bert::Task::SequenceClassification, {"negative", "positive"});
  Loaded m = load_for_inference(t / "m", bert::Task::SequenceClassification);
  std::string text;
  for (int i = 0; i < 200; ++i) text += "film ";
  auto r = classify_texts(m, {text});
  CHECK(r[0][0].score > 0.5);
}

TEST_CASE("ner pipeline: entities carry offsets into the text, scores in (0, 1]") {
  TempDir t("nerpipe");
  testing::make_tiny_model(t / "m", (int)bert::Task::TokenClassification, {"B-LOC", "B-PER", "I-LOC", "I-PER", "O"});
  Loaded m = load_for_inference(t / "m", bert::Task::TokenClassification);
  std::vector<std::string> texts = {"new york is big", "the film stars tom"};
  auto r = ner_texts(m, texts);
  REQUIRE(r.size() == 2);
  REQUIRE(r[0].size() + r[1].size() >= 2);  // the loop below must check something
  for (size_t i = 0; i < 2; ++i)
    for (auto& e : r[i]) {
      CHECK(e.score > 0.0);
      CHECK(e.score <= 1.0);
      CHECK(e.start < e.end);
      CHECK(e.end <= (int64_t)texts[i].size());
      CHECK((e.entity_group == "LOC" || e.entity_group == "PER"));
    }
}

TEST_CASE("qa pipeline: the answer is a span of the context, widened to whole words") {
  TempDir t("qapipe");
  testing::make_tiny_model(t / "m", (int)bert::Task::QuestionAnswering);
  Loaded m = load_for_inference(t / "m", bert::Task::QuestionAnswering);
  const std::string context = "Denver Broncos defeated the Carolina Panthers at Levi's Stadium in Santa Clara.";
  auto a = answer_question(m, "Who won?", context, 3);
  REQUIRE(a.size() == 3);
  for (auto& x : a) {
    CAPTURE(x.answer);
    CAPTURE(x.start);
    CHECK(x.answer == context.substr((size_t)x.start, (size_t)(x.end - x.start)));
    CHECK(x.score > 0.0);
    CHECK(x.score <= 1.0);
    // a BERT word starts there: after a space or punctuation, or at a punctuation mark ("'" of Levi's)
    const auto before = (unsigned char)context[(size_t)x.start - (x.start > 0)], at = (unsigned char)context[(size_t)x.start];
    CHECK((x.start == 0 || before == ' ' || std::ispunct(before) || std::ispunct(at)));
  }
  CHECK(a[0].score >= a[1].score);
  // a context far longer than one window (64 positions): several windows, still an answer
  std::string big;
  for (int i = 0; i < 30; ++i) big += "The game was played in Santa Clara. ";
  CHECK(answer_question(m, "Where?", big).size() == 1);
  CHECK_THROWS_WITH_AS(answer_question(m, " ", context), doctest::Contains("the question is empty"), Error);
  // a negative top_k used to resize the candidates to SIZE_MAX
  CHECK_THROWS_WITH_AS(answer_question(m, "Who won?", context, -1), doctest::Contains("--top-k must be at least 1, got -1"), Error);
  CHECK_THROWS_WITH_AS(answer_question(m, "Who won?", context, 1, 0), doctest::Contains("--max-answer-len must be at least 1, got 0"), Error);
}

TEST_CASE("zero-shot: entailment softmax over labels, or entailment vs contradiction per label") {
  TempDir t("zeroshot");
  testing::make_tiny_model(t / "nli", (int)bert::Task::SequenceClassification, {"CONTRADICTION", "neutral", "Entailment"});
  Loaded m = load_for_inference(t / "nli", bert::Task::SequenceClassification);
  CHECK(nli_label_ids(m.model->config) == std::pair<int64_t, int64_t>{2, 0});
  const std::string text = "the team won the match";
  const std::vector<std::string> labels = {"sports", "politics", "cooking"};
  ZeroShotResult single = zero_shot(m, text, labels);
  ZeroShotResult multi = zero_shot(m, text, labels, "This example is {}.", true);
  // reference: the logits of each (text, hypothesis) pair
  std::vector<std::vector<float>> lg;
  for (auto& l : labels) {
    std::vector<tokenizer::Encoding> enc = {m.tok->encode(text, "This example is " + l + ".")};
    lg.push_back(run_head(*m.model, enc, 1, Device::CPU).logits[0]);
  }
  double z = 0;
  for (auto& x : lg) z += std::exp((double)x[2]);
  double sum = 0;
  for (size_t i = 0; i < single.labels.size(); ++i) {
    size_t k = (size_t)(std::find(labels.begin(), labels.end(), single.labels[i]) - labels.begin());
    CHECK(single.scores[i] == doctest::Approx(std::exp((double)lg[k][2]) / z));
    sum += single.scores[i];
    size_t km = (size_t)(std::find(labels.begin(), labels.end(), multi.labels[i]) - labels.begin());
    CHECK(multi.scores[i] == doctest::Approx(1.0 / (1.0 + std::exp((double)lg[km][0] - (double)lg[km][2]))));
  }
  CHECK(sum == doctest::Approx(1.0));
  CHECK(std::is_sorted(single.scores.rbegin(), single.scores.rend()));
  CHECK(single.sequence == text);
  CHECK_THROWS_WITH_AS(zero_shot(m, text, labels, "no placeholder"), doctest::Contains("has no {}"), Error);
}

TEST_CASE("zero-shot on a model without NLI labels is a clear error") {
  TempDir t("nonli");
  testing::make_tiny_model(t / "m", (int)bert::Task::SequenceClassification, {"negative", "positive"});
  Loaded m = load_for_inference(t / "m", bert::Task::SequenceClassification);
  CHECK_THROWS_WITH_AS(zero_shot(m, "x", {"a", "b"}), doctest::Contains("have no entailment label"), Error);
  TempDir t2("nocontra");
  testing::make_tiny_model(t2 / "m", (int)bert::Task::SequenceClassification, {"entailment", "not_entailment"});
  Loaded m2 = load_for_inference(t2 / "m", bert::Task::SequenceClassification);
  CHECK(zero_shot(m2, "x", {"a", "b"}).labels.size() == 2);  // single-label needs entailment only
  CHECK_THROWS_WITH_AS(zero_shot(m2, "x", {"a", "b"}, "This example is {}.", true), doctest::Contains("no contradiction label"), Error);
}
