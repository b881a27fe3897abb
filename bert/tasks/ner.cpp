// bert/tasks/ner.cpp — see ner.h.
#include "bert/tasks/ner.h"

#include <map>
#include <set>

#include "autograd/tensor.h"
#include "bert/io.h"
#include "bert/tasks/text_file.h"

namespace bertlab::tasks {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::vector<std::string_view> columns(std::string_view l) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < l.size()) {
    while (i < l.size() && is_space(l[i])) ++i;
    size_t j = i;
    while (j < l.size() && !is_space(l[j])) ++j;
    if (j > i) out.push_back(l.substr(i, j - i));
    i = j;
  }
  return out;
}

// "en:" for "en:London": 2 or 3 lowercase letters and a colon, then at least one character
std::string lang_prefix(const std::string& w) {
  size_t colon = w.find(':');
  if (colon < 2 || colon > 3 || colon + 1 >= w.size()) return "";
  for (size_t i = 0; i < colon; ++i)
    if (w[i] < 'a' || w[i] > 'z') return "";
  return w.substr(0, colon + 1);
}

bool valid_tag(const std::string& t) {
  return t == "O" || (t.size() > 2 && (t[0] == 'B' || t[0] == 'I') && t[1] == '-');
}

}  // namespace

int64_t iob1_to_iob2(std::vector<std::string>& tags) {
  int64_t changed = 0;
  for (size_t i = 0; i < tags.size(); ++i) {
    if (tags[i].size() < 2 || tags[i][0] != 'I' || tags[i][1] != '-') continue;
    const std::string type = tags[i].substr(2);
    const bool continues = i > 0 && tags[i - 1].size() > 2 && tags[i - 1].substr(2) == type &&
                           (tags[i - 1][0] == 'B' || tags[i - 1][0] == 'I');
    if (!continues) {
      tags[i][0] = 'B';
      ++changed;
    }
  }
  return changed;
}

NerData read_conll(const std::string& path, LangPrefix prefix) { return parse_conll(bert::read_file(path), path, prefix); }

NerData parse_conll(const std::string& text, const std::string& path, LangPrefix prefix) {
  NerData d;
  d.path = path;
  int64_t line = 0;
  NerSentence cur;
  auto flush = [&] {
    if (!cur.words.empty()) d.sentences.push_back(std::move(cur));
    cur = NerSentence{};
  };
  for (std::string_view l : split_lines(text)) {
    ++line;
    std::vector<std::string_view> cols = columns(l);
    if (cols.empty()) {  // blank or whitespace-only: a sentence break
      flush();
      continue;
    }
    if (cols[0] == "-DOCSTART-") {
      flush();
      continue;
    }
    if (cols.size() < 2)
      fail(path + ":" + std::to_string(line) + ": expected a token and a tag separated by a space or tab, found '" +
           std::string(l.substr(0, 80)) + "'");
    std::string tag(cols.back());
    if (!valid_tag(tag))
      fail(path + ":" + std::to_string(line) + ": tag '" + tag + "' is not O, B-TYPE or I-TYPE (IOB1 or IOB2)");
    if (cur.words.empty()) cur.line = line;
    cur.words.emplace_back(cols[0]);
    cur.tags.push_back(std::move(tag));
  }
  flush();
  if (d.sentences.empty()) fail(path + ": no sentences (an empty CoNLL file)");

  // Language prefixes: strip when asked, or when every token carries the same one.
  if (prefix != LangPrefix::Keep) {
    std::string p = lang_prefix(d.sentences[0].words[0]);
    bool all = !p.empty();
    for (auto& s : d.sentences) {
      for (auto& w : s.words)
        if (w.size() <= p.size() || w.compare(0, p.size(), p) != 0) {
          all = false;
          break;
        }
      if (!all) break;
    }
    if (all) {
      for (auto& s : d.sentences)
        for (auto& w : s.words) w.erase(0, p.size());
      d.stripped_prefix = p;
    } else if (prefix == LangPrefix::Strip) {
      for (auto& s : d.sentences)
        for (auto& w : s.words) {
          std::string q = lang_prefix(w);
          if (!q.empty()) w.erase(0, q.size());
        }
      d.stripped_prefix = "xx:";
    }
  }
  for (auto& s : d.sentences) d.iob1_fixed += iob1_to_iob2(s.tags);
  return d;
}

std::vector<int64_t> align_word_labels(const std::vector<int32_t>& word_ids, const std::vector<int64_t>& word_labels) {
  std::vector<int64_t> out(word_ids.size(), -100);
  int32_t prev = -1;
  for (size_t t = 0; t < word_ids.size(); ++t) {
    const int32_t w = word_ids[t];
    if (w >= 0 && w != prev) {
      if (w >= (int32_t)word_labels.size())
        fail("align_word_labels: word " + std::to_string(w) + " has no label (" + std::to_string(word_labels.size()) +
             " labels)");
      out[t] = word_labels[(size_t)w];
    }
    prev = w;
  }
  return out;
}

std::vector<std::string> ner_label_list(const NerData& data) {
  std::set<std::string> s;
  for (auto& sent : data.sentences)
    for (auto& t : sent.tags) {
      s.insert(t);
      if (t != "O") s.insert("B-" + t.substr(2)), s.insert("I-" + t.substr(2));  // both tags of every type
    }
  return {s.begin(), s.end()};
}

NerFeatures ner_features(const tokenizer::BertTokenizer& tok, const NerData& data,
                         const std::vector<std::string>& label_names, int64_t max_length) {
  NerFeatures f;
  std::map<std::string, int64_t> ids;
  for (size_t i = 0; i < label_names.size(); ++i) ids[label_names[i]] = (int64_t)i;
  std::vector<tokenizer::EncodeInput> in(data.sentences.size());
  for (size_t i = 0; i < in.size(); ++i) {
    in[i].words = data.sentences[i].words;
    in[i].is_split_into_words = true;
  }
  tokenizer::EncodeOptions opt;
  opt.truncation = tokenizer::Truncation::kLongestFirst;
  opt.max_length = (size_t)max_length;
  f.encodings = tok.encode_batch(in, opt);
  for (size_t i = 0; i < in.size(); ++i) {
    const auto& e = f.encodings[i];
    int32_t last_word = -1;
    for (int32_t w : e.word_ids) last_word = std::max(last_word, w);
    if (last_word + 1 < (int32_t)data.sentences[i].words.size()) ++f.truncated;
    if (label_names.empty()) continue;
    const NerSentence& s = data.sentences[i];
    std::vector<int64_t> word_labels(s.tags.size());
    for (size_t w = 0; w < s.tags.size(); ++w) {
      auto it = ids.find(s.tags[w]);
      if (it == ids.end()) {
        std::string known;
        for (size_t k = 0; k < label_names.size(); ++k) known += (k ? ", " : "") + label_names[k];
        fail(data.path + ":" + std::to_string(s.line + (int64_t)w) + ": tag '" + s.tags[w] +
             "' is not in the label map (known: " + known + ")");
      }
      word_labels[w] = it->second;
    }
    f.labels.push_back(align_word_labels(e.word_ids, word_labels));
  }
  return f;
}

}  // namespace bertlab::tasks
