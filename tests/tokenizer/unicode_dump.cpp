// tests/tokenizer/unicode_dump.cpp — prints what utf8proc says about every code point, for
// tools/make_unicode_overrides.py, which compares it with Hugging Face's view
// (tests/tokenizer/golden/unicode_hf.json.gz) and writes tokenizer/unicode_hf_overrides.inc.
// Output: one line per code point "HEX CAT LOWER_HEX [DECOMP_HEX ...]" (canonical decomposition).
// Not a test; built next to the tests so the override table can be regenerated.
#include <utf8proc.h>

#include <cstdio>

int main() {
  static const char* const kCats[] = {"Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd",
                                      "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm",
                                      "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"};
  for (utf8proc_int32_t c = 0; c < 0x110000; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    std::printf("%X %s %X", static_cast<unsigned>(c), kCats[utf8proc_category(c)],
                static_cast<unsigned>(utf8proc_tolower(c)));
    utf8proc_int32_t buf[32];
    int last = 0;
    const auto n = utf8proc_decompose_char(c, buf, 32, UTF8PROC_DECOMPOSE, &last);
    for (utf8proc_ssize_t k = 0; k < n; ++k) std::printf(" %X", static_cast<unsigned>(buf[k]));
    std::printf("\n");
  }
  return 0;
}
