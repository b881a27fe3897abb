// bert/tasks/ner.h — named-entity recognition data: CoNLL column files, IOB1 -> IOB2, and
// word labels aligned to WordPiece tokens. Follows transformers' examples/pytorch/
// token-classification/run_ner.py: the label list is the sorted set of training tags, the
// words are tokenized with is_split_into_words, the first sub-word of each word carries the
// word's label and every other sub-word and special token -100 (label_all_tokens=False), and
// predictions are read back from the first sub-words.
//
// Column files (CoNLL-2003, WNUT-17, WikiANN): one token a line, the token in the first
// column and the tag in the last, separated by spaces or tabs; a blank or whitespace-only
// line ends a sentence (WNUT-17 has lines holding a single tab); -DOCSTART- lines are
// skipped; WikiANN's language prefixes (`en:London`) are stripped when every token has the
// same one (or always / never, by option).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/bert_tokenizer.h"

namespace bertlab::tasks {

enum class LangPrefix { Auto, Strip, Keep };

struct NerSentence {
  std::vector<std::string> words, tags;
  int64_t line = 0;  // the line of its first token (1-based)
};

struct NerData {
  std::string path;
  std::vector<NerSentence> sentences;
  int64_t iob1_fixed = 0;      // I-X tags that began an entity and were rewritten B-X
  std::string stripped_prefix; // e.g. "en:" when one was removed
};

// Throws naming file:line for a line with one column or a tag that is not O, B-X or I-X, and
// naming the file when it holds no sentences.
NerData read_conll(const std::string& path, LangPrefix prefix = LangPrefix::Auto);
// The same from a file's text (`path` names it in messages); read_conll reads the file and calls this.
NerData parse_conll(const std::string& text, const std::string& path, LangPrefix prefix = LangPrefix::Auto);

// IOB1 -> IOB2 in place: an I-X that does not follow B-X or I-X becomes B-X. Valid IOB2 is
// left as it is, so this is safe on either. Returns the number of tags changed.
int64_t iob1_to_iob2(std::vector<std::string>& tags);

// Per-token labels from per-word labels: word_ids (T) from an Encoding (-1 for special
// tokens); the first token of each word gets word_labels[word], the rest -100.
std::vector<int64_t> align_word_labels(const std::vector<int32_t>& word_ids, const std::vector<int64_t>& word_labels);

// Token classification features: one Encoding per sentence (truncated to max_length) and its
// aligned labels (T). Words past the truncation get no label (they are scored as "O" by
// evaluation, which keeps the gold entities they hold in the count).
struct NerFeatures {
  std::vector<tokenizer::Encoding> encodings;
  std::vector<std::vector<int64_t>> labels;  // (T) per encoding; empty without label ids
  int64_t truncated = 0;                     // sentences that lost words to max_length
};
// label_names[i] is the tag of label id i (a tag missing from it throws, naming file:line);
// empty: no labels (prediction).
NerFeatures ner_features(const tokenizer::BertTokenizer& tok, const NerData& data,
                         const std::vector<std::string>& label_names, int64_t max_length);

// The sorted set of tags of a data set (run_ner.py's get_label_list), with B-X and I-X both
// present for every type X seen (a small training set may lack I-X that a dev set has).
std::vector<std::string> ner_label_list(const NerData& data);

}  // namespace bertlab::tasks
