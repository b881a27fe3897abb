// tests/fuzz/fuzz_common.h — what the parser fuzz targets (fuzz_<reader>.cpp) share.
//
// Each target's contract: any input either parses or throws the project's error type
// (bertlab::Error, or tokenizer::TokenizerError in tokenizer/) with a message. accept_errors()
// runs a parse and lets exactly those through; any other exception escapes and libFuzzer
// reports it as a crash, as it does a sanitizer report. FUZZ_CHECK aborts on a broken invariant.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "autograd/tensor.h"
#include "tokenizer/bert_tokenizer.h"

namespace bertlab::fuzz {

[[noreturn]] inline void broken(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", file, line, what);
  std::abort();
}
#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) ::bertlab::fuzz::broken(#cond, __FILE__, __LINE__); \
  } while (0)

// Runs f(); a bertlab::Error or TokenizerError with a message is an accepted outcome.
// Returns true when f() returned normally.
template <typename F>
bool accept_errors(F&& f) {
  try {
    f();
    return true;
  } catch (const Error& e) {
    FUZZ_CHECK(e.what()[0] != '\0');
  } catch (const tokenizer::TokenizerError& e) {
    FUZZ_CHECK(e.what()[0] != '\0');
  }
  return false;
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A small uncased WordPiece tokenizer (the specials, letters, digits, pieces and a few words),
// built in memory so that the targets need no data files.
inline const tokenizer::BertTokenizer& small_tokenizer() {
  static const tokenizer::BertTokenizer tok = [] {
    std::string v = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
    for (char c = 'a'; c <= 'z'; ++c) v += std::string(1, c) + "\n##" + std::string(1, c) + "\n";
    for (char c = '0'; c <= '9'; ++c) v += std::string(1, c) + "\n##" + std::string(1, c) + "\n";
    for (const char* p : {".", ",", "!", "?", "'", "\"", "(", ")", "-", ":", ";"}) v += std::string(p) + "\n";
    for (const char* w : {"the", "of", "and", "to", "in", "is", "was", "it", "for", "on", "with", "as",
                          "new", "york", "city", "paris", "france", "capital", "what", "who", "when", "where",
                          "good", "bad", "movie", "film", "great", "##ed", "##ing", "##ly"})
      v += std::string(w) + "\n";
    return tokenizer::BertTokenizer(tokenizer::parse_vocab(v, "fuzz vocab"));
  }();
  return tok;
}

}  // namespace bertlab::fuzz

// libFuzzer calls this once before the first input: the tokenizer's per-code-point table
// (0x110000 entries) takes about 1.5 s to fill under the sanitizers, which would otherwise count
// against the first input's time limit.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)bertlab::fuzz::small_tokenizer().encode("warm up");
  return 0;
}
