// bert/tasks/pipelines.h — inference on raw text, as transformers' pipelines compute it:
//   text-classification ("sentiment")   softmax over the labels (sigmoid for one label);
//                                       the top label and its probability
//   token-classification ("ner"),       argmax label per token (special tokens skipped), then
//     aggregation_strategy="simple"     group_entities: adjacent tokens of one type merge
//                                       unless the next is B-; "O" groups are dropped; score =
//                                       mean token probability; word = the tokens joined by the
//                                       WordPiece decoder ([UNK] -> the original text)
//   question-answering                  question + context windows (max_seq_len min(384,
//                                       model_max_length), doc_stride min(max_seq_len/2, 128));
//                                       per window, softmax of start and end over context
//                                       tokens and [CLS], [CLS] then zeroed; spans with end >=
//                                       start and at most max_answer_len tokens scored p_start
//                                       * p_end; the answer widened to whole words
//   zero-shot-classification            each candidate label becomes a hypothesis "This
//                                       example is {label}." paired with the text (truncation
//                                       only_first) and scored by an NLI model: single-label =
//                                       softmax over the labels of the entailment logits;
//                                       multi-label (or one label) = per label softmax of
//                                       [contradiction, entailment], the entailment part
// Character positions (start, end) count code points, as Python strings do.
// Texts longer than the model's max_position_embeddings are truncated (a warning says so).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bert/heads.h"
#include "tokenizer/bert_tokenizer.h"

namespace bertlab::tasks {

// A model folder loaded for inference: the head model (eval mode, on `device`), its tokenizer,
// and its label names by id.
struct Loaded {
  std::shared_ptr<bert::PreTrainedModel> model;
  std::optional<tokenizer::BertTokenizer> tok;
  std::vector<std::string> labels;
  Device device = Device::CPU;
  int64_t max_length = 512;  // min(max_position_embeddings, tokenizer model_max_length)
};
// Warns on stderr when the folder has no trained head for `task` (its outputs are then random).
Loaded load_for_inference(const std::string& dir, bert::Task task, Device device = Device::CPU);

struct LabelScore {
  std::string label;
  double score = 0;
};
// Every label with its probability, best first, for each text.
std::vector<std::vector<LabelScore>> classify_texts(Loaded& m, const std::vector<std::string>& texts,
                                                    int64_t batch_size = 32);

struct EntityGroup {
  std::string entity_group;  // the type, without B-/I-
  double score = 0;          // mean probability of its tokens
  std::string word;          // its tokens decoded
  int64_t start = 0, end = 0;  // code points into the text
};
std::vector<std::vector<EntityGroup>> ner_texts(Loaded& m, const std::vector<std::string>& texts, int64_t batch_size = 32);

// The grouping alone (testable without a model): per token (special tokens removed) its label,
// probability, token string and offsets -> groups (transformers' group_entities; "O" dropped).
struct TokenTag {
  std::string entity;  // e.g. "B-PER"
  double score = 0;
  std::string token;   // "##sk"
  int64_t start = 0, end = 0;
};
std::vector<EntityGroup> group_entities(const std::vector<TokenTag>& tokens, const tokenizer::BertTokenizer& tok);

struct QaAnswer {
  std::string answer;
  double score = 0;
  int64_t start = 0, end = 0;  // code points into the context
};
// The best `top_k` answers (question-answering pipeline defaults: max_answer_len 15).
std::vector<QaAnswer> answer_question(Loaded& m, const std::string& question, const std::string& context,
                                      int64_t top_k = 1, int64_t max_answer_len = 15);

struct ZeroShotResult {
  std::string sequence;
  std::vector<std::string> labels;  // best first
  std::vector<double> scores;
};
// The ids of the NLI labels whose names start with "entail" / "contradict" (case-insensitive)
// in config.label2id; -1 where absent.
std::pair<int64_t, int64_t> nli_label_ids(const bert::BertConfig& c);
ZeroShotResult zero_shot(Loaded& m, const std::string& text, const std::vector<std::string>& candidate_labels,
                         const std::string& hypothesis_template = "This example is {}.", bool multi_label = false);

// Display: the text with each entity in its type's ANSI colour (a legend line first), and a
// standalone HTML page with every text and its entities marked (all text HTML-escaped).
std::string render_ansi(const std::string& text, const std::vector<EntityGroup>& entities,
                        const std::vector<std::string>& types);
std::string render_html(const std::vector<std::string>& texts, const std::vector<std::vector<EntityGroup>>& entities,
                        const std::vector<std::string>& types);
std::string html_escape(std::string_view s);
// The entity types of a label list ("B-PER", "I-PER", "O" -> "PER"), in first-seen order.
std::vector<std::string> entity_types(const std::vector<std::string>& labels);

}  // namespace bertlab::tasks
