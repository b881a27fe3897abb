// tests/fuzz/fuzz_vocab.cpp — fuzz target for vocab.txt (tokenizer::parse_vocab, tokenizer/vocab.cpp)
// as it is given: the bytes are the whole file, specials included or not. A vocabulary that
// parses builds a tokenizer (or is refused with a TokenizerError naming the missing special),
// which encodes its own lines and decodes every id.
#include "tests/fuzz/fuzz_common.h"

using namespace bertlab;
namespace tk = bertlab::tokenizer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  fuzz::accept_errors([&] {
    const tk::Vocab v = tk::parse_vocab(text, "vocab.txt");
    const tk::BertTokenizer tok(v);
    const tk::Encoding e = tok.encode(text.substr(0, 512));
    for (tk::TokenId id : e.ids) FUZZ_CHECK(id >= 0 && (size_t)id < tok.vocab().size());
    std::vector<tk::TokenId> all;
    for (size_t i = 0; i < tok.vocab().size() && i < 256; ++i) all.push_back((tk::TokenId)i);
    (void)tok.decode(all);
  });
  return 0;
}
