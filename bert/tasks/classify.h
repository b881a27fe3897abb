// bert/tasks/classify.h — text classification data (GLUE-style single sentences or pairs):
// readers for TSV, CSV and JSON lines, the label map, and the features a
// BertForSequenceClassification trains on. Follows transformers' examples/pytorch/
// text-classification/run_glue.py: labels sorted (numerically when they are all integers)
// into ids, text (and text pair) tokenized with truncation to max_length.
//
// Formats (chosen by --format or by the file's extension):
//   .tsv / .txt   tab-separated, no quoting (GLUE's files; SST-2: header `sentence\tlabel`)
//   .csv          RFC 4180: comma-separated, "quoted" fields with "" for a quote, newlines
//                 and commas allowed inside quotes, CRLF or LF
//   .jsonl/.json  one JSON object per line; labels may be strings or integers
// Columns are named (a header row) or numbered from 0. A TSV/CSV file has a header when its
// first row holds the label column's name; without a header the text is column 0, the label
// the last column, and with three or more columns the pair is column 1.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/bert_tokenizer.h"

namespace bertlab::tasks {

struct ClassifyColumns {
  std::string format;      // "tsv", "csv", "jsonl"; "" = from the extension
  std::string text;        // "" = the first of sentence, text, sentence1, question1, premise, content, review
  std::string pair;        // "" = the first of sentence2, question2, hypothesis if present, else none; "-" = none
  std::string label = "label";
};

struct ClassifyExample {
  std::string text;
  std::optional<std::string> pair;
  std::string label;  // as written in the file ("" when the file has no label column)
  int64_t line = 0;   // where the example starts (1-based), for messages
};

struct ClassifyData {
  std::string path;
  std::vector<ClassifyExample> examples;
  bool has_labels = true;
  std::string text_column, pair_column;  // what was used (names or numbers), for messages
};

// Reads a file; throws naming file:line for a malformed row, a missing column or an
// unreadable file, and naming the file when it holds no examples. `require_labels` = false
// allows files without a label column (prediction).
ClassifyData read_classify(const std::string& path, const ClassifyColumns& cols = {}, bool require_labels = true);
// The same from a file's text; `path` names it in messages and, without cols.format, gives the
// format by its extension. read_classify reads the file and calls this.
ClassifyData parse_classify(const std::string& text, const std::string& path, const ClassifyColumns& cols = {},
                            bool require_labels = true);

// Label name <-> id. ids are 0..n-1 in the order of `names`.
struct LabelMap {
  std::vector<std::string> names;
  std::map<std::string, int64_t> ids;

  static LabelMap from_names(const std::vector<std::string>& names);
  // The labels of a training set: unique, sorted (numerically when all are integers, which
  // may be negative and of any length), label i gets id i, as run_glue does: labels -1, 0
  // become ids 0, 1 (describe() says so). A mix of integers and names ("0", "1",
  // "positive") throws, naming where[i] ("train.tsv:7") of the first label of the odd kind
  // when `where` is given. With `rename` (e.g. {"negative", "positive"}) the labels must be
  // the integers 0..n-1 and label i is called rename[i].
  static LabelMap build(const std::vector<std::string>& labels, const std::vector<std::string>& rename = {},
                        const std::vector<std::string>& where = {});
  // The same over a file's examples, naming file:line in errors.
  static LabelMap build(const ClassifyData& data, const std::vector<std::string>& rename = {});
  int64_t size() const { return (int64_t)names.size(); }
  // The map as a line to print at the start of training: "-1 -> 0, 0 -> 1".
  std::string describe() const;
  // True when every label is already its own id ("0" -> 0, "1" -> 1, ...): nothing to report.
  bool is_identity() const;
  // The id of a label: its name, or an integer id in [0, n) when the names are not themselves
  // integers (a file with 0/1 against a map named negative/positive). Throws
  // "<where>: label 'x' is not in the label map (known: a, b)".
  int64_t id_of(const std::string& label, const std::string& where) const;
};

// Tokenized examples with their label ids: [CLS] text [SEP] (pair [SEP]), truncated to
// max_length (longest_first for pairs), no padding (batches pad to their longest).
struct ClassifyFeatures {
  std::vector<tokenizer::Encoding> encodings;
  std::vector<int64_t> labels;  // -1 where the data has no labels
  int64_t truncated = 0;        // examples that lost tokens to max_length
};
ClassifyFeatures classify_features(const tokenizer::BertTokenizer& tok, const ClassifyData& data,
                                   const LabelMap* labels, int64_t max_length);

}  // namespace bertlab::tasks
