// bert/tasks/evaluate.h — a fine-tuned model scored on a labelled file: the metrics of
// run_glue.py (accuracy; F1 of label 1 when there are two labels), run_ner.py (seqeval
// entity precision / recall / F1 and token accuracy, plus seqeval's strict IOB2 scores) and
// run_qa.py (SQuAD v1.1 exact match and F1 after postprocess_qa_predictions).
// `bertlab eval` and the evaluation inside `bertlab finetune` both come here.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bert/heads.h"
#include "bert/tasks/classify.h"
#include "bert/tasks/ner.h"
#include "bert/tasks/qa.h"

namespace bertlab::tasks {

// {"accuracy", "f1" (two labels only: F1 of label id 1), "n"}; `predictions` (optional) gets
// the predicted label ids, `scores` (optional) their softmax probabilities.
nlohmann::json evaluate_classify(bert::PreTrainedModel& model, const ClassifyFeatures& f, int64_t batch_size,
                                 Device device, std::vector<int64_t>* predictions = nullptr,
                                 std::vector<double>* scores = nullptr);

// {"precision", "recall", "f1", "accuracy", "strict_precision", "strict_recall", "strict_f1",
//  "per_type": {type: {"precision", "recall", "f1", "number"}}, "n"} — "f1" is seqeval's default
// (conlleval) score, as run_ner.py reports it. `predicted` (optional) gets the tags per word.
nlohmann::json evaluate_ner(bert::PreTrainedModel& model, const NerData& data, const NerFeatures& f,
                            const std::vector<std::string>& label_names, int64_t batch_size, Device device,
                            std::vector<std::vector<std::string>>* predicted = nullptr);
// The predicted tag of each word: the argmax label of its first sub-word ("O" for words
// that were truncated away). logits is (T,L) row-major for the encoding.
std::vector<std::string> word_tags(const tokenizer::Encoding& enc, const std::vector<float>& logits,
                                   const std::vector<std::string>& label_names, size_t num_words);

// {"exact_match", "f1", "n", "features"}; `predictions` (optional) gets the answer per question id.
nlohmann::json evaluate_qa(bert::PreTrainedModel& model, const std::vector<SquadExample>& examples,
                           const std::vector<QaFeature>& features, const QaOptions& opt, int64_t batch_size,
                           Device device, std::map<std::string, QaPrediction>* predictions = nullptr);

// `bertlab eval TASK --model DIR --data FILE`: loads the model and its tokenizer from DIR,
// reads the file with the model's label map, and scores it.
struct EvalOptions {
  int64_t batch_size = 64;
  int64_t max_length = 0;   // 0: 128 (classify, ner), 384 (qa); at most max_position_embeddings
  int64_t max_examples = 0; // 0: all
  Device device = Device::CPU;
  ClassifyColumns columns;
  LangPrefix lang_prefix = LangPrefix::Auto;
  QaOptions qa;
  // "" or a file that gets the predictions (written atomically): classify a TSV with a header
  // (line, text[, pair], gold, predicted, score; tabs and newlines in a text become spaces),
  // ner CoNLL columns (token gold predicted, a blank line after each sentence), qa SQuAD's
  // predictions.json ({question id: answer text}, what evaluate-v1.1.py reads).
  std::string predictions;
};
nlohmann::json evaluate_file(const std::string& task, const std::string& model_dir, const std::string& data_file,
                             const EvalOptions& opt);

// The model's max_position_embeddings bounds every sequence: a requested max_length above it
// throws (naming both), 0 picks the task default capped by it.
int64_t resolve_max_length(const std::string& task, int64_t requested, int64_t max_positions);

}  // namespace bertlab::tasks
