// tokenizer/bert_tokenizer.cpp — the BERT tokenizer (see bert_tokenizer.h for the pipeline).
#include "tokenizer/bert_tokenizer.h"

#include <algorithm>
#include <stdexcept>

#include "tokenizer/tokenizer_json.h"
#include "tokenizer/unicode.h"

namespace bertlab::tokenizer {

// Per-thread buffers, reused from call to call: no allocation per token or word.
struct BertTokenizer::Scratch {
  std::string word;                   // the current word, normalized, UTF-8
  std::vector<std::uint32_t> origin;  // (word.size()) byte of the input each word byte came from
  std::vector<Piece> pieces;          // WordPiece output for the current word
  std::vector<std::uint32_t> char_index;  // byte -> code point index, for code point offsets
};

namespace {

// ASCII kinds and lowercase, looked up without touching the big table.
struct AsciiTables {
  CharKind kind[128];
  char lower[128];
  AsciiTables() {
    for (int c = 0; c < 128; ++c) {
      kind[c] = char_kind(static_cast<char32_t>(c));
      lower[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
  }
};
const AsciiTables& ascii() {
  static const AsciiTables t;
  return t;
}

// End (exclusive byte) of the code point that starts at byte p of text.
std::uint32_t char_end(std::string_view text, std::uint32_t p) {
  if (static_cast<unsigned char>(text[p]) < 0x80) return p + 1;
  std::size_t i = p;
  next_code_point(text, i);
  return static_cast<std::uint32_t>(i);
}

bool has_non_ascii(std::string_view s) {
  for (unsigned char b : s) {
    if (b >= 0x80) return true;
  }
  return false;
}

// Rewrites byte offsets of tokens [from, e.size()) into code point offsets of text.
void offsets_to_code_points(std::string_view text, Encoding& e, std::size_t from,
                            std::vector<std::uint32_t>& map) {
  if (from == e.size() || !has_non_ascii(text)) return;
  map.assign(text.size() + 1, 0);
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < text.size(); ++n) {
    map[i] = n;
    next_code_point(text, i);
  }
  map[text.size()] = n;
  for (std::size_t k = from; k < e.size(); ++k) {
    e.offsets[k] = {map[e.offsets[k].first], map[e.offsets[k].second]};
  }
}

// Python's str.replace (all non-overlapping occurrences, left to right).
void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t pos = 0;
  for (std::size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  if (pos == 0) return;
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

// tokenizers/src/decoders/wordpiece.rs cleanup(), applied by the decoder to each piece.
void wordpiece_cleanup(std::string& s) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},   {" ?", "?"},   {" !", "!"},   {" ,", ","},         {" ' ", "'"}, {" n't", "n't"},
      {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  if (s.find(' ') == std::string::npos) return;
  for (auto [from, to] : kRules) replace_all(s, from, to);
}

// transformers PreTrainedTokenizerBase.clean_up_tokenization, applied to the decoded text.
void clean_up_tokenization(std::string& s) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},   {" ?", "?"},   {" !", "!"},   {" ,", ","},   {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (auto [from, to] : kRules) replace_all(s, from, to);
}

}  // namespace

// ------------------------------------------------------------------------------- construction

BertTokenizer::BertTokenizer(const std::filesystem::path& vocab_file, TokenizerOptions options)
    : BertTokenizer(load_vocab(vocab_file), std::move(options)) {}

BertTokenizer::BertTokenizer(Vocab vocab, TokenizerOptions options)
    : vocab_(std::make_shared<const Vocab>(std::move(vocab))), options_(std::move(options)) {
  lowercase_ = options_.do_lower_case;
  strip_accents_ = options_.strip_accents.value_or(options_.do_lower_case);
  const auto need = [&](const std::string& tok, const char* role) {
    const TokenId id = vocab_->find(tok);
    if (id < 0) {
      throw TokenizerError(std::string("the ") + role + " '" + tok + "' is not in the vocabulary (" +
                           std::to_string(vocab_->size()) + " tokens)");
    }
    return id;
  };
  unk_id_ = need(options_.unk_token, "unk_token");
  sep_id_ = need(options_.sep_token, "sep_token");
  pad_id_ = need(options_.pad_token, "pad_token");
  cls_id_ = need(options_.cls_token, "cls_token");
  mask_id_ = need(options_.mask_token, "mask_token");
  wordpiece_ = WordPiece(*vocab_, options_.unk_token, options_.continuing_subword_prefix,
                         options_.max_input_chars_per_word);
  is_special_.assign(vocab_->size(), false);
  std::vector<std::string> special = {options_.pad_token, options_.unk_token, options_.cls_token,
                                      options_.sep_token, options_.mask_token};
  special.insert(special.end(), options_.additional_special_tokens.begin(),
                 options_.additional_special_tokens.end());
  for (const std::string& tok : special) {
    const TokenId id = need(tok, "special token");
    if (tok.empty() || is_special_[static_cast<std::size_t>(id)]) continue;
    is_special_[static_cast<std::size_t>(id)] = true;
    specials_.emplace_back(tok, id);
    special_first_byte_[static_cast<unsigned char>(tok[0])] = true;
  }
  // leftmost-longest matching: at one position, try the longer tokens first
  std::stable_sort(specials_.begin(), specials_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  ascii();  // build the tables now, not inside a parallel region
}

BertTokenizer BertTokenizer::from_pretrained(const std::filesystem::path& dir) {
  const auto json_file = dir / "tokenizer.json";
  if (std::filesystem::exists(json_file)) {
    TokenizerJson tj = load_tokenizer_json(json_file);
    TokenizerOptions options = load_tokenizer_config(dir, tj.options, json_file);
    try {
      return BertTokenizer(std::move(tj.vocab), std::move(options));
    } catch (const TokenizerError& e) {  // e.g. a mask_token that is not in the vocabulary
      throw TokenizerError(json_file.string() + ": " + e.what());
    }
  }
  const auto vocab_file = dir / "vocab.txt";
  if (!std::filesystem::exists(vocab_file)) {
    throw TokenizerError(dir.string() + ": no tokenizer.json or vocab.txt in this folder (a BERT model folder "
                                        "saved by transformers or bertlab has one)");
  }
  return BertTokenizer(vocab_file, load_tokenizer_config(dir));
}

// ------------------------------------------------------------------------------- one sequence

void BertTokenizer::encode_span(std::string_view text, std::size_t begin, std::size_t end,
                                std::int32_t type_id, std::int32_t seq_id, std::int32_t fixed_word,
                                std::int32_t& next_word, Encoding& out, Scratch& s) const {
  std::string& word = s.word;
  std::vector<std::uint32_t>& origin = s.origin;
  word.clear();
  origin.clear();
  // WordPiece on the word collected so far; each piece's offsets are the input bytes from the
  // start of its first character to the end of its last.
  const auto flush = [&] {
    if (word.empty()) return;
    s.pieces.clear();
    wordpiece_.tokenize(word, s.pieces);
    const std::int32_t w = fixed_word >= 0 ? fixed_word : next_word++;
    for (const Piece& p : s.pieces) {
      out.push(p.id, type_id, {origin[p.start], char_end(text, origin[p.end - 1])}, w, seq_id, 0);
    }
    word.clear();
    origin.clear();
  };
  const auto add = [&](char32_t c, std::uint32_t from) {
    const std::size_t before = word.size();
    if (c < 0x80) {
      word.push_back(static_cast<char>(c));
    } else {
      append_utf8(word, c);
    }
    origin.insert(origin.end(), word.size() - before, from);
  };
  // BertNormalizer's strip_accents then lowercase, on one character; each resulting character
  // is a word character, or punctuation split off on its own (BertPreTokenizer runs after).
  const auto add_normalized = [&](char32_t c, std::uint32_t from) {
    char32_t a[kMaxExpansion], b[kMaxExpansion];
    int n = 1;
    a[0] = c;
    if (strip_accents_ && !strip_is_identity(c)) n = strip_accents(c, a);
    if (lowercase_) {
      int m = 0;
      for (int k = 0; k < n; ++k) m += to_lower(a[k], b + m);
      std::copy(b, b + m, a);
      n = m;
    }
    for (int k = 0; k < n; ++k) {
      if (char_kind(a[k]) == CharKind::kPunct) {
        flush();
        add(a[k], from);
        flush();
      } else {
        add(a[k], from);
      }
    }
  };
  const AsciiTables& t = ascii();
  const bool check_never_split = !options_.never_split.empty();
  bool at_piece_start = true;  // after whitespace: where a never_split piece may begin
  for (std::size_t i = begin; i < end;) {
    const auto p = static_cast<std::uint32_t>(i);
    if (check_never_split && at_piece_start) {
      std::size_t j = i;
      while (j < end) {
        std::size_t k = j;
        if (char_kind(next_code_point(text, k)) == CharKind::kSpace) break;
        j = k;
      }
      const std::string_view piece = text.substr(i, j - i);
      if (std::find(options_.never_split.begin(), options_.never_split.end(), piece) !=
          options_.never_split.end()) {
        flush();
        for (std::size_t k = i; k < j;) {
          const auto q = static_cast<std::uint32_t>(k);
          add(next_code_point(text, k), q);
        }
        flush();
        i = j;
        continue;
      }
    }
    const unsigned char b0 = static_cast<unsigned char>(text[i]);
    if (b0 < 0x80) {  // ASCII: no accents, simple lowercase
      ++i;
      CharKind kind = t.kind[b0];
      if (!options_.clean_text && kind == CharKind::kDrop) {
        kind = is_white_space(b0) ? CharKind::kSpace : CharKind::kPlain;
      }
      at_piece_start = kind == CharKind::kSpace;
      switch (kind) {
        case CharKind::kDrop: break;
        case CharKind::kSpace: flush(); break;
        case CharKind::kPunct:
          flush();
          add(b0, p);
          flush();
          break;
        default:
          word.push_back(lowercase_ ? t.lower[b0] : static_cast<char>(b0));
          origin.push_back(p);
      }
      continue;
    }
    const char32_t c = next_code_point(text, i);
    CharKind kind = char_kind(c);
    if (!options_.clean_text && kind == CharKind::kDrop) {
      kind = is_white_space(c) ? CharKind::kSpace : CharKind::kPlain;
    }
    if (kind == CharKind::kCjk && !options_.tokenize_chinese_chars) kind = CharKind::kPlain;
    at_piece_start = kind == CharKind::kSpace;
    switch (kind) {
      case CharKind::kDrop: break;
      case CharKind::kSpace: flush(); break;
      case CharKind::kCjk:
        flush();
        add_normalized(c, p);
        flush();
        break;
      default: add_normalized(c, p);
    }
  }
  flush();
}

void BertTokenizer::encode_sequence(std::string_view text, std::int32_t type_id, std::int32_t seq_id,
                                    std::int32_t fixed_word, std::int32_t& next_word, Encoding& out,
                                    Scratch& s) const {
  // Special tokens written in the text are cut out before normalization (leftmost-longest).
  std::size_t pos = 0;
  if (!specials_.empty()) {
    for (std::size_t i = 0; i < text.size();) {
      if (!special_first_byte_[static_cast<unsigned char>(text[i])]) {
        ++i;
        continue;
      }
      const auto hit = std::find_if(specials_.begin(), specials_.end(), [&](const auto& sp) {
        return text.substr(i).starts_with(sp.first);
      });
      if (hit == specials_.end()) {
        ++i;
        continue;
      }
      encode_span(text, pos, i, type_id, seq_id, fixed_word, next_word, out, s);
      const std::int32_t w = fixed_word >= 0 ? fixed_word : next_word++;
      out.push(hit->second, type_id,
               {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + hit->first.size())}, w,
               seq_id, 0);
      i += hit->first.size();
      pos = i;
    }
  }
  encode_span(text, pos, text.size(), type_id, seq_id, fixed_word, next_word, out, s);
}

Encoding BertTokenizer::encode_one(std::string_view text, std::span<const std::string> words,
                                   bool split, std::int32_t type_id, std::int32_t seq_id,
                                   OffsetUnit unit, Scratch& s) const {
  Encoding e;
  std::int32_t next_word = 0;
  if (!split) {
    e.reserve(text.size() / 4 + 4);
    encode_sequence(text, type_id, seq_id, -1, next_word, e, s);
    if (unit == OffsetUnit::kCodePoints) offsets_to_code_points(text, e, 0, s.char_index);
    return e;
  }
  for (std::size_t w = 0; w < words.size(); ++w) {  // offsets stay relative to each word
    const std::size_t from = e.size();
    encode_sequence(words[w], type_id, seq_id, static_cast<std::int32_t>(w), next_word, e, s);
    if (unit == OffsetUnit::kCodePoints) offsets_to_code_points(words[w], e, from, s.char_index);
  }
  return e;
}

// ------------------------------------------------------------------------------- post-processing

std::size_t BertTokenizer::resolve_max_length(const EncodeOptions& opt) const {
  return opt.max_length > 0 ? opt.max_length : options_.model_max_length;
}

Encoding BertTokenizer::post_process(Encoding a, std::optional<Encoding> b, const EncodeOptions& opt) const {
  if (opt.truncation != Truncation::kNone) {
    const std::size_t max_len = resolve_max_length(opt);
    const std::size_t added = opt.add_special_tokens ? (b ? 3 : 2) : 0;
    if (max_len < added) {
      throw std::invalid_argument("max_length " + std::to_string(max_len) + " leaves no room for the " +
                                  std::to_string(added) + " special tokens");
    }
    const TruncationStrategy strategy = opt.truncation == Truncation::kOnlyFirst    ? TruncationStrategy::kOnlyFirst
                                        : opt.truncation == Truncation::kOnlySecond ? TruncationStrategy::kOnlySecond
                                                                                    : TruncationStrategy::kLongestFirst;
    truncate_pair(a, b ? &*b : nullptr, max_len - added, opt.stride, strategy);
    if (!opt.return_overflowing_tokens) {
      a.overflowing.clear();
      if (b) b->overflowing.clear();
    }
  }
  Encoding out;
  if (opt.add_special_tokens) {  // TemplateProcessing: [CLS]:0 A:0 [SEP]:0 (B:1 [SEP]:1)
    Encoding cls, sep0, sep1;
    cls.push(cls_id_, 0, {0, 0}, -1, -1, 1);
    sep0.push(sep_id_, 0, {0, 0}, -1, -1, 1);
    sep1.push(sep_id_, 1, {0, 0}, -1, -1, 1);
    out.reserve(a.size() + (b ? b->size() : 0) + 3);
    out.push(cls_id_, 0, {0, 0}, -1, -1, 1);
    merge(out, a);
    merge(out, sep0);
    if (b) {
      merge(out, *b);
      merge(out, sep1);
    }
  } else {
    out = std::move(a);
    if (b) merge(out, *b);
  }
  if (opt.padding == Padding::kMaxLength) {
    std::size_t target = resolve_max_length(opt);
    if (opt.pad_to_multiple_of > 0 && target % opt.pad_to_multiple_of != 0) {
      target += opt.pad_to_multiple_of - target % opt.pad_to_multiple_of;
    }
    pad(out, target, pad_id_);
  }
  return out;
}

void BertTokenizer::pad_batch(std::vector<Encoding>& batch, const EncodeOptions& opt) const {
  if (opt.padding != Padding::kLongest || batch.empty()) return;
  std::size_t target = 0;
  for (const Encoding& e : batch) target = std::max(target, e.size());
  if (opt.pad_to_multiple_of > 0 && target % opt.pad_to_multiple_of != 0) {
    target += opt.pad_to_multiple_of - target % opt.pad_to_multiple_of;
  }
  for (Encoding& e : batch) pad(e, target, pad_id_);
}

// ------------------------------------------------------------------------------- public encode

Encoding BertTokenizer::encode(const EncodeInput& in, const EncodeOptions& opt) const {
  thread_local Scratch s;
  const bool has_pair = in.is_split_into_words ? !in.pair_words.empty() || in.pair.has_value() : in.pair.has_value();
  if (opt.truncation == Truncation::kNone && opt.add_special_tokens && !in.is_split_into_words &&
      opt.padding == Padding::kNone) {
    // The common case, written straight into one Encoding: [CLS] A [SEP] (B [SEP]). Same result
    // as post_process below, without building A and B apart and copying them.
    Encoding e;
    e.reserve((in.text.size() + (has_pair ? in.pair->size() : 0)) / 4 + 4);
    e.push(cls_id_, 0, {0, 0}, -1, -1, 1);
    std::int32_t next_word = 0;
    encode_sequence(in.text, 0, 0, -1, next_word, e, s);
    if (opt.offsets == OffsetUnit::kCodePoints) offsets_to_code_points(in.text, e, 1, s.char_index);
    e.push(sep_id_, 0, {0, 0}, -1, -1, 1);
    if (has_pair) {
      const std::size_t from = e.size();
      next_word = 0;
      encode_sequence(*in.pair, 1, 1, -1, next_word, e, s);
      if (opt.offsets == OffsetUnit::kCodePoints) offsets_to_code_points(*in.pair, e, from, s.char_index);
      e.push(sep_id_, 1, {0, 0}, -1, -1, 1);
    }
    return e;
  }
  Encoding a = encode_one(in.text, in.words, in.is_split_into_words, 0, 0, opt.offsets, s);
  std::optional<Encoding> b;
  if (has_pair) {
    b = encode_one(in.pair.value_or(std::string_view{}), in.pair_words, in.is_split_into_words, 1, 1,
                   opt.offsets, s);
  }
  Encoding out = post_process(std::move(a), std::move(b), opt);
  if (opt.padding == Padding::kLongest && opt.pad_to_multiple_of > 0) {
    std::vector<Encoding> one;
    one.push_back(std::move(out));
    pad_batch(one, opt);
    out = std::move(one[0]);
  }
  return out;
}

Encoding BertTokenizer::encode(std::string_view text, const EncodeOptions& opt) const {
  EncodeInput in;
  in.text = text;
  return encode(in, opt);
}

Encoding BertTokenizer::encode(std::string_view text, std::string_view pair, const EncodeOptions& opt) const {
  EncodeInput in;
  in.text = text;
  in.pair = pair;
  return encode(in, opt);
}

Encoding BertTokenizer::encode_words(std::span<const std::string> words, const EncodeOptions& opt) const {
  EncodeInput in;
  in.words = words;
  in.is_split_into_words = true;
  return encode(in, opt);
}

Encoding BertTokenizer::encode_words(std::span<const std::string> words, std::span<const std::string> pair,
                                     const EncodeOptions& opt) const {
  EncodeInput in;
  in.words = words;
  in.pair_words = pair;
  in.is_split_into_words = true;
  return encode(in, opt);
}

std::vector<Encoding> BertTokenizer::encode_batch(std::span<const EncodeInput> inputs,
                                                  const EncodeOptions& opt) const {
  std::vector<Encoding> out(inputs.size());
  EncodeOptions each = opt;
  if (each.padding == Padding::kLongest) each.padding = Padding::kNone;  // padded together below
  std::exception_ptr error;
  const auto n = static_cast<std::ptrdiff_t>(inputs.size());
#pragma omp parallel for schedule(dynamic, 16)
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    try {
      out[static_cast<std::size_t>(i)] = encode(inputs[static_cast<std::size_t>(i)], each);
    } catch (...) {
#pragma omp critical
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  pad_batch(out, opt);
  return out;
}

std::vector<Encoding> BertTokenizer::encode_batch(std::span<const std::string> texts,
                                                  const EncodeOptions& opt) const {
  std::vector<EncodeInput> inputs(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) inputs[i].text = texts[i];
  return encode_batch(inputs, opt);
}

std::vector<std::string> BertTokenizer::tokenize(std::string_view text) const {
  EncodeOptions opt;
  opt.add_special_tokens = false;
  const Encoding e = encode(text, opt);
  std::vector<std::string> tokens;
  tokens.reserve(e.size());
  for (TokenId id : e.ids) tokens.push_back(vocab_->token(id));
  return tokens;
}

// ------------------------------------------------------------------------------- decode

bool BertTokenizer::is_special(TokenId id) const {
  return id >= 0 && static_cast<std::size_t>(id) < is_special_.size() && is_special_[static_cast<std::size_t>(id)];
}

std::string BertTokenizer::convert_tokens_to_string(std::span<const std::string> tokens) const {
  // tokenizers' WordPiece decoder (cleanup = true): piece i > 0 loses its "##" or gains a space;
  // then each piece is cleaned up on its own.
  const std::string& prefix = options_.continuing_subword_prefix;
  std::string out, piece;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    piece.clear();
    if (i != 0) {
      if (!prefix.empty() && tokens[i].starts_with(prefix)) {
        piece.append(tokens[i], prefix.size());
      } else {
        piece.push_back(' ');
        piece.append(tokens[i]);
      }
    } else {
      piece = tokens[i];
    }
    wordpiece_cleanup(piece);
    out += piece;
  }
  return out;
}

std::string BertTokenizer::decode(std::span<const TokenId> ids, const DecodeOptions& opt) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (TokenId id : ids) {
    if (id < 0 || static_cast<std::size_t>(id) >= vocab_->size()) continue;  // HF fast: dropped
    if (opt.skip_special_tokens && is_special(id)) continue;
    tokens.push_back(vocab_->token(id));
  }
  std::string text = convert_tokens_to_string(tokens);
  if (opt.clean_up_tokenization_spaces.value_or(options_.clean_up_tokenization_spaces)) {
    clean_up_tokenization(text);
  }
  return text;
}

std::vector<std::string> BertTokenizer::convert_ids_to_tokens(std::span<const TokenId> ids,
                                                              bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (TokenId id : ids) {
    if (skip_special_tokens && is_special(id)) continue;
    tokens.push_back(vocab_->token(id));
  }
  return tokens;
}

TokenId BertTokenizer::convert_token_to_id(std::string_view token) const {
  const TokenId id = vocab_->find(token);
  return id >= 0 ? id : unk_id_;
}

}  // namespace bertlab::tokenizer
