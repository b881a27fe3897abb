// bert/tasks/evaluate.cpp — see evaluate.h.
#include "bert/tasks/evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "bert/checkpoint.h"
#include "bert/io.h"
#include "bert/tasks/infer.h"
#include "bert/tasks/metrics.h"

namespace bertlab::tasks {

int64_t resolve_max_length(const std::string& task, int64_t requested, int64_t max_positions) {
  if (requested > max_positions)
    fail("--max-length " + std::to_string(requested) + " exceeds the model's max_position_embeddings " +
         std::to_string(max_positions) + " (longer sequences are truncated to --max-length; pick at most " +
         std::to_string(max_positions) + ")");
  if (requested > 0) return requested;
  return std::min<int64_t>(task == "qa" ? 384 : 128, max_positions);
}

nlohmann::json evaluate_classify(bert::PreTrainedModel& model, const ClassifyFeatures& f, int64_t batch_size,
                                 Device device, std::vector<int64_t>* predictions, std::vector<double>* scores) {
  HeadOutputs out = run_head(model, f.encodings, batch_size, device);
  std::vector<int64_t> pred(f.encodings.size());
  std::vector<double> prob(f.encodings.size());
  for (size_t i = 0; i < pred.size(); ++i) {
    const auto& l = out.logits[i];
    pred[i] = std::max_element(l.begin(), l.end()) - l.begin();
    double sum = 0;  // softmax of the top logit: 1 / sum(exp(l - top))
    for (float x : l) sum += std::exp((double)x - (double)l[(size_t)pred[i]]);
    prob[i] = 1.0 / sum;
  }
  nlohmann::json j = {{"n", (int64_t)pred.size()}};
  if (!f.labels.empty() && f.labels[0] >= 0) {
    j["accuracy"] = accuracy(pred, f.labels);
    if (out.num_labels == 2) j["f1"] = binary_f1(pred, f.labels, 1).f1;
  }
  if (predictions) *predictions = std::move(pred);
  if (scores) *scores = std::move(prob);
  return j;
}

std::vector<std::string> word_tags(const tokenizer::Encoding& enc, const std::vector<float>& logits,
                                   const std::vector<std::string>& label_names, size_t num_words) {
  const int64_t L = (int64_t)label_names.size();
  std::vector<std::string> tags(num_words, "O");
  int32_t prev = -1;
  for (size_t t = 0; t < enc.size(); ++t) {
    const int32_t w = enc.word_ids[t];
    if (w >= 0 && w != prev && (size_t)w < num_words) {
      const float* row = logits.data() + t * (size_t)L;
      tags[(size_t)w] = label_names[(size_t)(std::max_element(row, row + L) - row)];
    }
    prev = w;
  }
  return tags;
}

nlohmann::json evaluate_ner(bert::PreTrainedModel& model, const NerData& data, const NerFeatures& f,
                            const std::vector<std::string>& label_names, int64_t batch_size, Device device,
                            std::vector<std::vector<std::string>>* predicted) {
  if ((int64_t)label_names.size() != model.config.num_labels())
    fail("evaluate_ner: " + std::to_string(label_names.size()) + " label names for a model with " +
         std::to_string(model.config.num_labels()) + " labels");
  HeadOutputs out = run_head(model, f.encodings, batch_size, device);
  std::vector<std::vector<std::string>> gold, pred;
  for (size_t i = 0; i < data.sentences.size(); ++i) {
    gold.push_back(data.sentences[i].tags);
    pred.push_back(word_tags(f.encodings[i], out.logits[i], label_names, data.sentences[i].words.size()));
  }
  NerScores s = ner_scores(gold, pred, NerMode::Conlleval);
  nlohmann::json per_type = nlohmann::json::object();
  for (auto& [t, p] : s.per_type)
    per_type[t] = {{"precision", p.precision}, {"recall", p.recall}, {"f1", p.f1}, {"number", p.gold}};
  nlohmann::json j = {{"precision", s.overall.precision}, {"recall", s.overall.recall}, {"f1", s.overall.f1},
                      {"accuracy", s.token_accuracy}, {"per_type", per_type}, {"n", (int64_t)gold.size()},
                      {"truncated", f.truncated}};
  // strict IOB2 needs well-formed tags; predicted I-X after O is simply no entity there
  NerScores st = ner_scores(gold, pred, NerMode::StrictIob2);
  j["strict_precision"] = st.overall.precision;
  j["strict_recall"] = st.overall.recall;
  j["strict_f1"] = st.overall.f1;
  if (predicted) *predicted = std::move(pred);
  return j;
}

nlohmann::json evaluate_qa(bert::PreTrainedModel& model, const std::vector<SquadExample>& examples,
                           const std::vector<QaFeature>& features, const QaOptions& opt, int64_t batch_size,
                           Device device, std::map<std::string, QaPrediction>* predictions) {
  std::vector<tokenizer::Encoding> encs;
  encs.reserve(features.size());
  for (auto& f : features) encs.push_back(f.enc);
  HeadOutputs out = run_head(model, encs, batch_size, device);
  auto preds = postprocess_qa(examples, features, out.start, out.end, opt);
  std::map<std::string, std::string> texts;
  for (auto& [id, p] : preds) texts[id] = p.text;
  SquadScores s = squad_evaluate(squad_gold(examples), texts);
  nlohmann::json j = {{"exact_match", s.exact_match}, {"f1", s.f1}, {"n", s.total}, {"features", (int64_t)features.size()}};
  if (predictions) *predictions = std::move(preds);
  return j;
}

namespace {

// A TSV field: tabs and line breaks (CSV allows them inside quotes) become spaces.
std::string tsv_field(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

void write_classify_predictions(const std::string& path, const ClassifyData& d, const std::vector<std::string>& names,
                                const std::vector<int64_t>& pred, const std::vector<double>& score) {
  const bool pairs = std::any_of(d.examples.begin(), d.examples.end(), [](const ClassifyExample& e) { return e.pair.has_value(); });
  std::string out = pairs ? "line\ttext\tpair\tgold\tpredicted\tscore\n" : "line\ttext\tgold\tpredicted\tscore\n";
  char buf[32];
  for (size_t i = 0; i < d.examples.size(); ++i) {
    const ClassifyExample& e = d.examples[i];
    std::snprintf(buf, sizeof buf, "%.6f", score[i]);
    out += std::to_string(e.line) + "\t" + tsv_field(e.text) + "\t";
    if (pairs) out += tsv_field(e.pair.value_or("")) + "\t";
    out += tsv_field(e.label) + "\t" + tsv_field(names[(size_t)pred[i]]) + "\t" + buf + "\n";
  }
  bert::write_file_atomic(path, out);
}

void write_ner_predictions(const std::string& path, const NerData& d, const std::vector<std::vector<std::string>>& pred) {
  std::string out;
  for (size_t i = 0; i < d.sentences.size(); ++i) {
    const NerSentence& s = d.sentences[i];
    for (size_t w = 0; w < s.words.size(); ++w) out += s.words[w] + " " + s.tags[w] + " " + pred[i][w] + "\n";
    out += "\n";
  }
  bert::write_file_atomic(path, out);
}

}  // namespace

nlohmann::json evaluate_file(const std::string& task, const std::string& model_dir, const std::string& data_file,
                             const EvalOptions& o) {
  namespace fs = std::filesystem;
  bert::Task t = task == "classify" ? bert::Task::SequenceClassification
                 : task == "ner"    ? bert::Task::TokenClassification
                 : task == "qa"     ? bert::Task::QuestionAnswering
                                    : (fail("eval: unknown task '" + task + "' (classify, ner, qa)"), bert::Task::QuestionAnswering);
  if (!fs::is_directory(model_dir)) fail("eval: model folder " + model_dir + " does not exist");
  bert::LoadInfo info;
  auto model = bert::from_pretrained(model_dir, t, &info);
  if (!info.newly_initialized.empty())
    std::fprintf(stderr, "bertlab: warning: %s has no trained %s head (newly initialised: %s); its scores are chance\n",
                 model_dir.c_str(), bert::task_class_name(t), info.newly_initialized.front().c_str());
  model->to(o.device);
  auto tok = tokenizer::BertTokenizer::from_pretrained(model_dir);
  const int64_t max_len = resolve_max_length(task, o.max_length, model->config.max_position_embeddings);
  std::vector<std::string> names;
  for (int64_t i = 0; i < model->config.num_labels(); ++i)
    names.push_back(model->config.id2label.count(i) ? model->config.id2label.at(i) : "LABEL_" + std::to_string(i));

  nlohmann::json j;
  if (t == bert::Task::SequenceClassification) {
    ClassifyData d = read_classify(data_file, o.columns);
    if (o.max_examples > 0 && (int64_t)d.examples.size() > o.max_examples) d.examples.resize((size_t)o.max_examples);
    LabelMap lm = LabelMap::from_names(names);
    ClassifyFeatures f = classify_features(tok, d, &lm, max_len);
    std::vector<int64_t> pred;
    std::vector<double> score;
    j = evaluate_classify(*model, f, o.batch_size, o.device, &pred, &score);
    j["truncated"] = f.truncated;
    if (!o.predictions.empty()) write_classify_predictions(o.predictions, d, names, pred, score);
  } else if (t == bert::Task::TokenClassification) {
    NerData d = read_conll(data_file, o.lang_prefix);
    if (o.max_examples > 0 && (int64_t)d.sentences.size() > o.max_examples) d.sentences.resize((size_t)o.max_examples);
    NerFeatures f = ner_features(tok, d, names, max_len);
    std::vector<std::vector<std::string>> pred;
    j = evaluate_ner(*model, d, f, names, o.batch_size, o.device, &pred);
    if (!o.predictions.empty()) write_ner_predictions(o.predictions, d, pred);
  } else {
    std::vector<SquadExample> ex = read_squad(data_file);
    if (o.max_examples > 0 && (int64_t)ex.size() > o.max_examples) ex.resize((size_t)o.max_examples);
    QaOptions qo = o.qa;
    qo.max_seq_length = max_len;
    std::vector<QaFeature> f = qa_features(tok, ex, qo, false);
    std::map<std::string, QaPrediction> pred;
    j = evaluate_qa(*model, ex, f, qo, o.batch_size, o.device, &pred);
    if (!o.predictions.empty()) {
      nlohmann::json p = nlohmann::json::object();  // {id: text}, as run_qa.py's predictions.json
      for (auto& [id, a] : pred) p[id] = a.text;
      bert::write_file_atomic(o.predictions, p.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    }
  }
  j["task"] = task;
  j["model"] = model_dir;
  j["data"] = data_file;
  return j;
}

}  // namespace bertlab::tasks
