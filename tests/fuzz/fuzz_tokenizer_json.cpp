// tests/fuzz/fuzz_tokenizer_json.cpp — libFuzzer target for the tokenizer.json reader
// (tokenizer/tokenizer_json.h, parse_tokenizer_json).
//
// The contract under test: any input either parses or throws TokenizerError — never a crash, a
// sanitizer report, a hang or another exception type (which escapes, and libFuzzer reports it).
// What parses must also make sense: the tokenizer builds (or throws TokenizerError, for a
// [PAD] / [MASK] the file does not hold), encodes to ids inside the vocabulary, and writing the
// file back (to_tokenizer_json) and reading that again gives the same vocabulary and options.
//
// Built two ways (tests/fuzz/meson.build):
//   fuzz_tokenizer_json          -Dfuzz=enabled with clang: -fsanitize=fuzzer,address,undefined
//   fuzz_tokenizer_json_replay   every build: this target plus fuzz_tokenizer_replay.cpp's main(),
//                                run over the committed corpus tests/fuzz/corpus_tokenizer_json/
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/bert_tokenizer.h"
#include "tokenizer/tokenizer_json.h"

namespace tk = bertlab::tokenizer;

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz_tokenizer_json: invariant broken: %s\n", what);
  std::abort();
}
#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) broken(#cond); \
  } while (0)

bool same_options(const tk::TokenizerOptions& a, const tk::TokenizerOptions& b) {
  std::vector<std::string> sa = a.additional_special_tokens, sb = b.additional_special_tokens;
  std::sort(sa.begin(), sa.end());
  std::sort(sb.begin(), sb.end());
  return a.do_lower_case == b.do_lower_case && a.strip_accents.value_or(a.do_lower_case) == b.strip_accents.value_or(b.do_lower_case) &&
         a.tokenize_chinese_chars == b.tokenize_chinese_chars && a.clean_text == b.clean_text &&
         a.unk_token == b.unk_token && a.cls_token == b.cls_token && a.sep_token == b.sep_token &&
         a.continuing_subword_prefix == b.continuing_subword_prefix &&
         a.max_input_chars_per_word == b.max_input_chars_per_word && sa == sb;
}

void check_tokenizer(const tk::TokenizerJson& tj) {
  std::optional<tk::BertTokenizer> tok;
  try {
    tok.emplace(tj.vocab, tj.options);
  } catch (const tk::TokenizerError&) {
    return;  // e.g. no [MASK] in the vocabulary: from_pretrained reports it the same way
  }
  static const char* const kTexts[] = {"The cat sat on the mat.", "héllo wörld 中文 [MASK] [SEP]x", "a##b ##a @@c",
                                       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
  for (const char* text : kTexts) {
    const tk::Encoding e = tok->encode(text, "and a pair");
    for (tk::TokenId id : e.ids) FUZZ_CHECK(id >= 0 && static_cast<std::size_t>(id) < tj.vocab.size());
    (void)tok->decode(e.ids);
  }
}

void check_round_trip(const tk::TokenizerJson& tj) {
  std::string text;
  try {
    text = tk::to_tokenizer_json(tj.vocab, tj.options);
  } catch (const tk::TokenizerError&) {
    return;  // the writer needs [PAD] and [MASK] in the vocabulary
  }
  tk::TokenizerJson back;
  try {
    back = tk::parse_tokenizer_json(text, "written");
  } catch (const tk::TokenizerError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    broken("what to_tokenizer_json writes does not read back");
  }
  FUZZ_CHECK(back.vocab.tokens() == tj.vocab.tokens());
  FUZZ_CHECK(same_options(back.options, tj.options));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tk::TokenizerJson tj;
  try {
    tj = tk::parse_tokenizer_json(text, "fuzz");
  } catch (const tk::TokenizerError&) {
    return 0;  // a rejected file: fine
  }
  FUZZ_CHECK(tj.vocab.size() > 0);
  FUZZ_CHECK(tj.vocab.contains(tj.options.unk_token) && tj.vocab.contains(tj.options.cls_token) &&
             tj.vocab.contains(tj.options.sep_token));
  check_tokenizer(tj);
  check_round_trip(tj);
  return 0;
}
