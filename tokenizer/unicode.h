// tokenizer/unicode.h — the per-character facts the BERT tokenizer needs: UTF-8 decoding with a
// stated policy for bad bytes, and how Hugging Face classifies and rewrites each code point.
//
// Why: BertTokenizerFast (Rust `tokenizers`) decides "is this punctuation / a control character /
// a non-spacing mark" with tables from an older Unicode version than utf8proc's (15.0), and the
// Rust standard library's lowercase and the `unicode-normalization-alignments` NFD differ from
// utf8proc in a few places. We start from utf8proc and apply the differences found by comparing
// every code point with HF (tests/tokenizer/golden/unicode_hf.json.gz, made by
// tools/make_tokenizer_golden.py; tests/tokenizer/test_unicode.cpp checks all 1,112,064).
// Follows: tokenizers/src/normalizers/bert.rs, tokenizers/src/pre_tokenizers/bert.rs,
// Unicode 15 §3.9 (U+FFFD substitution of maximal subparts), utf8proc 2.8 API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bertlab::tokenizer {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes the code point at s[i], advances i past it. Bytes that are not valid UTF-8 decode to
// U+FFFD, one per "maximal subpart" (Unicode 15 §3.9, what Python's
// bytes.decode("utf-8", errors="replace") does), so i always advances by at least one byte.
char32_t next_code_point(std::string_view s, std::size_t& i);

// Appends the UTF-8 encoding of c (a valid scalar value) to out.
void append_utf8(std::string& out, char32_t c);

// True where every byte of s is part of a well-formed UTF-8 sequence.
bool is_valid_utf8(std::string_view s);

// Number of code points of s under next_code_point's policy.
std::size_t count_code_points(std::string_view s);

// How BertNormalizer (clean_text, handle_chinese_chars) and BertPreTokenizer see a code point.
enum class CharKind : std::uint8_t {
  kPlain,    // kept, part of a word
  kDrop,     // removed by clean_text: U+0000, U+FFFD, control/format/private-use (not \t \n \r)
  kSpace,    // mapped to ' ' by clean_text and split on: \t \n \r and Unicode White_Space
  kPunct,    // split off as a word of its own: ASCII 33-47, 58-64, 91-96, 123-126 and category P*
  kCjk,      // CJK ideograph: surrounded by spaces (handle_chinese_chars)
};

// The kind of c as HF tokenizers classifies it (table lookup, O(1)).
CharKind char_kind(char32_t c);

// The Unicode White_Space property (Rust char::is_whitespace): what BertPreTokenizer splits on.
bool is_white_space(char32_t c);

// Upper bound on the code points one input code point can become (NFD then lowercase).
inline constexpr int kMaxExpansion = 20;

// strip_accents: NFD(c) with non-spacing marks (category Mn) removed. Writes the result to
// out[0..n), returns n (0 when c is itself a mark). Unchanged characters return c itself.
int strip_accents(char32_t c, char32_t* out);

// Full lowercase mapping of c as Rust's char::to_lowercase (U+0130 becomes "i\u0307").
int to_lower(char32_t c, char32_t* out);

// True when strip_accents(c) == {c}; lets callers skip the call for most characters.
bool strip_is_identity(char32_t c);
// True when to_lower(c) == {c}.
bool lower_is_identity(char32_t c);

}  // namespace bertlab::tokenizer
