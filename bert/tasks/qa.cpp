// bert/tasks/qa.cpp — see qa.h.
#include "bert/tasks/qa.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>

#include "autograd/tensor.h"
#include "bert/io.h"

namespace bertlab::tasks {

int64_t length_cp(const std::string& s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// byte offset of code point `cp` (s.size() when past the end)
static size_t byte_of_cp(const std::string& s, int64_t cp) {
  int64_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (((unsigned char)s[i] & 0xC0) != 0x80) {
      if (n == cp) return i;
      ++n;
    }
  }
  return s.size();
}

std::string substr_cp(const std::string& s, int64_t start, int64_t end) {
  if (end <= start) return "";
  size_t b = byte_of_cp(s, start), e = byte_of_cp(s, end);
  return s.substr(b, e - b);
}

void QaOptions::validate() const {
  auto at_least = [](const char* flag, int64_t v, int64_t lo) {
    if (v < lo) fail(std::string(flag) + " must be at least " + std::to_string(lo) + ", got " + std::to_string(v));
  };
  auto at_most = [](const char* flag, int64_t v, int64_t hi, const std::string& what) {
    if (v > hi) fail(std::string(flag) + " must be at most " + what + ", got " + std::to_string(v));
  };
  at_least("--max-length", max_seq_length, 4);
  at_most("--max-length", max_seq_length, int64_t(1) << 20, "1048576");
  at_least("--doc-stride", doc_stride, 0);
  at_most("--doc-stride", doc_stride, max_seq_length - 1, "--max-length - 1 (" + std::to_string(max_seq_length - 1) + ")");
  at_least("--max-query-length", max_query_length, 1);
  at_least("--n-best", n_best, 1);
  at_most("--n-best", n_best, 1000000, "1000000");
  at_least("--max-answer-length", max_answer_length, 1);
}

std::vector<SquadExample> read_squad(const std::string& path, bool require_answers) {
  return parse_squad(bert::read_file(path), path, require_answers);
}

std::vector<SquadExample> parse_squad(std::string_view text, const std::string& path, bool require_answers) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // also out_of_range: a number too large for a double (1e+600)
    fail(path + ": invalid JSON: " + bert::json_error_text(e));
  }
  std::vector<SquadExample> out;
  auto str = [&](const nlohmann::json& o, const char* key, const std::string& where) -> std::string {
    if (!o.is_object() || !o.contains(key) || !o[key].is_string())
      fail(path + ": " + where + ": missing or non-string \"" + key + "\" (SQuAD v1.1 format)");
    return o[key].get<std::string>();
  };
  if (!j.is_object() || !j.contains("data") || !j["data"].is_array())
    fail(path + ": not SQuAD JSON (expected an object with a \"data\" array)");
  for (size_t a = 0; a < j["data"].size(); ++a) {
    const auto& article = j["data"][a];
    const std::string art_where = "data[" + std::to_string(a) + "]";
    if (!article.is_object() || !article.contains("paragraphs") || !article["paragraphs"].is_array())
      fail(path + ": " + art_where + ": missing \"paragraphs\" array");
    const std::string title = article.contains("title") && article["title"].is_string() ? article["title"].get<std::string>() : "";
    for (size_t p = 0; p < article["paragraphs"].size(); ++p) {
      const auto& para = article["paragraphs"][p];
      const std::string where = art_where + ".paragraphs[" + std::to_string(p) + "]";
      const std::string context = str(para, "context", where);
      const int64_t context_len = length_cp(context);
      if (!para.contains("qas") || !para["qas"].is_array()) fail(path + ": " + where + ": missing \"qas\" array");
      for (const auto& qa : para["qas"]) {
        SquadExample ex;
        ex.id = str(qa, "id", where + ".qas");
        ex.question = str(qa, "question", "question " + ex.id);
        ex.context = context;
        ex.title = title;
        if (qa.contains("answers")) {
          if (!qa["answers"].is_array()) fail(path + ": question " + ex.id + ": \"answers\" must be an array");
          for (const auto& ans : qa["answers"]) {
            SquadAnswer an;
            an.text = str(ans, "text", "question " + ex.id + " answer");
            if (!ans.contains("answer_start") || !ans["answer_start"].is_number_integer())
              fail(path + ": question " + ex.id + ": an answer has no integer \"answer_start\"");
            const nlohmann::json& js = ans["answer_start"];
            const int64_t len = length_cp(an.text);
            // start + len <= context_len, written so that no sum can overflow (an unsigned
            // start above 2^63 - 1 would wrap negative through get<int64_t>)
            const bool inside = js.is_number_unsigned() ? js.get<uint64_t>() <= (uint64_t)context_len &&
                                                              (int64_t)js.get<uint64_t>() <= context_len - len
                                                        : js.get<int64_t>() >= 0 && js.get<int64_t>() <= context_len - len;
            if (!inside)
              fail(path + ": question " + ex.id + ": answer_start " + js.dump() + " + " + std::to_string(len) +
                   " characters lies outside its context (" + std::to_string(context_len) + " characters)");
            an.start = js.get<int64_t>();
            ex.answers.push_back(std::move(an));
          }
        }
        if (require_answers && ex.answers.empty())
          fail(path + ": question " + ex.id + " has no answers (SQuAD v1.1 training and evaluation need one)");
        out.push_back(std::move(ex));
      }
    }
  }
  if (out.empty()) fail(path + ": no questions");
  return out;
}

std::map<std::string, std::vector<std::string>> squad_gold(const std::vector<SquadExample>& examples) {
  std::map<std::string, std::vector<std::string>> g;
  for (auto& ex : examples)
    for (auto& a : ex.answers) g[ex.id].push_back(a.text);
  return g;
}

// Python's str.lstrip() for the ASCII whitespace SQuAD questions start with.
static std::string lstrip(const std::string& s) {
  size_t i = s.find_first_not_of(" \t\n\r\f\v");
  return i == std::string::npos ? "" : s.substr(i);
}

std::vector<QaFeature> qa_features(const tokenizer::BertTokenizer& tok, const std::vector<SquadExample>& examples,
                                   const QaOptions& opt, bool train) {
  opt.validate();
  std::vector<std::vector<QaFeature>> per_example(examples.size());
  std::string error;
#pragma omp parallel for schedule(dynamic, 16)
  for (size_t i = 0; i < examples.size(); ++i) {
    try {
      const SquadExample& ex = examples[i];
      std::string question = lstrip(ex.question);
      // the question cut to max_query_length tokens (at the end of its last kept token)
      tokenizer::EncodeOptions qo;
      qo.add_special_tokens = false;
      qo.offsets = tokenizer::OffsetUnit::kBytes;
      tokenizer::Encoding q = tok.encode(question, qo);
      if ((int64_t)q.size() > opt.max_query_length) {
        question = question.substr(0, q.offsets[(size_t)opt.max_query_length - 1].second);
        q.ids.resize((size_t)opt.max_query_length);
      }
      if ((int64_t)q.size() + 3 + opt.doc_stride >= opt.max_seq_length)
        fail("question " + ex.id + ": " + std::to_string(q.size()) + " question tokens + 3 special tokens + doc_stride " +
             std::to_string(opt.doc_stride) + " leave no room in max_seq_length " + std::to_string(opt.max_seq_length) +
             " (lower --doc-stride or raise --max-length)");
      tokenizer::EncodeOptions eo;
      eo.truncation = tokenizer::Truncation::kOnlySecond;
      eo.max_length = (size_t)opt.max_seq_length;
      eo.stride = (size_t)opt.doc_stride;
      eo.return_overflowing_tokens = true;
      tokenizer::Encoding first = tok.encode(question, ex.context, eo);
      std::vector<tokenizer::Encoding> windows;
      std::vector<tokenizer::Encoding> rest = std::move(first.overflowing);
      first.overflowing.clear();
      windows.push_back(std::move(first));
      for (auto& w : rest) {
        w.overflowing.clear();
        windows.push_back(std::move(w));
      }
      for (auto& w : windows) {
        QaFeature f;
        f.example = (int64_t)i;
        if (train && !ex.answers.empty()) {
          // run_qa.py prepare_train_features
          const int64_t start_char = ex.answers[0].start;
          const int64_t end_char = start_char + length_cp(ex.answers[0].text);
          const auto& seq = w.sequence_ids;
          const auto& off = w.offsets;
          int64_t ts = 0, te = (int64_t)w.size() - 1;
          while (ts < (int64_t)w.size() && seq[(size_t)ts] != 1) ++ts;
          while (te >= 0 && seq[(size_t)te] != 1) --te;
          if (ts > te || !((int64_t)off[(size_t)ts].first <= start_char && (int64_t)off[(size_t)te].second >= end_char)) {
            f.start_position = f.end_position = 0;  // [CLS]
          } else {
            // run_qa.py walks on while offsets start at or before the answer, past the context's
            // last token into [SEP] (offsets 0-0) when the answer lies inside that last token (a
            // long word that became one [UNK]), giving start > end; the walk stops at the
            // context's last token here, so start is that token (found by fuzz_squad).
            const int64_t last = te;
            while (ts <= last && (int64_t)off[(size_t)ts].first <= start_char) ++ts;
            f.start_position = ts - 1;
            while ((int64_t)off[(size_t)te].second >= end_char) --te;
            f.end_position = te + 1;
          }
        }
        f.enc = std::move(w);
        per_example[i].push_back(std::move(f));
      }
    } catch (const std::exception& e) {
#pragma omp critical
      if (error.empty()) error = e.what();
    }
  }
  if (!error.empty()) fail(error);
  std::vector<QaFeature> out;
  for (auto& v : per_example)
    for (auto& f : v) out.push_back(std::move(f));
  return out;
}

std::map<std::string, QaPrediction> postprocess_qa(const std::vector<SquadExample>& examples,
                                                   const std::vector<QaFeature>& features,
                                                   const std::vector<std::vector<float>>& start_logits,
                                                   const std::vector<std::vector<float>>& end_logits,
                                                   const QaOptions& opt) {
  opt.validate();
  if (start_logits.size() != features.size() || end_logits.size() != features.size())
    fail("postprocess_qa: " + std::to_string(start_logits.size()) + " logit rows for " +
         std::to_string(features.size()) + " features");
  std::vector<std::vector<size_t>> by_example(examples.size());
  for (size_t f = 0; f < features.size(); ++f) by_example.at((size_t)features[f].example).push_back(f);

  // the indices of the n largest values, largest first (np.argsort(x)[-1:-n-1:-1])
  auto top_n = [&](const std::vector<float>& x) {
    std::vector<int64_t> idx(x.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return x[(size_t)a] < x[(size_t)b]; });
    std::reverse(idx.begin(), idx.end());
    if ((int64_t)idx.size() > opt.n_best) idx.resize((size_t)opt.n_best);
    return idx;
  };

  std::map<std::string, QaPrediction> out;
  for (size_t e = 0; e < examples.size(); ++e) {
    std::vector<QaPrediction> prelim;
    for (size_t f : by_example[e]) {
      const auto& enc = features[f].enc;
      const auto& sl = start_logits[f];
      const auto& el = end_logits[f];
      const int64_t T = (int64_t)enc.size();
      if ((int64_t)sl.size() < T || (int64_t)el.size() < T)
        fail("postprocess_qa: feature " + std::to_string(f) + " has " + std::to_string(T) + " tokens but " +
             std::to_string(sl.size()) + " logits");
      for (int64_t s : top_n(sl))
        for (int64_t en : top_n(el)) {
          if (s >= T || en >= T) continue;  // padding
          if (enc.sequence_ids[(size_t)s] != 1 || enc.sequence_ids[(size_t)en] != 1) continue;  // not context
          if (en < s || en - s + 1 > opt.max_answer_length) continue;
          QaPrediction p;
          p.start = enc.offsets[(size_t)s].first;
          p.end = enc.offsets[(size_t)en].second;
          p.score = (double)sl[(size_t)s] + (double)el[(size_t)en];
          prelim.push_back(p);
        }
    }
    std::stable_sort(prelim.begin(), prelim.end(), [](const QaPrediction& a, const QaPrediction& b) { return a.score > b.score; });
    if ((int64_t)prelim.size() > opt.n_best) prelim.resize((size_t)opt.n_best);
    for (auto& p : prelim) p.text = substr_cp(examples[e].context, p.start, p.end);
    if (prelim.empty() || (prelim.size() == 1 && prelim[0].text.empty())) {
      QaPrediction none;
      none.text = "empty";  // utils_qa.py's placeholder
      prelim.insert(prelim.begin(), none);
    }
    double mx = prelim[0].score, sum = 0;
    for (auto& p : prelim) mx = std::max(mx, p.score);
    for (auto& p : prelim) sum += std::exp(p.score - mx);
    prelim[0].probability = std::exp(prelim[0].score - mx) / sum;
    out[examples[e].id] = prelim[0];
  }
  return out;
}

}  // namespace bertlab::tasks
