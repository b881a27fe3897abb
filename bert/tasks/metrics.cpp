// bert/tasks/metrics.cpp — see metrics.h. The NER chunking is a line-by-line port of
// seqeval 1.2.2 (sequence_labeling.py: get_entities, end_of_chunk, start_of_chunk;
// scheme.py: IOB2, Tokens.entities); SQuAD is evaluate-v1.1.py.
#include "bert/tasks/metrics.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <set>

#include "autograd/tensor.h"

namespace bertlab::tasks {

// --- classification -------------------------------------------------------------------

double accuracy(const std::vector<int64_t>& pred, const std::vector<int64_t>& gold) {
  if (pred.size() != gold.size())
    fail("accuracy: " + std::to_string(pred.size()) + " predictions for " + std::to_string(gold.size()) + " labels");
  if (gold.empty()) return 0.0;
  int64_t ok = 0;
  for (size_t i = 0; i < gold.size(); ++i) ok += pred[i] == gold[i];
  return (double)ok / (double)gold.size();
}

PRF prf_from_counts(int64_t correct, int64_t predicted, int64_t gold) {
  PRF r;
  r.correct = correct;
  r.predicted = predicted;
  r.gold = gold;
  r.precision = predicted ? (double)correct / (double)predicted : 0.0;
  r.recall = gold ? (double)correct / (double)gold : 0.0;
  r.f1 = r.precision + r.recall > 0 ? 2 * r.precision * r.recall / (r.precision + r.recall) : 0.0;
  return r;
}

PRF binary_f1(const std::vector<int64_t>& pred, const std::vector<int64_t>& gold, int64_t positive) {
  if (pred.size() != gold.size())
    fail("binary_f1: " + std::to_string(pred.size()) + " predictions for " + std::to_string(gold.size()) + " labels");
  int64_t tp = 0, p = 0, g = 0;
  for (size_t i = 0; i < gold.size(); ++i) {
    p += pred[i] == positive;
    g += gold[i] == positive;
    tp += pred[i] == positive && gold[i] == positive;
  }
  return prf_from_counts(tp, p, g);
}

// --- NER ------------------------------------------------------------------------------

namespace {

// seqeval: tag = chunk[0]; type = chunk[1:].split('-', maxsplit=1)[-1] or '_'
void split_tag(const std::string& chunk, char& tag, std::string& type) {
  tag = chunk.empty() ? 'O' : chunk[0];
  std::string rest = chunk.size() > 1 ? chunk.substr(1) : "";
  size_t dash = rest.find('-');
  type = dash == std::string::npos ? rest : rest.substr(dash + 1);
  if (type.empty()) type = "_";
}

bool end_of_chunk(char prev_tag, char tag, const std::string& prev_type, const std::string& type) {
  bool end = false;
  if (prev_tag == 'E' || prev_tag == 'S') end = true;
  if (prev_tag == 'B' && (tag == 'B' || tag == 'S' || tag == 'O')) end = true;
  if (prev_tag == 'I' && (tag == 'B' || tag == 'S' || tag == 'O')) end = true;
  if (prev_tag != 'O' && prev_tag != '.' && prev_type != type) end = true;
  return end;
}

bool start_of_chunk(char prev_tag, char tag, const std::string& prev_type, const std::string& type) {
  bool start = false;
  if (tag == 'B' || tag == 'S') start = true;
  if (prev_tag == 'E' && (tag == 'E' || tag == 'I')) start = true;
  if (prev_tag == 'S' && (tag == 'E' || tag == 'I')) start = true;
  if (prev_tag == 'O' && (tag == 'E' || tag == 'I')) start = true;
  if (tag != 'O' && tag != '.' && prev_type != type) start = true;
  return start;
}

}  // namespace

std::vector<Entity> entities_conlleval(const std::vector<std::string>& tags, int64_t sentence) {
  std::vector<Entity> out;
  char prev_tag = 'O';
  std::string prev_type;  // '' at the start, as seqeval
  int64_t begin = 0;
  const int64_t n = (int64_t)tags.size();
  for (int64_t i = 0; i <= n; ++i) {  // one extra 'O' closes the last chunk
    char tag;
    std::string type;
    split_tag(i < n ? tags[i] : std::string("O"), tag, type);
    if (end_of_chunk(prev_tag, tag, prev_type, type)) out.push_back({sentence, prev_type, begin, i - 1});
    if (start_of_chunk(prev_tag, tag, prev_type, type)) begin = i;
    prev_tag = tag;
    prev_type = type;
  }
  return out;
}

std::vector<Entity> entities_iob2_strict(const std::vector<std::string>& tags, int64_t sentence) {
  // seqeval's IOB2 Token: prefix = token[0], tag = token[1:].strip('-') or '_'
  auto prefix = [&](size_t i) -> char {
    const std::string& t = tags[i];
    char p = t.empty() ? '?' : t[0];
    if (p != 'B' && p != 'I' && p != 'O') fail("seqeval strict IOB2: invalid tag '" + t + "' (prefix must be B, I or O)");
    return p;
  };
  auto type = [&](size_t i) {
    std::string t = tags[i].substr(1);
    size_t a = t.find_first_not_of('-'), b = t.find_last_not_of('-');
    t = a == std::string::npos ? "" : t.substr(a, b - a + 1);
    return t.empty() ? std::string("_") : t;
  };
  std::vector<Entity> out;
  const size_t n = tags.size();
  size_t i = 0;
  while (i < n) {
    if (prefix(i) != 'B') {
      ++i;
      continue;
    }
    const std::string ty = type(i);
    size_t j = i + 1;
    while (j < n && prefix(j) == 'I' && type(j) == ty) ++j;  // inside: B/I -> I of the same type
    out.push_back({sentence, ty, (int64_t)i, (int64_t)j - 1});
    i = j;
  }
  return out;
}

NerScores ner_scores(const std::vector<std::vector<std::string>>& gold, const std::vector<std::vector<std::string>>& pred,
                     NerMode mode) {
  if (gold.size() != pred.size())
    fail("ner_scores: " + std::to_string(pred.size()) + " predicted sentences for " + std::to_string(gold.size()));
  std::set<Entity> g, p;
  int64_t tokens = 0, equal = 0;
  for (size_t s = 0; s < gold.size(); ++s) {
    if (gold[s].size() != pred[s].size())
      fail("ner_scores: sentence " + std::to_string(s) + " has " + std::to_string(gold[s].size()) + " gold tags and " +
           std::to_string(pred[s].size()) + " predicted");
    for (size_t i = 0; i < gold[s].size(); ++i) equal += gold[s][i] == pred[s][i];
    tokens += (int64_t)gold[s].size();
    auto get = [&](const std::vector<std::string>& t) {
      return mode == NerMode::Conlleval ? entities_conlleval(t, (int64_t)s) : entities_iob2_strict(t, (int64_t)s);
    };
    for (auto& e : get(gold[s])) g.insert(e);
    for (auto& e : get(pred[s])) p.insert(e);
  }
  NerScores r;
  r.token_accuracy = tokens ? (double)equal / (double)tokens : 0.0;
  std::map<std::string, std::array<int64_t, 3>> by_type;  // correct, predicted, gold
  int64_t correct = 0;
  for (auto& e : p) {
    by_type[e.type][1]++;
    if (g.count(e)) {
      by_type[e.type][0]++;
      ++correct;
    }
  }
  for (auto& e : g) by_type[e.type][2]++;
  r.overall = prf_from_counts(correct, (int64_t)p.size(), (int64_t)g.size());
  for (auto& [t, c] : by_type) r.per_type[t] = prf_from_counts(c[0], c[1], c[2]);
  return r;
}

// --- SQuAD v1.1 -----------------------------------------------------------------------

namespace {

std::vector<utf8proc_int32_t> decode_utf8(std::string_view s) {
  std::vector<utf8proc_int32_t> cps;
  cps.reserve(s.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t left = (utf8proc_ssize_t)s.size();
  while (left > 0) {
    utf8proc_int32_t c;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &c);
    if (n <= 0) {  // invalid byte: keep it as U+FFFD and move on
      c = 0xFFFD;
      n = 1;
    }
    cps.push_back(c);
    p += n;
    left -= n;
  }
  return cps;
}

void append_utf8(std::string& out, utf8proc_int32_t c) {
  utf8proc_uint8_t buf[4];
  utf8proc_ssize_t n = utf8proc_encode_char(c, buf);
  out.append(reinterpret_cast<const char*>(buf), (size_t)n);
}

// Python's str.isspace()
bool py_space(utf8proc_int32_t c) {
  if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680) return true;
  if ((c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000)
    return true;
  return false;
}

// Python's re \w on str: alphanumeric (letters L*, numbers N*) or '_'
bool py_word(utf8proc_int32_t c) {
  if (c == '_') return true;
  switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

// string.punctuation
bool ascii_punct(utf8proc_int32_t c) {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}

std::vector<std::string> normalized_tokens(std::string_view s) {
  std::vector<std::string> out;
  std::string norm = squad_normalize(s), cur;
  for (char ch : norm) {  // normalised text has single ASCII spaces between tokens
    if (ch == ' ') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

std::string squad_normalize(std::string_view s) {
  // lower, then remove_punc
  std::vector<utf8proc_int32_t> cps;
  for (utf8proc_int32_t c : decode_utf8(s)) {
    c = utf8proc_tolower(c);
    if (!ascii_punct(c)) cps.push_back(c);
  }
  // remove_articles: re.sub(r'\b(a|an|the)\b', ' ', text) — an article matches exactly when it
  // is a whole run of word characters
  std::vector<utf8proc_int32_t> no_articles;
  for (size_t i = 0; i < cps.size();) {
    if (!py_word(cps[i])) {
      no_articles.push_back(cps[i++]);
      continue;
    }
    size_t j = i;
    while (j < cps.size() && py_word(cps[j])) ++j;
    const size_t n = j - i;
    const bool article = (n == 1 && cps[i] == 'a') || (n == 2 && cps[i] == 'a' && cps[i + 1] == 'n') ||
                         (n == 3 && cps[i] == 't' && cps[i + 1] == 'h' && cps[i + 2] == 'e');
    if (article) no_articles.push_back(' ');
    else no_articles.insert(no_articles.end(), cps.begin() + (long)i, cps.begin() + (long)j);
    i = j;
  }
  // white_space_fix: ' '.join(text.split())
  std::string out;
  bool pending_space = false;
  for (utf8proc_int32_t c : no_articles) {
    if (py_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    append_utf8(out, c);
  }
  return out;
}

bool squad_exact_match(std::string_view prediction, std::string_view truth) {
  return squad_normalize(prediction) == squad_normalize(truth);
}

double squad_f1(std::string_view prediction, std::string_view truth) {
  std::vector<std::string> p = normalized_tokens(prediction), g = normalized_tokens(truth);
  std::map<std::string, int64_t> gc;
  for (auto& t : g) gc[t]++;
  int64_t same = 0;
  for (auto& t : p) {
    auto it = gc.find(t);
    if (it != gc.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  if (same == 0) return 0.0;
  double precision = (double)same / (double)p.size(), recall = (double)same / (double)g.size();
  return 2 * precision * recall / (precision + recall);
}

SquadScores squad_evaluate(const std::map<std::string, std::vector<std::string>>& gold,
                           const std::map<std::string, std::string>& predictions) {
  SquadScores r;
  double em = 0, f1 = 0;
  for (auto& [id, answers] : gold) {
    ++r.total;
    auto it = predictions.find(id);
    if (it == predictions.end()) {
      ++r.unanswered;
      continue;
    }
    double best_em = 0, best_f1 = 0;
    for (auto& a : answers) {
      best_em = std::max(best_em, squad_exact_match(it->second, a) ? 1.0 : 0.0);
      best_f1 = std::max(best_f1, squad_f1(it->second, a));
    }
    em += best_em;
    f1 += best_f1;
  }
  if (r.total) {
    r.exact_match = 100.0 * em / (double)r.total;
    r.f1 = 100.0 * f1 / (double)r.total;
  }
  return r;
}

}  // namespace bertlab::tasks
