// tests/fuzz/fuzz_tokenizer.cpp — libFuzzer target for the tokenizer: the encoder (text, pairs,
// pre-split words, truncation / stride / padding options, decode) and the vocab.txt loader.
//
// The first input byte picks what to do with the rest; every run checks invariants and aborts on
// a violation: all fields of an Encoding have one length, offsets lie inside the input and are
// ordered, ids are in the vocabulary, LinMaxMatch equals plain MaxMatch on every word.
// Built by `-Dfuzz=enabled` with clang (libFuzzer); fuzz_tokenizer_replay.cpp runs the same
// function over tests/fuzz/corpus_tokenizer in every normal build (meson test).
// Follows: https://llvm.org/docs/LibFuzzer.html
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tokenizer/bert_tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/wordpiece.h"

namespace tk = bertlab::tokenizer;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_tokenizer: invariant broken: %s\n", what);
  std::abort();
}
#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) fail(#cond); \
  } while (0)

const tk::BertTokenizer& bert(bool cased) {
  const auto find = [](const char* name) {
    for (const char* dir : {"data/vocab", "../data/vocab", "../../data/vocab"}) {
      const auto p = std::filesystem::path(dir) / name;
      if (std::filesystem::exists(p)) return p;
    }
    if (const char* env = std::getenv("BERTLAB_DATA")) return std::filesystem::path(env) / "vocab" / name;
    fail("bert-base vocab not found: run from the repository root or set BERTLAB_DATA");
  };
  static const tk::BertTokenizer uncased(find("bert-base-uncased-vocab.txt"));
  static const tk::BertTokenizer cased_tok(find("bert-base-cased-vocab.txt"), [] {
    tk::TokenizerOptions o;
    o.do_lower_case = false;
    return o;
  }());
  return cased ? cased_tok : uncased;
}

void check_encoding(const tk::BertTokenizer& tok, const tk::Encoding& e, std::size_t len_a, std::size_t len_b) {
  const std::size_t n = e.ids.size();
  FUZZ_CHECK(e.type_ids.size() == n && e.offsets.size() == n && e.word_ids.size() == n &&
             e.sequence_ids.size() == n && e.special_tokens_mask.size() == n && e.attention_mask.size() == n);
  for (std::size_t i = 0; i < n; ++i) {
    FUZZ_CHECK(e.ids[i] >= 0 && static_cast<std::size_t>(e.ids[i]) < tok.vocab().size());
    FUZZ_CHECK(e.offsets[i].first <= e.offsets[i].second);
    const std::size_t len = e.sequence_ids[i] == 1 ? len_b : len_a;
    FUZZ_CHECK(e.offsets[i].second <= len);
    if (e.sequence_ids[i] < 0) FUZZ_CHECK(e.word_ids[i] == -1);
    if (e.attention_mask[i] == 0) FUZZ_CHECK(e.ids[i] == tok.pad_id());
  }
  for (const tk::Encoding& o : e.overflowing) check_encoding(tok, o, len_a, len_b);
  // decode never throws, whatever the ids
  (void)tok.decode(e.ids);
  tk::DecodeOptions d;
  d.skip_special_tokens = true;
  (void)tok.decode(e.ids, d);
}

// LinMaxMatch and MaxMatch agree on every whitespace-separated piece of text.
void check_wordpiece(const tk::WordPiece& wp, std::string_view text) {
  std::vector<tk::Piece> a, b;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] != ' ' && text[i] != '\n') continue;
    const std::string_view w = text.substr(start, i - start);
    start = i + 1;
    if (w.empty() || !tk::is_valid_utf8(w)) continue;
    a.clear(), b.clear();
    wp.tokenize(w, a);
    wp.tokenize_reference(w, b);
    FUZZ_CHECK(a.size() == b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
      FUZZ_CHECK(a[k].id == b[k].id && a[k].start == b[k].start && a[k].end == b[k].end);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const tk::BertTokenizer& tok = bert(mode & 1);
  const std::size_t len = tk::count_code_points(rest);
  switch ((mode >> 1) % 5) {
    case 0: {  // one text
      check_encoding(tok, tok.encode(rest), len, 0);
      break;
    }
    case 1: {  // a pair, split at the first '|', with options from the next bytes
      const std::size_t bar = rest.find('|');
      const std::string a = rest.substr(0, bar), b = bar == std::string::npos ? "" : rest.substr(bar + 1);
      tk::EncodeOptions o;
      const std::uint8_t x = size > 1 ? data[1] : 0;
      o.truncation = static_cast<tk::Truncation>(x % 4);
      o.max_length = 1 + (x >> 2) % 24;
      o.stride = (x >> 4) % 4;
      o.return_overflowing_tokens = x & 1;
      o.padding = static_cast<tk::Padding>((x >> 3) % 3);
      o.offsets = (x & 2) ? tk::OffsetUnit::kBytes : tk::OffsetUnit::kCodePoints;
      try {
        const tk::Encoding e = tok.encode(a, b, o);
        const bool bytes = o.offsets == tk::OffsetUnit::kBytes;
        check_encoding(tok, e, bytes ? a.size() : tk::count_code_points(a), bytes ? b.size() : tk::count_code_points(b));
        if (o.padding == tk::Padding::kMaxLength) FUZZ_CHECK(e.size() >= o.max_length);
        if (o.truncation != tk::Truncation::kNone) FUZZ_CHECK(e.size() <= std::max<std::size_t>(o.max_length, 3));
      } catch (const std::invalid_argument&) {
        // impossible truncation requests: HF raises too
      }
      break;
    }
    case 2: {  // pre-split words (split on '\n'), in a batch with padding
      std::vector<std::string> words;
      std::size_t start = 0;
      for (std::size_t i = 0; i <= rest.size(); ++i) {
        if (i == rest.size() || rest[i] == '\n') {
          words.push_back(rest.substr(start, i - start));
          start = i + 1;
        }
      }
      tk::EncodeInput in;
      in.is_split_into_words = true;
      in.words = words;
      std::vector<tk::EncodeInput> batch = {in, in};
      batch[1].words = std::span<const std::string>(words).subspan(words.size() / 2);
      tk::EncodeOptions o;
      o.padding = tk::Padding::kLongest;
      const auto out = tok.encode_batch(batch, o);
      FUZZ_CHECK(out.size() == 2 && out[0].size() == out[1].size());
      for (const auto& e : out) {
        for (std::size_t i = 0; i < e.size(); ++i) {
          if (e.word_ids[i] >= 0) FUZZ_CHECK(static_cast<std::size_t>(e.word_ids[i]) < words.size());
        }
      }
      break;
    }
    case 3: {  // a vocabulary: the five specials, then the input as vocab.txt lines
      try {
        const tk::Vocab v = tk::parse_vocab("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n" + rest, "fuzz");
        const tk::BertTokenizer t(v);
        check_encoding(t, t.encode(rest), len, 0);
        const tk::WordPiece wp(t.vocab());
        check_wordpiece(wp, rest);
      } catch (const tk::TokenizerError&) {
        // duplicate tokens, invalid UTF-8: a clear error is the expected outcome
      }
      break;
    }
    case 4: {  // decode arbitrary ids, and WordPiece on the raw bytes' pieces
      std::vector<tk::TokenId> ids;
      for (std::size_t i = 0; i + 1 < rest.size(); i += 2) {
        ids.push_back(static_cast<tk::TokenId>((static_cast<std::uint8_t>(rest[i]) << 8 | static_cast<std::uint8_t>(rest[i + 1])) - 100));
      }
      tk::DecodeOptions d;
      d.skip_special_tokens = mode & 16;
      d.clean_up_tokenization_spaces = mode & 32;
      (void)tok.decode(ids, d);
      static const tk::WordPiece wp(bert(false).vocab());
      check_wordpiece(wp, rest);
      break;
    }
  }
  return 0;
}
