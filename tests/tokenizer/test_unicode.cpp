// tests/tokenizer/test_unicode.cpp — tokenizer/unicode.h: the UTF-8 decoding policy for bad
// bytes (Python's errors="replace"), and every one of the 1,112,064 code points classified and
// rewritten exactly as HF tokenizers does (golden/unicode_hf.json.gz, probed from the installed
// tokenizers by tools/make_tokenizer_golden.py).
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "tests/tokenizer/golden_reader.h"
#include "tokenizer/unicode.h"

namespace tk = bertlab::tokenizer;
using nlohmann::json;

namespace {

std::vector<char32_t> decode_all(std::string_view s) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < s.size();) out.push_back(tk::next_code_point(s, i));
  return out;
}

std::set<char32_t> expand(const json& ranges) {
  std::set<char32_t> out;
  for (const json& r : ranges) {
    for (char32_t c = r[0].get<char32_t>(); c <= r[1].get<char32_t>(); ++c) out.insert(c);
  }
  return out;
}

std::u32string utf32(const std::string& s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) out.push_back(tk::next_code_point(s, i));
  return out;
}

}  // namespace

TEST_CASE("valid UTF-8 decodes to its code points") {
  CHECK(decode_all("a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80") == std::vector<char32_t>{'a', 0xE9, 0x4E2D, 0x1F600});
  std::string s;
  for (char32_t c : {char32_t{0x7F}, char32_t{0x80}, char32_t{0x7FF}, char32_t{0x800}, char32_t{0xFFFF},
                     char32_t{0x10000}, char32_t{0x10FFFF}}) {
    tk::append_utf8(s, c);
  }
  CHECK(decode_all(s) == std::vector<char32_t>{0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF});
  CHECK(tk::is_valid_utf8(s));
  CHECK(tk::is_valid_utf8("\xEF\xBF\xBD"));  // a real U+FFFD is valid
}

TEST_CASE("invalid UTF-8 becomes one U+FFFD per maximal subpart, as Python's errors='replace'") {
  // Expected values are what bytes.decode("utf-8", errors="replace") gives.
  constexpr char32_t R = tk::kReplacementChar;
  CHECK(decode_all("\xFF") == std::vector<char32_t>{R});
  CHECK(decode_all("a\x80" "b") == std::vector<char32_t>{'a', R, 'b'});
  CHECK(decode_all("\xC3(") == std::vector<char32_t>{R, '('});
  CHECK(decode_all("\xE2\x82") == std::vector<char32_t>{R});          // truncated 3-byte: one
  CHECK(decode_all("\xF0\x9F\x98") == std::vector<char32_t>{R});      // truncated 4-byte: one
  CHECK(decode_all("\xED\xA0\x80") == std::vector<char32_t>{R, R, R});  // surrogate: three
  CHECK(decode_all("\xC0\x80") == std::vector<char32_t>{R, R});        // overlong: two
  CHECK(decode_all("\xE0\x80\x80") == std::vector<char32_t>{R, R, R});
  CHECK(decode_all("\xF4\x90\x80\x80") == std::vector<char32_t>{R, R, R, R});  // above U+10FFFF
  CHECK(decode_all("\xF5") == std::vector<char32_t>{R});
  CHECK(decode_all("\xE2\x82z") == std::vector<char32_t>{R, 'z'});
  CHECK_FALSE(tk::is_valid_utf8("abc\xFF"));
  CHECK_FALSE(tk::is_valid_utf8("\xE2\x82"));
  CHECK(tk::count_code_points("a\xE2\x82\xF0\x9F\x98\x80") == 3);
}

TEST_CASE("every code point is classified and rewritten as HF tokenizers does") {
  const json hf = json::parse(tk::testing::read_file("tests/tokenizer/golden/unicode_hf.json.gz"));
  const auto drop = expand(hf["drop"]), space = expand(hf["space"]), cjk = expand(hf["cjk"]),
             punct = expand(hf["punct"]);
  std::map<char32_t, std::u32string> strip, lower;
  for (const auto& [k, v] : hf["strip"].items()) strip[static_cast<char32_t>(std::stoul(k, nullptr, 16))] = utf32(v);
  for (const auto& [k, v] : hf["lower"].items()) lower[static_cast<char32_t>(std::stoul(k, nullptr, 16))] = utf32(v);
  std::size_t checked = 0, wrong_kind = 0, wrong_strip = 0, wrong_lower = 0;
  for (char32_t c = 0; c < 0x110000; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    ++checked;
    // HF's normalizer decides drop/space/CJK on the raw character; the pre-tokenizer decides
    // punctuation. A CJK ideograph or a space is never punctuation, so one kind per code point.
    tk::CharKind want = tk::CharKind::kPlain;
    if (drop.count(c)) {
      want = tk::CharKind::kDrop;
    } else if (space.count(c) || c == ' ') {
      want = tk::CharKind::kSpace;
    } else if (cjk.count(c)) {
      want = tk::CharKind::kCjk;
    } else if (punct.count(c)) {
      want = tk::CharKind::kPunct;
    }
    if (tk::char_kind(c) != want && ++wrong_kind <= 10) {
      FAIL_CHECK("U+" << std::hex << static_cast<unsigned>(c) << ": kind " << static_cast<int>(tk::char_kind(c))
                          << ", HF says " << static_cast<int>(want));
    }
    char32_t buf[tk::kMaxExpansion];
    const auto s_it = strip.find(c);
    const std::u32string s_want = s_it == strip.end() ? std::u32string(1, c) : s_it->second;
    const std::u32string s_got(buf, buf + tk::strip_accents(c, buf));
    if (s_got != s_want && ++wrong_strip <= 10) {
      FAIL_CHECK("U+" << std::hex << static_cast<unsigned>(c) << ": strip_accents differs from HF");
    }
    const auto l_it = lower.find(c);
    const std::u32string l_want = l_it == lower.end() ? std::u32string(1, c) : l_it->second;
    const std::u32string l_got(buf, buf + tk::to_lower(c, buf));
    if (l_got != l_want && ++wrong_lower <= 10) {
      FAIL_CHECK("U+" << std::hex << static_cast<unsigned>(c) << ": lowercase differs from HF");
    }
  }
  MESSAGE("code points compared with HF tokenizers " << hf["tokenizers"].get<std::string>() << ": " << checked
                                                     << "; kind differs " << wrong_kind << ", strip differs "
                                                     << wrong_strip << ", lowercase differs " << wrong_lower);
  CHECK(checked == 1112064);
  CHECK(wrong_kind == 0);
  CHECK(wrong_strip == 0);
  CHECK(wrong_lower == 0);
}
