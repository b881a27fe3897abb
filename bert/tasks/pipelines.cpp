// bert/tasks/pipelines.cpp — see pipelines.h. Ports of transformers' pipelines:
// text_classification.py, token_classification.py (gather_pre_entities, aggregate with
// SIMPLE, group_sub_entities, group_entities), question_answering.py (preprocess,
// select_starts_ends, decode_spans, postprocess with align_to_words) and
// zero_shot_classification.py (postprocess, entailment_id).
#include "bert/tasks/pipelines.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

#include "bert/checkpoint.h"
#include "bert/tasks/infer.h"
#include "bert/tasks/qa.h"

namespace bertlab::tasks {

Loaded load_for_inference(const std::string& dir, bert::Task task, Device device) {
  Loaded m;
  bert::LoadInfo info;
  m.model = bert::from_pretrained(dir, task, &info);
  if (!info.newly_initialized.empty())
    std::fprintf(stderr,
                 "bertlab: warning: %s has no trained %s head (newly initialised: %s); its predictions are random. "
                 "Fine-tune it first (bertlab finetune).\n",
                 dir.c_str(), bert::task_class_name(task), info.newly_initialized.front().c_str());
  m.model->eval();
  m.model->to(device);
  m.device = device;
  m.tok.emplace(tokenizer::BertTokenizer::from_pretrained(dir));
  for (int64_t i = 0; i < m.model->config.num_labels(); ++i)
    m.labels.push_back(m.model->config.id2label.count(i) ? m.model->config.id2label.at(i) : "LABEL_" + std::to_string(i));
  m.max_length = std::min<int64_t>(m.model->config.max_position_embeddings, (int64_t)m.tok->options().model_max_length);
  return m;
}

namespace {

// Encodes texts (and pairs), truncating to max_length with a warning for the ones cut.
std::vector<tokenizer::Encoding> encode_truncated(const Loaded& m, const std::vector<tokenizer::EncodeInput>& in,
                                                  tokenizer::Truncation how) {
  tokenizer::EncodeOptions opt;
  std::vector<tokenizer::Encoding> enc = m.tok->encode_batch(in, opt);
  opt.truncation = how;
  opt.max_length = (size_t)m.max_length;
  for (size_t i = 0; i < enc.size(); ++i) {
    if ((int64_t)enc[i].size() <= m.max_length) continue;
    std::fprintf(stderr, "bertlab: warning: input %zu has %zu tokens; truncated to the model's %lld\n", i + 1,
                 enc[i].size(), (long long)m.max_length);
    enc[i] = m.tok->encode(in[i], opt);
  }
  return enc;
}

std::pair<std::string, std::string> get_tag(const std::string& entity) {
  if (entity.rfind("B-", 0) == 0) return {"B", entity.substr(2)};
  if (entity.rfind("I-", 0) == 0) return {"I", entity.substr(2)};
  return {"I", entity};  // not in B-/I- form: a continuation
}

}  // namespace

std::vector<std::vector<LabelScore>> classify_texts(Loaded& m, const std::vector<std::string>& texts, int64_t batch_size) {
  std::vector<tokenizer::EncodeInput> in(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) in[i].text = texts[i];
  std::vector<tokenizer::Encoding> enc = encode_truncated(m, in, tokenizer::Truncation::kLongestFirst);
  HeadOutputs out = run_head(*m.model, enc, batch_size, m.device);
  std::vector<std::vector<LabelScore>> res;
  const int64_t L = out.num_labels;
  const bool sigmoid = L == 1 || m.model->config.problem_type == "multi_label_classification";
  for (auto& lg : out.logits) {
    std::vector<double> p;
    if (sigmoid) {
      for (float v : lg) p.push_back(1.0 / (1.0 + std::exp(-(double)v)));
    } else {
      p = softmax_row(lg.data(), L);
    }
    std::vector<LabelScore> r;
    for (int64_t k = 0; k < L; ++k) r.push_back({m.labels[(size_t)k], p[(size_t)k]});
    std::stable_sort(r.begin(), r.end(), [](const LabelScore& a, const LabelScore& b) { return a.score > b.score; });
    res.push_back(std::move(r));
  }
  return res;
}

std::vector<EntityGroup> group_entities(const std::vector<TokenTag>& tokens, const tokenizer::BertTokenizer& tok) {
  std::vector<EntityGroup> groups;
  std::vector<const TokenTag*> cur;
  auto flush = [&] {
    if (cur.empty()) return;
    EntityGroup g;
    const std::string& first = cur[0]->entity;  // entities[0]["entity"].split("-", 1)[-1]
    g.entity_group = first.find('-') == std::string::npos ? first : first.substr(first.find('-') + 1);
    std::vector<std::string> words;
    double s = 0;
    for (auto* t : cur) {
      s += t->score;
      words.push_back(t->token);
    }
    g.score = s / (double)cur.size();
    g.word = tok.convert_tokens_to_string(words);
    g.start = cur.front()->start;
    g.end = cur.back()->end;
    if (g.entity_group != "O") groups.push_back(std::move(g));  // ignore_labels = ["O"]
    cur.clear();
  };
  for (const TokenTag& t : tokens) {
    if (cur.empty()) {
      cur.push_back(&t);
      continue;
    }
    auto [bi, tag] = get_tag(t.entity);
    auto [last_bi, last_tag] = get_tag(cur.back()->entity);
    if (tag == last_tag && bi != "B") {
      cur.push_back(&t);
    } else {
      flush();
      cur.push_back(&t);
    }
  }
  flush();
  return groups;
}

std::vector<std::vector<EntityGroup>> ner_texts(Loaded& m, const std::vector<std::string>& texts, int64_t batch_size) {
  std::vector<tokenizer::EncodeInput> in(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) in[i].text = texts[i];
  std::vector<tokenizer::Encoding> enc = encode_truncated(m, in, tokenizer::Truncation::kLongestFirst);
  HeadOutputs out = run_head(*m.model, enc, batch_size, m.device);
  const int64_t L = out.num_labels;
  std::vector<std::vector<EntityGroup>> res;
  for (size_t i = 0; i < enc.size(); ++i) {
    const tokenizer::Encoding& e = enc[i];
    std::vector<std::string> tokens = m.tok->convert_ids_to_tokens(e.ids);
    std::vector<TokenTag> tags;
    for (size_t t = 0; t < e.size(); ++t) {
      if (e.special_tokens_mask[t]) continue;
      std::vector<double> p = softmax_row(out.logits[i].data() + t * (size_t)L, L);
      const size_t best = (size_t)(std::max_element(p.begin(), p.end()) - p.begin());
      TokenTag tt;
      tt.entity = m.labels[best];
      tt.score = p[best];
      tt.start = e.offsets[t].first;
      tt.end = e.offsets[t].second;
      tt.token = e.ids[t] == m.tok->unk_id() ? substr_cp(texts[i], tt.start, tt.end) : tokens[t];
      tags.push_back(std::move(tt));
    }
    res.push_back(group_entities(tags, *m.tok));
  }
  return res;
}

std::vector<QaAnswer> answer_question(Loaded& m, const std::string& question, const std::string& context, int64_t top_k,
                                      int64_t max_answer_len) {
  // the library checks too: a negative top_k would resize a vector to SIZE_MAX
  if (top_k < 1) fail("question answering: --top-k must be at least 1, got " + std::to_string(top_k));
  if (max_answer_len < 1) fail("question answering: --max-answer-len must be at least 1, got " + std::to_string(max_answer_len));
  if (question.find_first_not_of(" \t\r\n") == std::string::npos) fail("question answering: the question is empty");
  if (context.find_first_not_of(" \t\r\n") == std::string::npos) fail("question answering: the context is empty");
  const int64_t max_seq_len = std::min<int64_t>(384, m.max_length);
  const int64_t doc_stride = std::min<int64_t>(max_seq_len / 2, 128);
  tokenizer::EncodeOptions qo;
  qo.add_special_tokens = false;
  const int64_t qlen = (int64_t)m.tok->encode(question, qo).size();
  if (qlen + 3 + doc_stride >= max_seq_len)
    fail("question answering: the question has " + std::to_string(qlen) + " tokens, too long for windows of " +
         std::to_string(max_seq_len) + " tokens with stride " + std::to_string(doc_stride));
  tokenizer::EncodeOptions eo;
  eo.truncation = tokenizer::Truncation::kOnlySecond;
  eo.max_length = (size_t)max_seq_len;
  eo.stride = (size_t)doc_stride;
  eo.return_overflowing_tokens = true;
  tokenizer::Encoding first = m.tok->encode(question, context, eo);
  std::vector<tokenizer::Encoding> windows;
  std::vector<tokenizer::Encoding> rest = std::move(first.overflowing);
  first.overflowing.clear();
  windows.push_back(std::move(first));
  for (auto& w : rest) {
    w.overflowing.clear();
    windows.push_back(std::move(w));
  }
  HeadOutputs out = run_head(*m.model, windows, 8, m.device);

  std::vector<QaAnswer> answers;
  for (size_t w = 0; w < windows.size(); ++w) {
    const tokenizer::Encoding& e = windows[w];
    const int64_t T = (int64_t)e.size();
    // allowed: context tokens and [CLS] (p_mask 0); the rest get -10000 before the softmax
    std::vector<char> allowed((size_t)T);
    for (int64_t t = 0; t < T; ++t) allowed[(size_t)t] = e.sequence_ids[(size_t)t] == 1 || (t == 0 && e.ids[0] == m.tok->cls_id());
    std::vector<float> s(out.start[w]), en(out.end[w]);
    for (int64_t t = 0; t < T; ++t)
      if (!allowed[(size_t)t]) s[(size_t)t] = en[(size_t)t] = -10000.0f;
    std::vector<double> ps = softmax_row(s.data(), T), pe = softmax_row(en.data(), T);
    ps[0] = pe[0] = 0.0;  // mask [CLS]
    struct Cand {
      double score;
      int64_t s, e;
    };
    std::vector<Cand> cands;
    for (int64_t i = 0; i < T; ++i) {
      if (!allowed[(size_t)i]) continue;
      for (int64_t j = i; j < std::min(T, i + max_answer_len); ++j)
        if (allowed[(size_t)j]) cands.push_back({ps[(size_t)i] * pe[(size_t)j], i, j});
    }
    std::stable_sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) { return a.score > b.score; });
    if ((int64_t)cands.size() > top_k) cands.resize((size_t)top_k);
    // align_to_words: widen to the whole words (in this window) of the start and end tokens
    auto word_span = [&](int64_t t) {
      const int32_t wid = e.word_ids[(size_t)t];
      int64_t a = e.offsets[(size_t)t].first, b = e.offsets[(size_t)t].second;
      for (int64_t k = 0; k < T; ++k)
        if (e.sequence_ids[(size_t)k] == 1 && e.word_ids[(size_t)k] == wid) {
          a = std::min<int64_t>(a, e.offsets[(size_t)k].first);
          b = std::max<int64_t>(b, e.offsets[(size_t)k].second);
        }
      return std::pair<int64_t, int64_t>{a, b};
    };
    for (auto& c : cands) {
      if (e.sequence_ids[(size_t)c.s] != 1 || e.sequence_ids[(size_t)c.e] != 1) continue;  // [CLS] (score 0)
      QaAnswer a;
      a.score = c.score;
      a.start = word_span(c.s).first;
      a.end = word_span(c.e).second;
      a.answer = substr_cp(context, a.start, a.end);
      answers.push_back(std::move(a));
    }
  }
  std::stable_sort(answers.begin(), answers.end(), [](const QaAnswer& a, const QaAnswer& b) { return a.score > b.score; });
  if ((int64_t)answers.size() > top_k) answers.resize((size_t)top_k);
  return answers;
}

std::pair<int64_t, int64_t> nli_label_ids(const bert::BertConfig& c) {
  int64_t entail = -1, contra = -1;
  for (auto& [name, id] : c.label2id()) {
    std::string l = name;
    std::transform(l.begin(), l.end(), l.begin(), [](unsigned char ch) { return (char)std::tolower(ch); });
    if (l.rfind("entail", 0) == 0 && entail < 0) entail = id;
    if (l.rfind("contradict", 0) == 0 && contra < 0) contra = id;
  }
  return {entail, contra};
}

ZeroShotResult zero_shot(Loaded& m, const std::string& text, const std::vector<std::string>& candidate_labels,
                         const std::string& hypothesis_template, bool multi_label) {
  if (candidate_labels.empty()) fail("zero-shot: no candidate labels (--labels a,b,c)");
  const size_t brace = hypothesis_template.find("{}");
  if (brace == std::string::npos)
    fail("zero-shot: the hypothesis template '" + hypothesis_template + "' has no {} for the label");
  auto [entail, contra] = nli_label_ids(m.model->config);
  std::string known;
  for (auto& l : m.labels) known += (known.empty() ? "" : ", ") + l;
  if (entail < 0)
    fail("zero-shot: the model's labels (" + known +
         ") have no entailment label (a name starting with 'entail'); zero-shot needs an NLI model fine-tuned on MNLI or similar");
  const bool per_label = multi_label || candidate_labels.size() == 1;
  if (per_label && contra < 0)
    fail("zero-shot: the model's labels (" + known + ") have no contradiction label (a name starting with 'contradict'), "
         "which multi-label scoring needs");
  std::vector<std::string> hyps;
  for (auto& l : candidate_labels)
    hyps.push_back(hypothesis_template.substr(0, brace) + l + hypothesis_template.substr(brace + 2));
  std::vector<tokenizer::EncodeInput> in(hyps.size());
  for (size_t i = 0; i < hyps.size(); ++i) {
    in[i].text = text;
    in[i].pair = std::string_view(hyps[i]);
  }
  std::vector<tokenizer::Encoding> enc = encode_truncated(m, in, tokenizer::Truncation::kOnlyFirst);
  HeadOutputs out = run_head(*m.model, enc, 32, m.device);
  std::vector<double> scores(candidate_labels.size());
  if (per_label) {
    for (size_t i = 0; i < scores.size(); ++i) {
      const float pair[2] = {out.logits[i][(size_t)contra], out.logits[i][(size_t)entail]};
      scores[i] = softmax_row(pair, 2)[1];
    }
  } else {
    std::vector<float> e;
    for (auto& lg : out.logits) e.push_back(lg[(size_t)entail]);
    std::vector<double> p = softmax_row(e.data(), (int64_t)e.size());
    scores.assign(p.begin(), p.end());
  }
  std::vector<size_t> order(scores.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  ZeroShotResult r;
  r.sequence = text;
  for (size_t i : order) {
    r.labels.push_back(candidate_labels[i]);
    r.scores.push_back(scores[i]);
  }
  return r;
}

std::vector<std::string> entity_types(const std::vector<std::string>& labels) {
  std::vector<std::string> types;
  for (auto& l : labels) {
    std::string t = get_tag(l).second;
    if (t == "O") continue;
    if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
  }
  return types;
}

namespace {

const char* kAnsi[] = {"31", "32", "33", "34", "35", "36", "91", "92", "93", "94", "95", "96"};
const char* kHtml[] = {"#ffadad", "#caffbf", "#fdffb6", "#a0c4ff", "#ffc6ff", "#9bf6ff",
                       "#ffd6a5", "#bdb2ff", "#e0e0e0", "#d4a373", "#b5e48c", "#f4acb7"};

size_t type_index(const std::vector<std::string>& types, const std::string& t) {
  auto it = std::find(types.begin(), types.end(), t);
  return it == types.end() ? types.size() : (size_t)(it - types.begin());
}

}  // namespace

std::string render_ansi(const std::string& text, const std::vector<EntityGroup>& entities,
                        const std::vector<std::string>& types) {
  std::string out;
  int64_t pos = 0;
  const int64_t n = length_cp(text);
  for (auto& e : entities) {
    if (e.start < pos || e.end > n || e.end <= e.start) continue;
    const char* c = kAnsi[type_index(types, e.entity_group) % 12];
    out += substr_cp(text, pos, e.start);
    out += std::string("\x1b[1;") + c + "m" + substr_cp(text, e.start, e.end) + "\x1b[0;2;" + c + "m " + e.entity_group + "\x1b[0m";
    pos = e.end;
  }
  out += substr_cp(text, pos, n);
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_html(const std::vector<std::string>& texts, const std::vector<std::vector<EntityGroup>>& entities,
                        const std::vector<std::string>& types) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>bertlab ner</title>\n<style>\n"
      "body { font-family: sans-serif; line-height: 2.2; max-width: 60em; margin: 2em auto; }\n"
      "mark { padding: 0.15em 0.35em; border-radius: 0.3em; }\n"
      "mark span { font-size: 0.7em; font-weight: bold; margin-left: 0.4em; text-transform: uppercase; }\n"
      "p { border-bottom: 1px solid #eee; padding-bottom: 0.5em; }\n</style>\n</head>\n<body>\n<div class=\"legend\">";
  for (size_t i = 0; i < types.size(); ++i)
    h += "<mark style=\"background: " + std::string(kHtml[i % 12]) + "\">" + html_escape(types[i]) + "</mark> ";
  h += "</div>\n";
  for (size_t k = 0; k < texts.size(); ++k) {
    const std::string& text = texts[k];
    h += "<p>";
    int64_t pos = 0;
    const int64_t n = length_cp(text);
    for (auto& e : entities[k]) {
      if (e.start < pos || e.end > n || e.end <= e.start) continue;
      h += html_escape(substr_cp(text, pos, e.start));
      char score[32];
      std::snprintf(score, sizeof score, "%.3f", e.score);
      h += "<mark style=\"background: " + std::string(kHtml[type_index(types, e.entity_group) % 12]) + "\" title=\"" +
           html_escape(e.entity_group) + " " + score + "\">" + html_escape(substr_cp(text, e.start, e.end)) + "<span>" +
           html_escape(e.entity_group) + "</span></mark>";
      pos = e.end;
    }
    h += html_escape(substr_cp(text, pos, n)) + "</p>\n";
  }
  h += "</body>\n</html>\n";
  return h;
}

}  // namespace bertlab::tasks
