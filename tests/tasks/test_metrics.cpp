// tests/tasks/test_metrics.cpp — bert/tasks/metrics.h against hand-computed cases and the
// golden files from tools/make_tasks_golden.py (seqeval 1.2 and SQuAD's evaluate-v1.1.py).
#include <doctest/doctest.h>

#include "bert/tasks/metrics.h"
#include "tests/golden.h"

using namespace bertlab;
using namespace bertlab::tasks;

TEST_CASE("accuracy and binary F1 on a hand-computed case") {
  std::vector<int64_t> gold = {1, 1, 0, 0, 1, 0, 1, 1}, pred = {1, 0, 0, 1, 1, 0, 1, 0};
  CHECK(accuracy(pred, gold) == doctest::Approx(5.0 / 8));
  // label 1: tp 3, predicted 4, gold 5 -> p 3/4, r 3/5, f1 2pr/(p+r) = 2/3
  PRF f = binary_f1(pred, gold, 1);
  CHECK(f.precision == doctest::Approx(0.75));
  CHECK(f.recall == doctest::Approx(0.6));
  CHECK(f.f1 == doctest::Approx(2.0 / 3));
  // no positive predictions: 0, not NaN (scikit-learn zero_division=0)
  CHECK(binary_f1({0, 0}, {1, 0}).f1 == 0.0);
  CHECK(accuracy({}, {}) == 0.0);
  CHECK_THROWS_WITH_AS(accuracy({1}, {1, 0}), doctest::Contains("1 predictions for 2 labels"), Error);
}

TEST_CASE("conlleval chunks: B-, I- after O, type changes, IOBES") {
  auto e = entities_conlleval({"B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC", "I-ORG", "S-MISC"});
  REQUIRE(e.size() == 5);
  CHECK(e[0] == Entity{0, "PER", 0, 1});
  CHECK(e[1] == Entity{0, "LOC", 3, 4});  // I- after O starts a chunk
  CHECK(e[2] == Entity{0, "LOC", 5, 5});
  CHECK(e[3] == Entity{0, "ORG", 6, 6});  // type change starts a chunk
  CHECK(e[4] == Entity{0, "MISC", 7, 7});
}

TEST_CASE("strict IOB2 entities: stray I- tags are no entity, invalid prefixes throw") {
  auto e = entities_iob2_strict({"I-PER", "B-PER", "I-PER", "I-LOC", "O", "B-ORG"});
  REQUIRE(e.size() == 2);
  CHECK(e[0] == Entity{0, "PER", 1, 2});
  CHECK(e[1] == Entity{0, "ORG", 5, 5});
  CHECK_THROWS_WITH_AS(entities_iob2_strict({"S-PER"}), doctest::Contains("invalid tag 'S-PER'"), Error);
}

TEST_CASE("entity scores match seqeval (default and strict IOB2 modes)") {
  auto g = testing::read_json("tests/data/tasks/seqeval_golden.json");
  for (auto& c : g["cases"]) {
    CAPTURE(c["name"].get<std::string>());
    auto gold = c["gold"].get<std::vector<std::vector<std::string>>>();
    auto pred = c["pred"].get<std::vector<std::vector<std::string>>>();
    NerScores s = ner_scores(gold, pred, NerMode::Conlleval);
    const auto& d = c["default"];
    CHECK(s.overall.precision == doctest::Approx(d["precision"].get<double>()));
    CHECK(s.overall.recall == doctest::Approx(d["recall"].get<double>()));
    CHECK(s.overall.f1 == doctest::Approx(d["f1"].get<double>()));
    CHECK(s.token_accuracy == doctest::Approx(d["accuracy"].get<double>()));
    for (auto& [type, v] : d["per_type"].items()) {
      CAPTURE(type);
      REQUIRE(s.per_type.count(type));
      CHECK(s.per_type[type].f1 == doctest::Approx(v["f1"].get<double>()));
      CHECK(s.per_type[type].precision == doctest::Approx(v["precision"].get<double>()));
      CHECK(s.per_type[type].gold == v["support"].get<int64_t>());
    }
    if (c.contains("strict")) {
      NerScores st = ner_scores(gold, pred, NerMode::StrictIob2);
      CHECK(st.overall.precision == doctest::Approx(c["strict"]["precision"].get<double>()));
      CHECK(st.overall.recall == doctest::Approx(c["strict"]["recall"].get<double>()));
      CHECK(st.overall.f1 == doctest::Approx(c["strict"]["f1"].get<double>()));
    }
  }
}

TEST_CASE("ner_scores rejects sentences of different lengths") {
  CHECK_THROWS_WITH_AS(ner_scores({{"O", "O"}}, {{"O"}}), doctest::Contains("sentence 0 has 2 gold tags and 1 predicted"), Error);
}

TEST_CASE("SQuAD normalisation, exact match and F1 match evaluate-v1.1.py") {
  auto g = testing::read_json("tests/data/tasks/squad_golden.json");
  for (auto& c : g["cases"]) {
    const std::string p = c["prediction"], t = c["truth"];
    CAPTURE(p);
    CAPTURE(t);
    CHECK(squad_normalize(p) == c["norm_prediction"].get<std::string>());
    CHECK(squad_normalize(t) == c["norm_truth"].get<std::string>());
    CHECK(squad_exact_match(p, t) == c["em"].get<bool>());
    CHECK(squad_f1(p, t) == doctest::Approx(c["f1"].get<double>()));
  }
}

TEST_CASE("squad_evaluate takes the best gold answer and counts missing predictions as 0") {
  std::map<std::string, std::vector<std::string>> gold = {
      {"q1", {"Denver Broncos", "the Broncos"}}, {"q2", {"1995"}}, {"q3", {"Santa Clara"}}};
  std::map<std::string, std::string> pred = {{"q1", "Broncos"}, {"q2", "in 1995"}};
  SquadScores s = squad_evaluate(gold, pred);
  CHECK(s.total == 3);
  CHECK(s.unanswered == 1);
  CHECK(s.exact_match == doctest::Approx(100.0 / 3));     // q1 matches "the Broncos"
  CHECK(s.f1 == doctest::Approx(100.0 * (1.0 + 2.0 / 3) / 3));  // q2: p 1/2, r 1 -> 2/3
}
