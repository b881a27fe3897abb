// tests/tasks/test_features.cpp — what the models train on: NER labels aligned to the first
// sub-word (REFERENCE.md's "Elon Musk" case), classification truncation, and SQuAD windows,
// answer positions and post-processing against transformers' run_qa.py / utils_qa.py
// (tests/data/tasks/qa_golden.json, made by tools/make_tasks_golden.py).
#include <doctest/doctest.h>

#include "bert/tasks/classify.h"
#include "bert/tasks/ner.h"
#include "bert/tasks/qa.h"
#include "tests/golden.h"
#include "tests/tasks/tiny.h"

using namespace bertlab;
using namespace bertlab::tasks;

static const tokenizer::BertTokenizer& uncased() {
  static tokenizer::BertTokenizer tok("data/vocab/bert-base-uncased-vocab.txt");
  return tok;
}

TEST_CASE("labels go on the first sub-word, -100 on the rest and on special tokens (REFERENCE.md)") {
  NerData d;
  d.path = "mem";
  d.sentences.push_back({{"Elon", "Musk", "founded", "Tesla", "in", "California", "."},
                         {"B-PER", "I-PER", "O", "B-ORG", "O", "B-LOC", "O"}, 1});
  std::vector<std::string> labels = {"B-LOC", "B-ORG", "B-PER", "I-PER", "O"};
  NerFeatures f = ner_features(uncased(), d, labels, 128);
  REQUIRE(f.encodings.size() == 1);
  auto toks = uncased().convert_ids_to_tokens(f.encodings[0].ids);
  // HF BertTokenizerFast with this vocabulary gives "el ##on" (the vocabulary has no "elon";
  // REFERENCE.md's "[CLS] elon mu ##sk ..." does not match it); the rule is the same either way.
  CHECK(toks == std::vector<std::string>{"[CLS]", "el", "##on", "mu", "##sk", "founded", "tesla", "in", "california", ".", "[SEP]"});
  //            CLS   el(B-PER) ##on  mu(I-PER) ##sk founded(O) tesla(B-ORG) in(O) california(B-LOC) .(O) SEP
  CHECK(f.labels[0] == std::vector<int64_t>{-100, 2, -100, 3, -100, 4, 1, 4, 0, 4, -100});
  CHECK(f.truncated == 0);
}

TEST_CASE("align_word_labels on hand-made word ids") {
  CHECK(align_word_labels({-1, 0, 0, 1, 2, 2, 2, -1}, {7, 8, 9}) == std::vector<int64_t>{-100, 7, -100, 8, 9, -100, -100, -100});
  CHECK_THROWS_WITH_AS(align_word_labels({-1, 3, -1}, {1}), doctest::Contains("word 3 has no label"), Error);
}

TEST_CASE("a tag missing from the label map names the file and line") {
  NerData d = read_conll("tests/data/tasks/wnut_dev.conll");
  CHECK_THROWS_WITH_AS(ner_features(uncased(), d, {"O", "B-person"}, 128), doctest::Contains("wnut_dev.conll:"), Error);
  CHECK_THROWS_WITH_AS(ner_features(uncased(), d, {"O", "B-person"}, 128), doctest::Contains("is not in the label map"), Error);
}

TEST_CASE("NER sentences longer than max_length are truncated and counted") {
  NerData d;
  d.path = "mem";
  NerSentence s;
  for (int i = 0; i < 40; ++i) s.words.push_back("word"), s.tags.push_back("O");
  d.sentences.push_back(s);
  NerFeatures f = ner_features(uncased(), d, {"O"}, 16);
  CHECK(f.encodings[0].size() == 16);
  CHECK(f.truncated == 1);
  CHECK(f.labels[0].size() == 16);
}

TEST_CASE("classification features: pairs get type ids 1, long texts are truncated to max_length") {
  ClassifyData d;
  d.path = "mem";
  d.examples.push_back({"The cat sat on the mat.", std::string("It was a lazy afternoon."), "a", 1});
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "very ";
  d.examples.push_back({long_text, std::nullopt, "b", 2});
  LabelMap m = LabelMap::from_names({"a", "b"});
  ClassifyFeatures f = classify_features(uncased(), d, &m, 32);
  CHECK(f.encodings[0].size() == 16);
  CHECK(f.encodings[0].type_ids == std::vector<int32_t>{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1});
  CHECK(f.encodings[1].size() == 32);
  CHECK(f.truncated == 1);
  CHECK(f.labels == std::vector<int64_t>{0, 1});
}

TEST_CASE("SQuAD training windows and answer positions match run_qa.py prepare_train_features") {
  auto g = testing::read_json("tests/data/tasks/qa_golden.json");
  std::vector<SquadExample> ex = read_squad("tests/data/tasks/squad_tiny.json");
  QaOptions opt;
  opt.max_seq_length = g["max_seq_length"];
  opt.doc_stride = g["doc_stride"];
  std::vector<QaFeature> f = qa_features(uncased(), ex, opt, true);
  const auto& gf = g["train_features"];
  REQUIRE(f.size() == gf.size());
  int answered = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    CAPTURE(i);
    CHECK(f[i].example == gf[i]["example"].get<int64_t>());
    CHECK(std::vector<int64_t>(f[i].enc.ids.begin(), f[i].enc.ids.end()) == gf[i]["input_ids"].get<std::vector<int64_t>>());
    CHECK(std::vector<int64_t>(f[i].enc.type_ids.begin(), f[i].enc.type_ids.end()) ==
          gf[i]["token_type_ids"].get<std::vector<int64_t>>());
    CHECK(f[i].start_position == gf[i]["start_position"].get<int64_t>());
    CHECK(f[i].end_position == gf[i]["end_position"].get<int64_t>());
    if (f[i].start_position > 0) {
      ++answered;
      // the span's characters hold the answer
      const auto& e = ex[(size_t)f[i].example];
      std::string span = substr_cp(e.context, f[i].enc.offsets[(size_t)f[i].start_position].first,
                                   f[i].enc.offsets[(size_t)f[i].end_position].second);
      CHECK(span.find(e.answers[0].text) != std::string::npos);
    }
  }
  CHECK(answered >= 6);  // every question has a window holding its answer
}

TEST_CASE("post-processing matches utils_qa.py postprocess_qa_predictions") {
  auto g = testing::read_json("tests/data/tasks/qa_golden.json");
  std::vector<SquadExample> ex = read_squad("tests/data/tasks/squad_tiny.json");
  QaOptions opt;
  opt.max_seq_length = g["max_seq_length"];
  opt.doc_stride = g["doc_stride"];
  opt.n_best = g["n_best"];
  opt.max_answer_length = g["max_answer_length"];
  std::vector<QaFeature> f = qa_features(uncased(), ex, opt, false);
  const auto& gl = g["eval_logits"];
  REQUIRE(f.size() == gl.size());
  std::vector<std::vector<float>> st, en;
  for (auto& x : gl) {
    st.push_back(x["start_logits"].get<std::vector<float>>());
    en.push_back(x["end_logits"].get<std::vector<float>>());
  }
  auto preds = postprocess_qa(ex, f, st, en, opt);
  for (auto& [id, p] : g["predictions"].items()) {
    CAPTURE(id);
    REQUIRE(preds.count(id));
    CHECK(preds[id].text == p["text"].get<std::string>());
    CHECK(preds[id].probability == doctest::Approx(p["probability"].get<double>()).epsilon(1e-4));
  }
}

TEST_CASE("a doc_stride that leaves no room for the context is a clear error") {
  std::vector<SquadExample> ex = read_squad("tests/data/tasks/squad_tiny.json");
  QaOptions opt;
  opt.max_seq_length = 32;
  opt.doc_stride = 28;
  CHECK_THROWS_WITH_AS(qa_features(uncased(), ex, opt, true), doctest::Contains("leave no room in max_seq_length 32"), Error);
}

TEST_CASE("QA options out of range are errors naming the flag, before any index or resize") {
  auto message = [](QaOptions o) -> std::string {
    try {
      o.validate();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  QaOptions o;
  CHECK(message(o) == "no error");
  o.max_query_length = 0;
  CHECK(message(o) == "--max-query-length must be at least 1, got 0");
  o = QaOptions();
  o.n_best = -1;
  CHECK(message(o) == "--n-best must be at least 1, got -1");
  o = QaOptions();
  o.doc_stride = -1;
  CHECK(message(o) == "--doc-stride must be at least 0, got -1");
  o = QaOptions();
  o.doc_stride = INT64_MAX;  // q + 3 + doc_stride used to overflow past the room check
  CHECK(message(o) == "--doc-stride must be at most --max-length - 1 (383), got 9223372036854775807");
  o = QaOptions();
  o.max_answer_length = 0;
  CHECK(message(o) == "--max-answer-length must be at least 1, got 0");
  o = QaOptions();
  o.max_seq_length = 2;
  CHECK(message(o) == "--max-length must be at least 4, got 2");

  // through the library calls: max_query_length 0 used to index offsets[-1], n_best -1 to
  // resize a vector to SIZE_MAX
  SquadExample e;
  e.id = "q1";
  e.context = "The answer is here.";
  e.question = "where is it?";
  e.answers.push_back({"here", 14});
  o = QaOptions();
  o.max_query_length = 0;
  CHECK_THROWS_WITH_AS(qa_features(uncased(), {e}, o, true), doctest::Contains("--max-query-length must be at least 1, got 0"), Error);
  o = QaOptions();
  std::vector<QaFeature> f = qa_features(uncased(), {e}, o, false);
  std::vector<std::vector<float>> logits(f.size(), std::vector<float>(f[0].enc.size(), 0.0f));
  o.n_best = -1;
  CHECK_THROWS_WITH_AS(postprocess_qa({e}, f, logits, logits, o), doctest::Contains("--n-best must be at least 1, got -1"), Error);
}

TEST_CASE("questions are cut to max_query_length tokens") {
  SquadExample e;
  e.id = "long";
  e.context = "The answer is here.";
  for (int i = 0; i < 100; ++i) e.question += "why ";
  e.answers.push_back({"here", 14});
  QaOptions opt;  // 384 / 128 / 64
  std::vector<QaFeature> f = qa_features(uncased(), {e}, opt, true);
  REQUIRE(f.size() == 1);
  int question_tokens = 0;
  for (auto s : f[0].enc.sequence_ids) question_tokens += s == 0;
  CHECK(question_tokens == 64);
  CHECK(f[0].enc.offsets[(size_t)f[0].start_position].first == 14);
}
