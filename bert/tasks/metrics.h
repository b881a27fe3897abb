// bert/tasks/metrics.h — the scores fine-tuning reports: accuracy and binary F1 (GLUE, as
// scikit-learn's accuracy_score / f1_score(average="binary")), entity-level precision /
// recall / F1 for NER (seqeval 1.2: its default mode is conlleval's chunking, its strict
// mode with scheme=IOB2 counts only well-formed B-X I-X* spans), and SQuAD v1.1 exact match
// and F1 (the official evaluate-v1.1.py, normalisation included).
//
// Checked against seqeval and the official script by tests/tasks/test_metrics.cpp on golden
// files made by tools/make_tasks_golden.py.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bertlab::tasks {

// --- classification -------------------------------------------------------------------

// fraction of i with pred[i] == gold[i]; sizes must match (throws otherwise); 0 when empty.
double accuracy(const std::vector<int64_t>& pred, const std::vector<int64_t>& gold);

struct PRF {
  double precision = 0, recall = 0, f1 = 0;
  int64_t predicted = 0, gold = 0, correct = 0;  // counts behind them
};
// F1 of the class `positive`: tp / (tp + fp), tp / (tp + fn), their harmonic mean; 0 where a
// denominator is 0 (scikit-learn's zero_division=0).
PRF binary_f1(const std::vector<int64_t>& pred, const std::vector<int64_t>& gold, int64_t positive = 1);
// p, r -> 2pr / (p + r), 0 when p + r = 0; fills precision/recall/f1 from the counts.
PRF prf_from_counts(int64_t correct, int64_t predicted, int64_t gold);

// --- NER ------------------------------------------------------------------------------

// An entity: a type and an inclusive token span [first, last] in sentence `sentence`.
struct Entity {
  int64_t sentence = 0;
  std::string type;
  int64_t first = 0, last = 0;
  auto operator<=>(const Entity&) const = default;
};

// seqeval.metrics.sequence_labeling.get_entities (= conlleval): chunks of one sentence's
// tags. A chunk starts at B-X, at I-X after O or after a different type, and ends where the
// next tag does not continue it. Accepts IOB1, IOB2, IOE and IOBES tags.
std::vector<Entity> entities_conlleval(const std::vector<std::string>& tags, int64_t sentence = 0);
// seqeval strict mode, scheme IOB2 (seqeval.scheme.Tokens.entities): B-X followed by I-X*;
// an I-X that does not continue a B-X (or I-X) of the same type is no entity. Throws for a
// tag whose prefix is not B, I or O (seqeval raises too).
std::vector<Entity> entities_iob2_strict(const std::vector<std::string>& tags, int64_t sentence = 0);

enum class NerMode { Conlleval, StrictIob2 };

struct NerScores {
  PRF overall;                          // micro-averaged over entities
  std::map<std::string, PRF> per_type;  // by entity type, every type in gold or predictions
  double token_accuracy = 0;            // seqeval accuracy_score: equal tags / all tags
};
// Sentences of gold and predicted tags (same lengths, else throws naming the sentence).
NerScores ner_scores(const std::vector<std::vector<std::string>>& gold,
                     const std::vector<std::vector<std::string>>& pred, NerMode mode = NerMode::Conlleval);

// --- SQuAD v1.1 -----------------------------------------------------------------------

// evaluate-v1.1.py normalize_answer: lowercase, drop ASCII punctuation (string.punctuation),
// replace the whole words a / an / the by a space, collapse whitespace. Lowercasing is per
// code point (utf8proc's simple mapping; Python's str.lower differs only for a few letters
// such as U+0130).
std::string squad_normalize(std::string_view s);
bool squad_exact_match(std::string_view prediction, std::string_view truth);
// Token F1 of the normalised strings (bag of words); 0 when nothing is shared.
double squad_f1(std::string_view prediction, std::string_view truth);

struct SquadScores {
  double exact_match = 0, f1 = 0;  // in percent, as evaluate-v1.1.py prints them
  int64_t total = 0;               // questions in the gold set
  int64_t unanswered = 0;          // gold questions without a prediction (count as 0)
};
// Each question scores the maximum over its gold answers; questions are those of `gold`.
SquadScores squad_evaluate(const std::map<std::string, std::vector<std::string>>& gold,
                           const std::map<std::string, std::string>& predictions);

}  // namespace bertlab::tasks
