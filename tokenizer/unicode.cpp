// tokenizer/unicode.cpp — UTF-8 decoding and the per-code-point table (see unicode.h).
//
// The table holds, for each of the 0x110000 code points, its CharKind and two flags ("NFD+strip
// changes it", "lowercase changes it"); it is built once from utf8proc, then corrected by the
// override lists below so that it says what HF tokenizers 0.22 says.
#include "tokenizer/unicode.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <memory>
#include <span>

namespace bertlab::tokenizer {

// ------------------------------------------------------------------------------- UTF-8

char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int need = 0;                  // continuation bytes still to come
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the first continuation byte
  char32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2, cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;   // no overlongs
    if (b0 == 0xED) hi = 0x9F;   // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3, cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;   // no overlongs
    if (b0 == 0xF4) hi = 0x8F;   // nothing above U+10FFFF
  } else {
    ++i;                         // 80..C1, F5..FF can start nothing
    return kReplacementChar;
  }
  std::size_t k = i + 1;
  for (int n = 0; n < need; ++n, ++k) {
    if (k >= s.size()) break;
    const unsigned char b = byte(k);
    if (b < (n == 0 ? lo : 0x80) || b > (n == 0 ? hi : 0xBF)) break;
    cp = (cp << 6) | (b & 0x3F);
    if (n == need - 1) {
      i = k + 1;
      return cp;
    }
  }
  i = k;                         // the maximal subpart [i, k) becomes one U+FFFD
  return kReplacementChar;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t start = i;
    if (next_code_point(s, i) == kReplacementChar) {
      // a real U+FFFD is three bytes EF BF BD; anything else decoding to it was invalid
      if (i - start != 3 || static_cast<unsigned char>(s[start]) != 0xEF) return false;
    }
  }
  return true;
}

std::size_t count_code_points(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
    } else {
      next_code_point(s, i);
    }
  }
  return n;
}

// ------------------------------------------------------------------------------- HF overrides
//
// Where HF tokenizers 0.22 and utf8proc 2.8 (Unicode 15.0) disagree. Found by
// tests/tokenizer/test_unicode.cpp, which compares every code point with
// tests/tokenizer/golden/unicode_hf.json.gz. Reasons: HF's `unicode_categories` crate tables are
// Unicode 9-era (characters assigned later are "not control", "not punctuation", "not a mark"
// there), Rust's char::to_lowercase is a newer Unicode than utf8proc, and bert.rs has a typo in
// one CJK range (0x2B920 where the Python reference says 0x2B820).

namespace {

struct Range {
  char32_t lo, hi;  // inclusive
};

#include "tokenizer/unicode_hf_overrides.inc"

bool in_ranges(std::span<const Range> ranges, char32_t c) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), c,
                             [](char32_t x, const Range& r) { return x < r.lo; });
  return it != ranges.begin() && c <= std::prev(it)->hi;
}

constexpr bool is_cjk_ideograph(char32_t c) {
  // tokenizers/src/normalizers/bert.rs is_chinese_char (note 0x2B920, not 0x2B820)
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

constexpr bool white_space(char32_t c) {
  // Rust char::is_whitespace: the Unicode White_Space property
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

constexpr bool is_ascii_punct(char32_t c) {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
         (c >= 123 && c <= 126);
}

bool is_hf_control(char32_t c) {  // unicode_categories is_other(): Cc, Cf, Co
  if (in_ranges(kHfNotOther, c)) return false;
  if (in_ranges(kHfExtraOther, c)) return true;
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CO;
}

bool is_hf_punct(char32_t c) {
  if (is_ascii_punct(c)) return true;
  if (in_ranges(kHfNotPunct, c)) return false;
  if (in_ranges(kHfExtraPunct, c)) return true;
  const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

bool is_hf_nonspacing_mark(char32_t c) {
  if (in_ranges(kHfNotMn, c)) return false;
  if (in_ranges(kHfExtraMn, c)) return true;
  return utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_MN;
}

// Canonical decomposition (NFD of one code point) with utf8proc; n code points into out.
int decompose(char32_t c, char32_t* out) {
  if (in_ranges(kHfNoDecomposition, c)) {
    out[0] = c;
    return 1;
  }
  utf8proc_int32_t buf[kMaxExpansion];
  int last_boundclass = 0;
  const auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, kMaxExpansion,
                                         UTF8PROC_DECOMPOSE, &last_boundclass);
  if (n <= 0) {
    out[0] = c;
    return 1;
  }
  for (int k = 0; k < n; ++k) out[k] = static_cast<char32_t>(buf[k]);
  return static_cast<int>(n);
}

int strip_accents_uncached(char32_t c, char32_t* out) {
  char32_t d[kMaxExpansion];
  const int n = decompose(c, d);
  int m = 0;
  for (int k = 0; k < n; ++k) {
    if (!is_hf_nonspacing_mark(d[k])) out[m++] = d[k];
  }
  return m;
}

int to_lower_uncached(char32_t c, char32_t* out) {
  if (c == 0x130) {  // SpecialCasing.txt: the only unconditional multi-character lowercase
    out[0] = 'i';
    out[1] = 0x307;
    return 2;
  }
  for (const auto& [from, to] : kHfLowerOverrides) {
    if (from == c) {
      out[0] = to;
      return 1;
    }
  }
  out[0] = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
  return 1;
}

// One byte per code point: CharKind in the low 3 bits, then the two "changes" flags.
constexpr std::uint8_t kStripChanges = 1 << 3;
constexpr std::uint8_t kLowerChanges = 1 << 4;
constexpr char32_t kNumCodePoints = 0x110000;

std::unique_ptr<std::uint8_t[]> build_table() {
  auto t = std::make_unique<std::uint8_t[]>(kNumCodePoints);
  char32_t buf[kMaxExpansion];
  for (char32_t c = 0; c < kNumCodePoints; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) {  // surrogates never come out of the decoder
      t[c] = static_cast<std::uint8_t>(CharKind::kDrop);
      continue;
    }
    CharKind kind = CharKind::kPlain;
    if (c == 0 || c == kReplacementChar || (c != '\t' && c != '\n' && c != '\r' && is_hf_control(c))) {
      kind = CharKind::kDrop;
    } else if (white_space(c)) {
      kind = CharKind::kSpace;
    } else if (is_cjk_ideograph(c)) {
      kind = CharKind::kCjk;
    } else if (is_hf_punct(c)) {
      kind = CharKind::kPunct;
    }
    std::uint8_t v = static_cast<std::uint8_t>(kind);
    int n = strip_accents_uncached(c, buf);
    if (n != 1 || buf[0] != c) v |= kStripChanges;
    n = to_lower_uncached(c, buf);
    if (n != 1 || buf[0] != c) v |= kLowerChanges;
    t[c] = v;
  }
  return t;
}

const std::uint8_t* table() {
  static const std::unique_ptr<std::uint8_t[]> t = build_table();
  return t.get();
}

}  // namespace

bool is_white_space(char32_t c) { return white_space(c); }

CharKind char_kind(char32_t c) {
  return c < kNumCodePoints ? static_cast<CharKind>(table()[c] & 7) : CharKind::kDrop;
}

bool strip_is_identity(char32_t c) { return c >= kNumCodePoints || !(table()[c] & kStripChanges); }
bool lower_is_identity(char32_t c) { return c >= kNumCodePoints || !(table()[c] & kLowerChanges); }

int strip_accents(char32_t c, char32_t* out) {
  if (strip_is_identity(c)) {
    out[0] = c;
    return 1;
  }
  return strip_accents_uncached(c, out);
}

int to_lower(char32_t c, char32_t* out) {
  if (lower_is_identity(c)) {
    out[0] = c;
    return 1;
  }
  return to_lower_uncached(c, out);
}

}  // namespace bertlab::tokenizer
