// bert/tasks/classify.cpp — see classify.h.
#include "bert/tasks/classify.h"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "autograd/tensor.h"
#include "bert/io.h"
#include "bert/tasks/text_file.h"

namespace bertlab::tasks {

namespace {

using Row = std::vector<std::string>;
struct Record {
  Row fields;
  int64_t line;
};

std::string format_of(const std::string& path, const std::string& requested) {
  if (!requested.empty()) {
    if (requested == "tsv" || requested == "csv" || requested == "jsonl") return requested;
    fail("unknown data format '" + requested + "' (tsv, csv, jsonl)");
  }
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  if (ext == ".csv") return "csv";
  if (ext == ".jsonl" || ext == ".json" || ext == ".ndjson") return "jsonl";
  return "tsv";
}

// GLUE's TSV: fields split on tabs, no quoting; a trailing \r is dropped; empty lines skipped.
std::vector<Record> parse_tsv(const std::string& text) {
  std::vector<Record> out;
  int64_t line = 0;
  for (std::string_view l : split_lines(text)) {
    ++line;
    if (l.find_first_not_of(" \t") == std::string_view::npos) continue;
    Row r;
    size_t start = 0;
    while (true) {
      size_t tab = l.find('\t', start);
      r.emplace_back(l.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    out.push_back({std::move(r), line});
  }
  return out;
}

// RFC 4180 CSV: a quoted field may hold commas, quotes written "" and line breaks.
std::vector<Record> parse_csv(const std::string& text, const std::string& path) {
  std::vector<Record> out;
  Row row;
  std::string field;
  bool quoted = false, field_started = false, after_quote = false;
  int64_t line = 1, row_line = 1;
  auto end_field = [&] {
    row.push_back(std::move(field));
    field.clear();
    field_started = after_quote = false;
  };
  auto end_row = [&] {
    end_field();
    bool blank = row.size() == 1 && row[0].empty();
    if (!blank) out.push_back({std::move(row), row_line});
    row.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
          after_quote = true;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == ',') {
      end_field();
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_row();
      ++line;
      row_line = line;
    } else if (c == '"' && !field_started) {
      quoted = field_started = true;
    } else {
      if (after_quote)
        fail(path + ":" + std::to_string(line) + ": malformed CSV: text after a closing quote (write a quote inside a "
             "quoted field as \"\")");
      if (c == '"')
        fail(path + ":" + std::to_string(line) + ": malformed CSV: a quote inside an unquoted field (quote the field "
             "and write the quote as \"\")");
      field += c;
      field_started = true;
    }
  }
  if (quoted) fail(path + ":" + std::to_string(row_line) + ": malformed CSV: a quoted field is never closed");
  if (field_started || !row.empty()) end_row();
  return out;
}

const char* kTextNames[] = {"sentence", "text", "sentence1", "question1", "premise", "content", "review"};
const char* kPairNames[] = {"sentence2", "question2", "hypothesis"};

bool is_number(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// An integer label as run_glue's datasets would read it: digits with an optional '-'. Any
// length: a label is a name, and a long digit string is still an integer, not an error.
bool is_integer_label(const std::string& s) { return is_number(s[0] == '-' ? s.substr(1) : s); }

// a < b as integers, for labels of any length (no std::stoll, which throws out_of_range)
bool integer_less(const std::string& a, const std::string& b) {
  const bool na = a[0] == '-', nb = b[0] == '-';
  auto magnitude = [](const std::string& s) {
    std::string m = s[0] == '-' ? s.substr(1) : s;
    const size_t nz = m.find_first_not_of('0');
    return nz == std::string::npos ? std::string("0") : m.substr(nz);
  };
  const std::string ma = magnitude(a), mb = magnitude(b);
  const bool za = ma == "0", zb = mb == "0";
  const bool neg_a = na && !za, neg_b = nb && !zb;  // "-0" is 0
  if (neg_a != neg_b) return neg_a;
  const bool mag_less = ma.size() != mb.size() ? ma.size() < mb.size() : ma < mb;
  const bool mag_equal = ma == mb;
  if (mag_equal) return a < b;  // "1" and "01": different labels, any fixed order
  return neg_a ? !mag_less : mag_less;
}

// The value of a non-negative integer label below `limit`, or -1 when it is not one.
int64_t small_id(const std::string& s, int64_t limit) {
  if (!is_number(s)) return -1;
  const size_t nz = s.find_first_not_of('0');
  const std::string m = nz == std::string::npos ? "0" : s.substr(nz);
  if (m.size() > 18) return -1;  // above any label count
  const int64_t v = std::stoll(m);
  return v < limit ? v : -1;
}

}  // namespace

ClassifyData read_classify(const std::string& path, const ClassifyColumns& cols, bool require_labels) {
  return parse_classify(bert::read_file(path), path, cols, require_labels);
}

ClassifyData parse_classify(const std::string& text, const std::string& path, const ClassifyColumns& cols,
                            bool require_labels) {
  ClassifyData d;
  d.path = path;
  const std::string fmt = format_of(path, cols.format);

  if (fmt == "jsonl") {
    int64_t line = 0;
    std::string text_key = cols.text, pair_key = cols.pair == "-" ? "" : cols.pair;
    bool resolved = false;
    for (std::string_view l : split_lines(text)) {
      ++line;
      if (l.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      const std::string where = path + ":" + std::to_string(line);
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(l);
      } catch (const nlohmann::json::exception& e) {  // also out_of_range: a number too large for a double (1e+600)
        fail(where + ": invalid JSON: " + bert::json_error_text(e));
      }
      if (!j.is_object()) fail(where + ": expected a JSON object per line");
      if (!resolved) {
        if (text_key.empty())
          for (const char* n : kTextNames)
            if (j.contains(n)) {
              text_key = n;
              break;
            }
        if (text_key.empty()) fail(where + ": no text field (looked for sentence, text, ...; name it with --text-column)");
        if (cols.pair.empty())
          for (const char* n : kPairNames)
            if (j.contains(n)) {
              pair_key = n;
              break;
            }
        if (require_labels && !j.contains(cols.label)) fail(where + ": no '" + cols.label + "' field (--label-column)");
        d.has_labels = j.contains(cols.label);
        d.text_column = text_key;
        d.pair_column = pair_key;
        resolved = true;
      }
      ClassifyExample ex;
      ex.line = line;
      auto str = [&](const std::string& key, bool required) -> std::optional<std::string> {
        if (!j.contains(key)) {
          if (required) fail(where + ": no '" + key + "' field");
          return std::nullopt;
        }
        const auto& v = j[key];
        if (v.is_string()) return v.get<std::string>();
        if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());  // get<int64_t> wraps above 2^63
        if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
        if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
        fail(where + ": field '" + key + "' must be a string or an integer, got " + v.dump());
      };
      ex.text = *str(text_key, true);
      if (!pair_key.empty()) ex.pair = *str(pair_key, true);
      if (d.has_labels) ex.label = *str(cols.label, true);
      d.examples.push_back(std::move(ex));
    }
  } else {
    std::vector<Record> rows = fmt == "csv" ? parse_csv(text, path) : parse_tsv(text);
    if (rows.empty()) fail(path + ": no examples (the file is empty)");
    // A header names the label column (or, for unlabelled data, the text column).
    const Row& first = rows[0].fields;
    auto find = [&](const std::string& name) -> int {
      for (size_t i = 0; i < first.size(); ++i)
        if (first[i] == name) return (int)i;
      return -1;
    };
    bool header = find(cols.label) >= 0;
    if (!header && !cols.text.empty() && !is_number(cols.text) && find(cols.text) >= 0) header = true;
    if (!header && !require_labels)
      for (const char* n : kTextNames)
        if (find(n) >= 0) header = true;
    const size_t ncols = first.size();
    auto column = [&](const std::string& spec, const char* what) -> int {
      if (is_number(spec)) {
        // a number of more than 9 digits is past any row (and past std::stoi's range)
        int c = spec.size() > 9 ? INT_MAX : std::stoi(spec);
        if (c >= (int)ncols)
          fail(path + ": " + what + " column " + spec + " does not exist (rows have " + std::to_string(ncols) + ")");
        return c;
      }
      if (!header) fail(path + ": " + what + " column '" + spec + "' named, but the file has no header row");
      int c = find(spec);
      if (c < 0) fail(path + ":" + std::to_string(rows[0].line) + ": no column '" + spec + "' in the header");
      return c;
    };
    int text_col = -1, pair_col = -1, label_col = -1;
    if (header) {
      label_col = find(cols.label);
      if (label_col < 0 && require_labels)
        fail(path + ":1: no column '" + cols.label + "' in the header (--label-column)");
      if (!cols.text.empty()) {
        text_col = column(cols.text, "text");
      } else {
        for (const char* n : kTextNames)
          if ((text_col = find(n)) >= 0) break;
        if (text_col < 0) fail(path + ":1: no text column (looked for sentence, text, ...; name it with --text-column)");
      }
      if (cols.pair != "-") {
        if (!cols.pair.empty()) pair_col = column(cols.pair, "pair");
        else
          for (const char* n : kPairNames)
            if ((pair_col = find(n)) >= 0) break;
      }
    } else {
      if (ncols < 2 && require_labels)
        fail(path + ":" + std::to_string(rows[0].line) + ": expected a text and a label column, found one column");
      text_col = cols.text.empty() ? 0 : column(cols.text, "text");
      label_col = require_labels || ncols >= 2 ? (int)ncols - 1 : -1;
      if (require_labels && is_number(cols.label)) label_col = column(cols.label, "label");
      if (cols.pair == "-") pair_col = -1;
      else if (!cols.pair.empty()) pair_col = column(cols.pair, "pair");
      else if (ncols >= 3) pair_col = 1;
    }
    d.has_labels = label_col >= 0;
    d.text_column = header ? first[text_col] : std::to_string(text_col);
    d.pair_column = pair_col < 0 ? "" : header ? first[pair_col] : std::to_string(pair_col);
    for (size_t r = header ? 1 : 0; r < rows.size(); ++r) {
      const Record& rec = rows[r];
      if (rec.fields.size() != ncols)
        fail(path + ":" + std::to_string(rec.line) + ": expected " + std::to_string(ncols) + " columns, found " +
             std::to_string(rec.fields.size()) + (fmt == "tsv" ? " (fields are separated by tabs)" : ""));
      ClassifyExample ex;
      ex.line = rec.line;
      ex.text = rec.fields[text_col];
      if (pair_col >= 0) ex.pair = rec.fields[pair_col];
      if (label_col >= 0) ex.label = rec.fields[label_col];
      if (d.has_labels && ex.label.empty())
        fail(path + ":" + std::to_string(rec.line) + ": empty label");
      d.examples.push_back(std::move(ex));
    }
  }
  if (d.examples.empty()) fail(path + ": no examples");
  return d;
}

LabelMap LabelMap::from_names(const std::vector<std::string>& names) {
  LabelMap m;
  for (const std::string& n : names) {
    if (m.ids.count(n)) fail("label '" + n + "' appears twice in the label map");
    m.ids[n] = (int64_t)m.names.size();
    m.names.push_back(n);
  }
  return m;
}

LabelMap LabelMap::build(const std::vector<std::string>& labels, const std::vector<std::string>& rename,
                         const std::vector<std::string>& where) {
  std::set<std::string> uniq(labels.begin(), labels.end());
  std::vector<std::string> names(uniq.begin(), uniq.end());
  if (names.empty()) fail("no labels to build a label map from");
  // All integers or all names: a file with "0", "1" and "positive" is a mistake (run_glue
  // would fail to cast the column), not three classes.
  const bool numeric = is_integer_label(labels.front());  // the first label in file order sets the kind
  for (size_t i = 0; i < labels.size(); ++i)
    if (is_integer_label(labels[i]) != numeric) {
      size_t other = 0;  // the first label of the other kind, for the message
      while (is_integer_label(labels[other]) != numeric) ++other;
      const std::string at = i < where.size() ? where[i] + ": " : "";
      const std::string other_at = other < where.size() ? " (" + where[other] + ")" : "";
      fail(at + "label '" + labels[i] + "' is " + (numeric ? "a name" : "an integer") + ", but label '" + labels[other] +
           "'" + other_at + " is " + (numeric ? "an integer" : "a name") +
           ": the labels must be all integers or all names");
    }
  // As run_glue: the sorted labels get ids 0..n-1 (so -1, 0 become 0, 1; see describe()).
  if (numeric) std::sort(names.begin(), names.end(), integer_less);
  if (!rename.empty()) {
    if (!numeric) fail("--label-names renames integer labels 0..n-1, but the labels are names: " + names.front() + ", ...");
    for (size_t i = 0; i < names.size(); ++i)
      if (small_id(names[i], (int64_t)rename.size()) < 0)
        fail("--label-names gives " + std::to_string(rename.size()) + " names, but the data has label " + names[i]);
    if (names.size() > rename.size()) fail("--label-names gives fewer names than there are labels");
    return from_names(rename);
  }
  return from_names(names);
}

LabelMap LabelMap::build(const ClassifyData& data, const std::vector<std::string>& rename) {
  std::vector<std::string> labels, where;
  for (const auto& e : data.examples) {
    labels.push_back(e.label);
    where.push_back(data.path + ":" + std::to_string(e.line));
  }
  return build(labels, rename, where);
}

std::string LabelMap::describe() const {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + names[i] + " -> " + std::to_string(i);
  return s;
}

bool LabelMap::is_identity() const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] != std::to_string(i)) return false;
  return true;
}

int64_t LabelMap::id_of(const std::string& label, const std::string& where) const {
  auto it = ids.find(label);
  if (it != ids.end()) return it->second;
  // an integer id against named labels; never against integer labels (-1, 0 with "1")
  if (!std::any_of(names.begin(), names.end(), is_integer_label)) {
    const int64_t v = small_id(label, size());
    if (v >= 0) return v;
  }
  std::string known;
  for (size_t i = 0; i < names.size() && i < 20; ++i) known += (i ? ", " : "") + names[i];
  if (names.size() > 20) known += ", ...";
  fail(where + ": label '" + label + "' is not in the label map (known: " + known + ")");
}

ClassifyFeatures classify_features(const tokenizer::BertTokenizer& tok, const ClassifyData& data, const LabelMap* labels,
                                   int64_t max_length) {
  ClassifyFeatures f;
  std::vector<tokenizer::EncodeInput> in(data.examples.size());
  for (size_t i = 0; i < in.size(); ++i) {
    in[i].text = data.examples[i].text;
    if (data.examples[i].pair) in[i].pair = std::string_view(*data.examples[i].pair);
  }
  tokenizer::EncodeOptions opt;  // first without truncation, to count what truncation cuts
  f.encodings = tok.encode_batch(in, opt);
  opt.truncation = tokenizer::Truncation::kLongestFirst;
  opt.max_length = (size_t)max_length;
  for (size_t i = 0; i < in.size(); ++i) {
    if ((int64_t)f.encodings[i].size() <= max_length) continue;
    ++f.truncated;
    f.encodings[i] = tok.encode(in[i], opt);
  }
  f.labels.assign(in.size(), -1);
  if (labels && data.has_labels)
    for (size_t i = 0; i < in.size(); ++i)
      f.labels[i] = labels->id_of(data.examples[i].label, data.path + ":" + std::to_string(data.examples[i].line));
  return f;
}

}  // namespace bertlab::tasks
