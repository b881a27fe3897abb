// bert/pretrain_data.cpp — see pretrain_data.h. The example generator is a line-by-line port
// of create_pretraining_data.py (google-research/bert): create_instances_from_document,
// truncate_seq_pair and create_masked_lm_predictions, with the differences the header lists.
#include "bert/pretrain_data.h"
#include "bert/io.h"

#include <algorithm>
#include <cerrno>
#include <cfenv>
#include <cmath>
#include <cstring>
#include <filesystem>

namespace bertlab::bert {

// ---------------------------------------------------------------------------------------
// Random numbers

double DataRng::uniform() { return (double)(e_() >> 11) * 0x1.0p-53; }

int64_t DataRng::randint(int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  const uint64_t span = (uint64_t)(hi - lo) + 1;
  // Rejection sampling: no modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  uint64_t x;
  do x = e_();
  while (x >= limit);
  return lo + (int64_t)(x % span);
}

static uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t mix_seed(std::initializer_list<uint64_t> words) {
  uint64_t state = 0x6265727470726574ULL, h = 0;  // "bertpret"
  for (uint64_t w : words) {
    state ^= w;
    h = splitmix64(state);
    state = h;
  }
  return h;
}

// ---------------------------------------------------------------------------------------
// Formats and the sentence splitter

CorpusFormat parse_corpus_format(const std::string& s) {
  if (s == "auto") return CorpusFormat::Auto;
  if (s == "lines") return CorpusFormat::Lines;
  if (s == "raw") return CorpusFormat::Raw;
  fail("unknown corpus format '" + s + "' (auto, lines, raw)");
}

const char* corpus_format_name(CorpusFormat f) {
  switch (f) {
    case CorpusFormat::Auto: return "auto";
    case CorpusFormat::Lines: return "lines";
    case CorpusFormat::Raw: return "raw";
  }
  return "?";
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

static std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

int wikitext_heading_level(std::string_view line) {
  line = trim(line);
  if (line.size() < 3 || line.front() != '=' || line.back() != '=') return 0;
  int left = 0;
  size_t i = 0;
  while (i < line.size() && (line[i] == '=' || line[i] == ' ')) left += line[i++] == '=';
  int right = 0;
  size_t j = line.size();
  while (j > i && (line[j - 1] == '=' || line[j - 1] == ' ')) right += line[--j] == '=';
  if (j <= i) return 0;  // only '=' and spaces
  return left == right ? left : 0;
}

CorpusFormat detect_corpus_format(const std::string& path) {
  namespace fs = std::filesystem;
  if (fs::path(path).extension() == ".raw") return CorpusFormat::Raw;
  CorpusReader r({path}, {CorpusFormat::Lines}, ReaderLimits{size_t(1) << 16, size_t(1) << 20});
  Document d;
  int seen = 0;
  while (seen < 100 && r.next(d)) {
    for (const std::string& s : d.sentences) {
      if (wikitext_heading_level(s) > 0) return CorpusFormat::Raw;
      if (++seen >= 100) break;
    }
  }
  return CorpusFormat::Lines;
}

// Closing quotes and brackets that may follow a sentence's final punctuation; returns the
// length in bytes of the one at s[i], or 0.
static size_t closer_at(std::string_view s, size_t i) {
  const char c = s[i];
  if (c == '"' || c == '\'' || c == ')' || c == ']' || c == '}') return 1;
  // ’ ” (E2 80 99, E2 80 9D) and » (C2 BB)
  if (i + 2 < s.size() + 0 && (unsigned char)c == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
      ((unsigned char)s[i + 2] == 0x99 || (unsigned char)s[i + 2] == 0x9D))
    return 3;
  if (i + 1 < s.size() && (unsigned char)c == 0xC2 && (unsigned char)s[i + 1] == 0xBB) return 2;
  return 0;
}

static bool is_abbreviation(std::string_view word, std::string_view after) {
  // Strip opening punctuation: "(Mr." -> "Mr"
  while (!word.empty() && (word.front() == '(' || word.front() == '"' || word.front() == '\'' || word.front() == '['))
    word.remove_prefix(1);
  if (word.empty()) return false;
  if (word.size() == 1 && word[0] >= 'A' && word[0] <= 'Z') return true;  // an initial: "J. R. R."
  if (word.find('.') != std::string_view::npos) return true;            // "U.S", "e.g", "a.m"
  std::string w(word);
  for (char& ch : w) ch = (char)std::tolower((unsigned char)ch);
  static const char* const kAbbrev[] = {
      "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "vs", "fig", "figs", "vol", "vols", "co", "corp",
      "inc", "ltd", "gen", "col", "lt", "sgt", "capt", "cmdr", "adm", "rev", "hon", "gov", "sen", "rep", "pres", "jan",
      "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx", "dept", "est", "cf",
      "al", "ca", "pp", "p", "ed", "eds", "op", "cit", "ibid", "viz"};
  for (const char* a : kAbbrev)
    if (w == a) return true;
  // "No. 5", "Nos. 3"
  if ((w == "no" || w == "nos") && !after.empty() && after[0] >= '0' && after[0] <= '9') return true;
  return false;
}

std::vector<std::string> split_sentences(std::string_view s) {
  std::vector<std::string> out;
  auto emit = [&](size_t b, size_t e) {
    std::string_view t = trim(s.substr(b, e - b));
    if (!t.empty()) out.emplace_back(t);
  };
  const size_t n = s.size();
  size_t begin = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[i];
    if (c != '.' && c != '!' && c != '?') continue;
    size_t j = i + 1;
    while (j < n && (s[j] == '.' || s[j] == '!' || s[j] == '?')) ++j;  // "?!", "..."
    while (j < n) {
      size_t k = closer_at(s, j);
      if (!k) break;
      j += k;
    }
    if (j >= n) break;
    if (!is_space(s[j])) {
      i = j - 1;
      continue;
    }
    size_t k = j;
    while (k < n && is_space(s[k])) ++k;
    if (k >= n) break;
    if (s[k] >= 'a' && s[k] <= 'z') {  // "e.g. the", "approx. five": a continuation
      i = k - 1;
      continue;
    }
    if (c == '.' && i > 0 && !is_space(s[i - 1])) {
      size_t w = i;
      while (w > begin && !is_space(s[w - 1])) --w;
      if (is_abbreviation(s.substr(w, i - w), s.substr(k))) {
        i = k - 1;
        continue;
      }
    }
    emit(begin, j);
    begin = k;
    i = k - 1;
  }
  emit(begin, n);
  return out;
}

// ---------------------------------------------------------------------------------------
// CorpusReader

CorpusPosition CorpusPosition::from_json(const nlohmann::json& j, const std::string& where) {
  // [file index, byte offset, document ordinal]: all non-negative integers (get<int64_t> of
  // a string would throw nlohmann's own message, and of a negative offset would wrap).
  auto bad = [&] {
    fail(where + ": invalid corpus position " + j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
         " (expected [file, offset, ordinal], three non-negative integers)");
  };
  if (!j.is_array() || j.size() != 3) bad();
  for (const auto& v : j)
    if (!v.is_number_integer() || (v.is_number_unsigned() ? v.get<uint64_t>() > (uint64_t)INT64_MAX : v.get<int64_t>() < 0))
      bad();
  return {j[0].get<int64_t>(), j[1].get<uint64_t>(), j[2].get<int64_t>()};
}

static void check_readable(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) fail("corpus file '" + path + "' is a directory");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail("cannot open corpus file '" + path + "': " + std::strerror(errno));
  std::fclose(f);
}

CorpusReader::CorpusReader(std::vector<std::string> files, std::vector<CorpusFormat> formats, ReaderLimits limits)
    : files_(std::move(files)), formats_(std::move(formats)), limits_(limits) {
  if (files_.empty()) fail("no corpus files given");
  if (formats_.size() == 1 && files_.size() > 1) formats_.assign(files_.size(), formats_[0]);
  if (formats_.size() != files_.size()) fail("CorpusReader: one format per file expected");
  if (limits_.max_line_bytes < 16) limits_.max_line_bytes = 16;
  for (size_t i = 0; i < files_.size(); ++i) {
    check_readable(files_[i]);
    if (formats_[i] == CorpusFormat::Auto) formats_[i] = detect_corpus_format(files_[i]);
  }
}

CorpusReader::CorpusReader(std::vector<std::string> files, CorpusFormat format, ReaderLimits limits)
    : CorpusReader(std::move(files), std::vector<CorpusFormat>{format}, limits) {}

CorpusReader::~CorpusReader() { close_file(); }

void CorpusReader::close_file() {
  if (f_) std::fclose(f_);
  f_ = nullptr;
  open_index_ = -1;
  buf_.clear();
  head_ = 0;
  file_pos_ = 0;
  file_eof_ = false;
  last_cut_ = false;
}

bool CorpusReader::open_file(int64_t i, uint64_t offset) {
  close_file();
  f_ = std::fopen(files_[i].c_str(), "rb");
  if (!f_) fail("cannot open corpus file '" + files_[i] + "': " + std::strerror(errno));
  if (offset > 0 && ::fseeko(f_, (off_t)offset, SEEK_SET) != 0)
    fail("cannot seek to byte " + std::to_string(offset) + " of corpus file '" + files_[i] + "': " + std::strerror(errno));
  open_index_ = i;
  file_pos_ = offset;
  return true;
}

void CorpusReader::seek(const CorpusPosition& p) {
  if (p.file < 0 || p.file > (int64_t)files_.size()) fail("corpus position: file index " + std::to_string(p.file) + " out of range");
  close_file();
  pos_ = p;
}

bool CorpusReader::read_line(std::string& line, uint64_t& start, bool& tail) {
  start = file_pos_;
  tail = last_cut_;
  last_cut_ = false;
  const size_t max = limits_.max_line_bytes;
  for (;;) {
    const size_t avail = buf_.size() - head_;
    const char* p = buf_.data() + head_;
    const size_t look = std::min(avail, max + 1);
    if (const void* nl = std::memchr(p, '\n', look)) {
      const size_t n = (size_t)((const char*)nl - p);
      line.assign(p, n);
      head_ += n + 1;
      file_pos_ += n + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return true;
    }
    if (avail > max) {  // a long line: a piece of at most max bytes
      size_t cut = 0;
      for (size_t k = max; k > max / 2; --k)
        if (p[k - 1] == ' ' || p[k - 1] == '\t') {
          cut = k;
          break;
        }
      if (!cut) {
        cut = max;
        while (cut > 0 && ((unsigned char)p[cut] & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
        if (!cut) cut = max;
      }
      line.assign(p, cut);
      head_ += cut;
      file_pos_ += cut;
      last_cut_ = true;
      return true;
    }
    if (file_eof_) {
      if (avail == 0) return false;
      line.assign(p, avail);
      head_ += avail;
      file_pos_ += avail;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return true;
    }
    if (head_ > 0) {
      buf_.erase(0, head_);
      head_ = 0;
    }
    const size_t chunk = 1 << 16, old = buf_.size();
    buf_.resize(old + chunk);
    const size_t got = std::fread(buf_.data() + old, 1, chunk, f_);
    buf_.resize(old + got);
    if (got < chunk) {
      if (std::ferror(f_)) fail("error reading corpus file '" + files_[open_index_] + "': " + std::strerror(errno));
      file_eof_ = true;
    }
  }
}

bool CorpusReader::next(Document& doc) {
  doc.sentences.clear();
  size_t bytes = 0;
  auto finish = [&] {
    doc.ordinal = pos_.ordinal++;
    doc.start.ordinal = doc.ordinal;
    return true;
  };
  std::string line;
  while (pos_.file < (int64_t)files_.size()) {
    if (open_index_ != pos_.file) {
      open_file(pos_.file, pos_.offset);
    } else if (file_pos_ != pos_.offset) {
      // A heading was given back (it starts the next document): step back in the buffer if
      // it is still there, else seek.
      if (pos_.offset < file_pos_ && file_pos_ - pos_.offset <= head_) {
        head_ -= (size_t)(file_pos_ - pos_.offset);
        file_pos_ = pos_.offset;
      } else {
        open_file(pos_.file, pos_.offset);
      }
    }
    uint64_t start = 0;
    bool tail = false;
    if (!read_line(line, start, tail)) {  // end of this file: it ends the document
      close_file();
      pos_ = {pos_.file + 1, 0, pos_.ordinal};
      if (!doc.sentences.empty()) return finish();
      continue;
    }
    pos_.offset = file_pos_;
    const std::string_view t = trim(line);
    const CorpusFormat fmt = formats_[pos_.file];
    if (t.empty()) {
      // (the rest of a long line that was read in pieces is no blank line)
      if (fmt == CorpusFormat::Lines && !tail && !doc.sentences.empty()) return finish();
      continue;
    }
    if (doc.sentences.empty()) doc.start = {pos_.file, start, pos_.ordinal};
    if (fmt == CorpusFormat::Raw) {
      const int level = wikitext_heading_level(t);
      if (level == 1) {
        if (!doc.sentences.empty()) {
          pos_.offset = start;  // the heading starts the next document
          return finish();
        }
        continue;
      }
      if (level > 1) continue;
      for (std::string& s : split_sentences(t)) doc.sentences.push_back(std::move(s));
    } else {
      doc.sentences.emplace_back(t);
    }
    bytes += t.size();
    if (bytes >= limits_.max_doc_bytes && !doc.sentences.empty()) return finish();
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Options

int64_t PretrainDataOptions::max_predictions() const {
  if (max_predictions_per_seq > 0) return max_predictions_per_seq;
  return std::max<int64_t>(1, (int64_t)std::ceil(masked_lm_prob * (double)max_seq_length - 1e-9));
}

nlohmann::json PretrainDataOptions::to_json() const {
  const char* split_name = split == Split::All ? "all" : split == Split::Train ? "train" : "heldout";
  return {{"max_seq_length", max_seq_length},
          {"max_predictions_per_seq", max_predictions()},
          {"masked_lm_prob", masked_lm_prob},
          {"short_seq_prob", short_seq_prob},
          {"whole_word_masking", whole_word_masking},
          {"seed", seed},
          {"split", split_name},
          {"holdout_every", holdout_every},
          {"window_docs", window_docs},
          {"window_tokens", window_tokens},
          {"shuffle_buffer", shuffle_buffer},
          {"format", corpus_format_name(format)},
          {"max_line_bytes", limits.max_line_bytes},
          {"max_doc_bytes", limits.max_doc_bytes}};
}

// ---------------------------------------------------------------------------------------
// The generator: documents in a window, examples from the current one.

namespace {
struct TokDoc {
  int64_t ordinal = 0;
  CorpusPosition start;
  std::vector<std::vector<int32_t>> sents;  // token ids, each at most max_num_tokens long
  int64_t tokens = 0;
};
}  // namespace

class ExampleStream::Generator {
 public:
  Generator(std::vector<std::string> files, std::shared_ptr<const tokenizer::BertTokenizer> tok,
            const PretrainDataOptions& opt)
      : reader_(std::move(files), opt.format, opt.limits), tok_(std::move(tok)), opt_(opt) {
    if (opt_.max_seq_length < 8) fail("max_seq_length must be at least 8, got " + std::to_string(opt_.max_seq_length));
    if (opt_.masked_lm_prob <= 0 || opt_.masked_lm_prob >= 1)
      fail("masked_lm_prob must be in (0, 1), got " + std::to_string(opt_.masked_lm_prob));
    if (opt_.short_seq_prob < 0 || opt_.short_seq_prob > 1)
      fail("short_seq_prob must be in [0, 1], got " + std::to_string(opt_.short_seq_prob));
    if (opt_.split != PretrainDataOptions::Split::All && opt_.holdout_every < 2)
      fail("a train/held-out split needs holdout_every >= 2, got " + std::to_string(opt_.holdout_every));
    const auto& v = tok_->vocab();
    continuation_.resize(v.size());
    for (size_t id = 0; id < v.size(); ++id) {
      const std::string& t = v.token((tokenizer::TokenId)id);
      continuation_[id] = t.rfind("##", 0) == 0;
      const bool special = tok_->is_special((tokenizer::TokenId)id) || (int32_t)id == tok_->unk_id();
      if (!special) random_ids_.push_back((int32_t)id);  // candidates for the 10% random replacements
    }
    if (random_ids_.empty()) fail("the vocabulary has no ordinary tokens");
    half_docs_ = std::max<int64_t>(1, opt_.window_docs / 2);
    half_tokens_ = std::max<int64_t>(1, opt_.window_tokens / 2);
  }

  int64_t epoch() const { return epoch_; }
  int64_t docs_read() const { return docs_read_; }

  // The next example of this pass; false at its end (the next call starts the next pass).
  bool next(Example& ex) {
    for (;;) {
      if (pending_i_ < pending_.size()) {
        ex = pending_[pending_i_++];
        ++examples_;
        return true;
      }
      ++cur_;
      fill_look_ahead();
      if (cur_ >= (int64_t)buf_.size()) {  // the end of the corpus
        if (examples_ == 0)
          fail("the pre-training corpus has no usable text: a whole pass over " + files_str() + " gave " +
               std::to_string(docs_read_) + " documents and no example" +
               (opt_.split == PretrainDataOptions::Split::HeldOut ? " in the held-out split" : ""));
        start_pass(epoch_ + 1);
        return false;
      }
      while (cur_ > half_docs_ || (cur_ > 0 && tokens_in(0, cur_) > half_tokens_)) {
        buf_.pop_front();
        --cur_;
      }
      make_examples();
    }
  }

  nlohmann::json state() const {
    const CorpusPosition start = buf_.empty() ? reader_.position() : buf_.front().start;
    return {{"epoch", epoch_},       {"start", start.to_json()}, {"docs", buf_.size()},
            {"cur", cur_},           {"served", pending_i_},     {"examples", examples_},
            {"docs_read", docs_read_}, {"end", corpus_end_}};
  }

  void restore(const nlohmann::json& s, const std::string& where) {
    const int64_t epoch = bert::json_int(s, "epoch", where);
    if (epoch < 0) fail(where + ": key \"epoch\" is " + std::to_string(epoch) + ", expected >= 0");
    start_pass(epoch);
    reader_.seek(CorpusPosition::from_json(json_key(s, "start", where), where + ".start"));
    const int64_t docs = bert::json_int(s, "docs", where);
    if (docs < 0) fail(where + ": key \"docs\" is " + std::to_string(docs) + ", expected >= 0");
    for (int64_t i = 0; i < docs; ++i) {
      TokDoc d;
      if (!read_doc(d)) fail(where + ": the corpus is shorter than the saved data position (has it changed?)");
      buf_.push_back(std::move(d));
    }
    cur_ = bert::json_int(s, "cur", where);
    corpus_end_ = bert::json_bool(s, "end", where);
    examples_ = bert::json_int(s, "examples", where);
    docs_read_ = bert::json_int(s, "docs_read", where);
    if (cur_ < -1 || cur_ >= docs) fail(where + ": saved data position is inconsistent (cur " + std::to_string(cur_) + ")");
    if (cur_ >= 0) {
      make_examples();
      const uint64_t served = bert::json_uint(s, "served", where);
      if (served > pending_.size())
        fail(where + ": the saved data position does not match the corpus (has it changed?)");
      pending_i_ = (size_t)served;
    }
  }

 private:
  std::string files_str() const {
    std::string s;
    for (const auto& f : reader_.files()) s += (s.empty() ? "" : ", ") + f;
    return s;
  }

  void start_pass(int64_t epoch) {
    epoch_ = epoch;
    reader_.seek({});
    buf_.clear();
    cur_ = -1;
    corpus_end_ = false;
    pending_.clear();
    pending_i_ = 0;
    examples_ = 0;
    docs_read_ = 0;
  }

  int64_t tokens_in(int64_t a, int64_t b) const {
    int64_t t = 0;
    for (int64_t i = a; i < b; ++i) t += buf_[i].tokens;
    return t;
  }

  void fill_look_ahead() {
    while (!corpus_end_) {
      const int64_t ahead = (int64_t)buf_.size() - cur_ - 1;
      if (ahead >= 0 && (ahead >= half_docs_ || tokens_in(cur_ + 1, (int64_t)buf_.size()) >= half_tokens_)) break;
      TokDoc d;
      if (!read_doc(d)) {
        corpus_end_ = true;
        break;
      }
      buf_.push_back(std::move(d));
    }
  }

  // The next document of our split, tokenized; false at the end of the corpus.
  bool read_doc(TokDoc& out) {
    using Split = PretrainDataOptions::Split;
    Document d;
    for (;;) {
      if (!reader_.next(d)) return false;
      const bool held = opt_.holdout_every > 0 && d.ordinal % opt_.holdout_every == opt_.holdout_every - 1;
      if (opt_.split == Split::Train && held) continue;
      if (opt_.split == Split::HeldOut && !held) continue;
      ++docs_read_;
      tokenizer::EncodeOptions eo;
      eo.add_special_tokens = false;
      const std::vector<tokenizer::Encoding> enc = tok_->encode_batch(d.sentences, eo);
      const size_t piece = (size_t)(opt_.max_seq_length - 3);
      out = TokDoc{};
      out.ordinal = d.ordinal;
      out.start = d.start;
      for (const auto& e : enc) {
        for (size_t b = 0; b < e.ids.size(); b += piece) {
          std::vector<int32_t> s(e.ids.begin() + b, e.ids.begin() + std::min(e.ids.size(), b + piece));
          // Special tokens written in the corpus text ("[SEP]") would pass for real ones: [UNK].
          for (int32_t& id : s)
            if (tok_->is_special(id)) id = tok_->unk_id();
          out.tokens += (int64_t)s.size();
          out.sents.push_back(std::move(s));
        }
      }
      if (out.tokens > 0) return true;
    }
  }

  // create_instances_from_document for buf_[cur_].
  void make_examples() {
    pending_.clear();
    pending_i_ = 0;
    const TokDoc& doc = buf_[cur_];
    const int64_t max_num_tokens = opt_.max_seq_length - 3;
    DataRng rng(mix_seed({opt_.seed, 0x696e7374ULL /* "inst" */, (uint64_t)epoch_, (uint64_t)doc.ordinal}));
    auto draw_target = [&] {
      return rng.uniform() < opt_.short_seq_prob ? rng.randint(2, max_num_tokens) : max_num_tokens;
    };
    int64_t target = draw_target();
    std::vector<int32_t> chunk;  // sentence indices
    int64_t chunk_len = 0;
    const int64_t n = (int64_t)doc.sents.size();
    for (int64_t i = 0; i < n; ++i) {
      chunk.push_back((int32_t)i);
      chunk_len += (int64_t)doc.sents[i].size();
      if (i != n - 1 && chunk_len < target) continue;
      const int64_t a_end = chunk.size() >= 2 ? rng.randint(1, (int64_t)chunk.size() - 1) : 1;
      std::vector<int32_t> a, b;
      for (int64_t k = 0; k < a_end; ++k) a.insert(a.end(), doc.sents[chunk[k]].begin(), doc.sents[chunk[k]].end());
      Example ex;
      ex.epoch = epoch_;
      ex.doc = doc.ordinal;
      ex.a_first = chunk[0];
      ex.a_last = chunk[a_end - 1];
      if (chunk.size() == 1 || rng.uniform() < 0.5) {
        ex.next_sentence_label = 1;
        const int64_t target_b = target - (int64_t)a.size();
        int64_t r = cur_;
        if (buf_.size() > 1) {
          r = rng.randint(0, (int64_t)buf_.size() - 2);
          if (r >= cur_) ++r;
        }
        const TokDoc& rd = buf_[r];
        const int64_t rstart = rng.randint(0, (int64_t)rd.sents.size() - 1);
        ex.b_doc = rd.ordinal;
        ex.b_first = (int32_t)rstart;
        for (int64_t j = rstart; j < (int64_t)rd.sents.size(); ++j) {
          b.insert(b.end(), rd.sents[j].begin(), rd.sents[j].end());
          ex.b_last = (int32_t)j;
          if ((int64_t)b.size() >= target_b) break;
        }
        i -= (int64_t)chunk.size() - a_end;  // the unused sentences are used again
      } else {
        ex.next_sentence_label = 0;
        ex.b_doc = doc.ordinal;
        ex.b_first = chunk[a_end];
        ex.b_last = chunk.back();
        for (size_t k = a_end; k < chunk.size(); ++k)
          b.insert(b.end(), doc.sents[chunk[k]].begin(), doc.sents[chunk[k]].end());
      }
      // truncate_seq_pair: drop from the front or the back (coin flip) of the longer one.
      size_t a_lo = 0, a_hi = a.size(), b_lo = 0, b_hi = b.size();
      while ((a_hi - a_lo) + (b_hi - b_lo) > (size_t)max_num_tokens) {
        const bool trunc_a = (a_hi - a_lo) > (b_hi - b_lo);
        if (rng.uniform() < 0.5) (trunc_a ? a_lo : b_lo)++;
        else (trunc_a ? a_hi : b_hi)--;
      }
      const int32_t cls = tok_->cls_id(), sep = tok_->sep_id();
      ex.input_ids.reserve(a_hi - a_lo + b_hi - b_lo + 3);
      ex.input_ids.push_back(cls);
      ex.input_ids.insert(ex.input_ids.end(), a.begin() + a_lo, a.begin() + a_hi);
      ex.input_ids.push_back(sep);
      const size_t len_a = ex.input_ids.size();
      ex.input_ids.insert(ex.input_ids.end(), b.begin() + b_lo, b.begin() + b_hi);
      ex.input_ids.push_back(sep);
      ex.token_type_ids.assign(ex.input_ids.size(), 0);
      std::fill(ex.token_type_ids.begin() + len_a, ex.token_type_ids.end(), 1);
      mask(ex, len_a, rng);
      pending_.push_back(std::move(ex));
      chunk.clear();
      chunk_len = 0;
      target = draw_target();
    }
  }

  // create_masked_lm_predictions. [CLS] is at 0, the [SEP]s at len_a - 1 and T - 1.
  void mask(Example& ex, size_t len_a, DataRng& rng) {
    const size_t T = ex.input_ids.size();
    ex.labels.assign(T, -100);
    std::vector<std::vector<int32_t>> cands;
    for (size_t i = 1; i + 1 < T; ++i) {
      if (i == len_a - 1) continue;
      const int32_t id = ex.input_ids[i];
      if (opt_.whole_word_masking && !cands.empty() && continuation_[id] && cands.back().back() == (int32_t)i - 1)
        cands.back().push_back((int32_t)i);
      else
        cands.push_back({(int32_t)i});
    }
    const int64_t n_tokens = (int64_t)T - 3;
    // round() as Python's (half to even) under the default rounding mode.
    const int64_t num_to_predict = std::min<int64_t>(
        opt_.max_predictions(), std::max<int64_t>(1, (int64_t)std::nearbyint((double)n_tokens * opt_.masked_lm_prob)));
    rng.shuffle(cands);
    int64_t masked = 0;
    const std::vector<int32_t> orig = ex.input_ids;
    for (const auto& group : cands) {
      if (masked >= num_to_predict) break;
      if (masked + (int64_t)group.size() > num_to_predict) continue;
      for (int32_t idx : group) {
        ++masked;
        if (rng.uniform() < 0.8) ex.input_ids[idx] = tok_->mask_id();
        else if (rng.uniform() < 0.5) ex.input_ids[idx] = orig[idx];
        else ex.input_ids[idx] = random_ids_[rng.randint(0, (int64_t)random_ids_.size() - 1)];
        ex.labels[idx] = orig[idx];
      }
    }
  }

  CorpusReader reader_;
  std::shared_ptr<const tokenizer::BertTokenizer> tok_;
  PretrainDataOptions opt_;
  std::vector<bool> continuation_;  // by id: a "##" piece
  std::vector<int32_t> random_ids_;
  int64_t half_docs_ = 1, half_tokens_ = 1;

  int64_t epoch_ = 0;
  std::deque<TokDoc> buf_;
  int64_t cur_ = -1;  // the document in buf_ whose examples are pending
  bool corpus_end_ = false;
  std::vector<Example> pending_;
  size_t pending_i_ = 0;
  int64_t examples_ = 0;   // given out this pass
  int64_t docs_read_ = 0;  // this pass
};

// ---------------------------------------------------------------------------------------
// ExampleStream: the generator's examples in shuffled blocks.

ExampleStream::ExampleStream(std::vector<std::string> files, std::shared_ptr<const tokenizer::BertTokenizer> tok,
                             PretrainDataOptions opt)
    : opt_(opt) {
  if (!tok) fail("ExampleStream: no tokenizer");
  if (opt_.shuffle_buffer < 1) opt_.shuffle_buffer = 1;
  gen_ = std::make_unique<Generator>(std::move(files), std::move(tok), opt_);
  block_start_ = gen_->state();
}

ExampleStream::~ExampleStream() = default;

int64_t ExampleStream::epoch() const { return served_epoch_; }
int64_t ExampleStream::documents_read() const { return gen_->docs_read(); }

bool ExampleStream::refill() {
  block_start_ = gen_->state();
  block_.clear();
  block_i_ = 0;
  const int64_t start_epoch = gen_->epoch();
  while ((int64_t)block_.size() < opt_.shuffle_buffer) {
    Example e;
    if (gen_->next(e)) {
      block_.push_back(std::move(e));
    } else if (!opt_.loop || gen_->epoch() > start_epoch + 1) {
      break;  // one pass only; or a block longer than a whole pass: stop at the second pass
    }
  }
  if (block_.empty()) return false;
  DataRng rng(mix_seed({opt_.seed, 0x73687566ULL /* "shuf" */, (uint64_t)block_index_}));
  if (opt_.shuffle_buffer > 1) rng.shuffle(block_);
  ++block_index_;
  return true;
}

bool ExampleStream::next(Example& ex) {
  if (block_i_ >= block_.size()) {
    if (!opt_.loop && block_index_ > 0 && gen_->epoch() > 0) return false;
    if (!refill()) return false;
  }
  ex = std::move(block_[block_i_++]);
  served_epoch_ = ex.epoch;
  return true;
}

std::vector<Example> ExampleStream::take(int64_t n) {
  std::vector<Example> out;
  Example e;
  while ((int64_t)out.size() < n && next(e)) out.push_back(std::move(e));
  return out;
}

nlohmann::json ExampleStream::state() const {
  return {{"block", block_index_}, {"block_start", block_start_}, {"served", block_i_}};
}

void ExampleStream::restore(const nlohmann::json& s, const std::string& where) {
  const int64_t blocks = bert::json_int(s, "block", where);
  if (blocks < 0) fail(where + ": key \"block\" is " + std::to_string(blocks) + ", expected >= 0");
  gen_->restore(bert::json_key(s, "block_start", where), where + ".block_start");
  block_.clear();
  block_i_ = 0;
  block_index_ = std::max<int64_t>(0, blocks - 1);
  if (blocks > 0) {
    refill();
    const uint64_t served = bert::json_uint(s, "served", where);
    if (served > block_.size())
      fail(where + ": the saved data position does not match the corpus (has it changed?)");
    block_i_ = (size_t)served;
    if (block_i_ > 0) served_epoch_ = block_[block_i_ - 1].epoch;
  }
}

// ---------------------------------------------------------------------------------------

PretrainBatch collate(const std::vector<Example>& ex, int64_t pad_id) {
  if (ex.empty()) fail("collate: empty batch");
  const int64_t B = (int64_t)ex.size();
  int64_t T = 0;
  for (const auto& e : ex) T = std::max(T, e.num_tokens());
  std::vector<int64_t> ids(B * T, pad_id), mask(B * T, 0), types(B * T, 0), labels(B * T, -100), nsp(B);
  std::vector<int64_t> positions, targets;
  PretrainBatch b;
  for (int64_t i = 0; i < B; ++i) {
    const Example& e = ex[i];
    for (int64_t t = 0; t < e.num_tokens(); ++t) {
      ids[i * T + t] = e.input_ids[t];
      mask[i * T + t] = 1;
      types[i * T + t] = e.token_type_ids[t];
      labels[i * T + t] = e.labels[t];
      if (e.labels[t] != -100) {
        positions.push_back(i * T + t);
        targets.push_back(e.labels[t]);
      }
    }
    nsp[i] = e.next_sentence_label;
    b.tokens += e.num_tokens();
  }
  b.input_ids = from_vector(ids, {B, T});
  b.attention_mask = from_vector(mask, {B, T});
  b.token_type_ids = from_vector(types, {B, T});
  b.labels = from_vector(labels, {B, T});
  b.next_sentence_label = from_vector(nsp, {B});
  b.masked = (int64_t)positions.size();
  b.masked_positions = from_vector(positions, {b.masked});
  b.masked_labels = from_vector(targets, {b.masked});
  return b;
}

PretrainBatch to_device(const PretrainBatch& b, Device d) {
  PretrainBatch o = b;
  for (Tensor* t : {&o.input_ids, &o.attention_mask, &o.token_type_ids, &o.labels, &o.next_sentence_label,
                    &o.masked_positions, &o.masked_labels})
    *t = t->to(d);
  return o;
}

}  // namespace bertlab::bert
