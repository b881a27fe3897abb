// bert/tasks/qa.h — extractive question answering on SQuAD v1.1: the reader, the features
// (question + a window of the context), and the post-processing that turns start/end logits
// back into answer text. Follows transformers' examples/pytorch/question-answering:
//   run_qa.py prepare_train_features / prepare_validation_features — the question is
//     left-stripped, the pair is tokenized with truncation="only_second", max_length 384 and
//     stride (doc_stride) 128 with overflowing windows; a window that does not contain the
//     whole answer points start and end at [CLS];
//   utils_qa.py postprocess_qa_predictions — per example, over all its windows, the n_best 20
//     start and end logits, spans inside the context with end >= start and length <=
//     max_answer_length 30, scored start_logit + end_logit; the best span's text.
// The question is first cut to max_query_length 64 tokens (the older run_squad.py's
// max_query_length; run_qa.py leaves long questions whole).
// Character positions (answer_start, offsets, start/end) count code points, as Python does.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/bert_tokenizer.h"

namespace bertlab::tasks {

struct SquadAnswer {
  std::string text;
  int64_t start = 0;  // answer_start: code points into the context
};

struct SquadExample {
  std::string id, title, question, context;
  std::vector<SquadAnswer> answers;  // training uses the first; evaluation all of them
};

// Reads SQuAD v1.1 JSON ({"data": [{"title", "paragraphs": [{"context", "qas": [{"id",
// "question", "answers": [{"text", "answer_start"}]}]}]}]}). Throws naming the file and the
// question id for a missing field, and for an answer_start outside its context.
std::vector<SquadExample> read_squad(const std::string& path, bool require_answers = true);
// The same from a file's text (`path` names it in messages); read_squad reads the file and calls this.
std::vector<SquadExample> parse_squad(std::string_view text, const std::string& path, bool require_answers = true);
// The gold answers by question id (for squad_evaluate).
std::map<std::string, std::vector<std::string>> squad_gold(const std::vector<SquadExample>& examples);

struct QaOptions {
  int64_t max_seq_length = 384;
  int64_t doc_stride = 128;       // tokens shared by consecutive windows
  int64_t max_query_length = 64;  // question tokens kept
  int64_t n_best = 20;
  int64_t max_answer_length = 30; // tokens

  // Throws naming the option as its CLI flag ("--max-query-length must be at least 1, got 0")
  // when a value is out of range: max_seq_length in [4, 2^20] (room for [CLS] q [SEP] c
  // [SEP]), doc_stride in [0, max_seq_length), max_query_length >= 1 (a long one
  // is fine: the question is cut to it, and then must leave room for doc_stride),
  // n_best in [1, 10^6], max_answer_length >= 1. qa_features and postprocess_qa call it.
  void validate() const;
};

// One window: the question and a piece of the context.
struct QaFeature {
  tokenizer::Encoding enc;  // ids, type ids, offsets (code points; context tokens only are used), sequence_ids
  int64_t example = 0;      // index into the examples
  int64_t start_position = 0, end_position = 0;  // training targets (token indices; [CLS] when absent)
};

// Features for a list of examples. `train` computes start/end positions from the first answer.
// Throws when doc_stride does not fit (doc_stride >= max_seq_length - question - 3).
std::vector<QaFeature> qa_features(const tokenizer::BertTokenizer& tok, const std::vector<SquadExample>& examples,
                                   const QaOptions& opt, bool train);

struct QaPrediction {
  std::string text;
  int64_t start = -1, end = -1;  // code points into the context; -1 when none
  double score = 0;              // start_logit + end_logit
  double probability = 0;        // softmax of the score over the example's n-best
};
// start_logits[f] and end_logits[f] are (T_f) for feature f (T_f = features[f].enc.size()).
// Returns the best answer per example id (text "empty" where no span is valid, as utils_qa.py).
std::map<std::string, QaPrediction> postprocess_qa(const std::vector<SquadExample>& examples,
                                                   const std::vector<QaFeature>& features,
                                                   const std::vector<std::vector<float>>& start_logits,
                                                   const std::vector<std::vector<float>>& end_logits,
                                                   const QaOptions& opt);

// A substring by code points [start, end) of UTF-8 text.
std::string substr_cp(const std::string& s, int64_t start, int64_t end);
// Number of code points of UTF-8 text.
int64_t length_cp(const std::string& s);

}  // namespace bertlab::tasks
