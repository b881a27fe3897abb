// tests/fuzz/fuzz_tokenizer_config.cpp — fuzz target for tokenizer_config.json and
// special_tokens_map.json (tokenizer/config.cpp). The first byte picks which file(s) the rest
// is: 0 tokenizer_config.json, 1 special_tokens_map.json, 2 both (split at the first NUL byte).
// The options read then build a tokenizer over a small vocabulary, which encodes and decodes a
// text. Any input is read or throws TokenizerError / bertlab::Error.
#include "tests/fuzz/fuzz_common.h"

using namespace bertlab;
namespace tk = bertlab::tokenizer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  const std::string_view rest = fuzz::as_text(data + 1, size - 1);
  std::string_view config = rest, map;
  if (mode == 1) config = {}, map = rest;
  if (mode == 2) {
    const size_t nul = rest.find('\0');
    config = rest.substr(0, nul);
    map = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  }
  tk::TokenizerOptions o;
  const bool read = fuzz::accept_errors([&] {
    if (mode != 1) tk::read_tokenizer_config_json(config, "tokenizer_config.json", o);
    if (mode != 0) tk::read_special_tokens_map_json(map, "special_tokens_map.json", o);
  });
  if (!read) return 0;
  fuzz::accept_errors([&] {
    const tk::BertTokenizer tok(fuzz::small_tokenizer().vocab(), o);
    const tk::Encoding e = tok.encode("The new [MASK] city, paris!", "what is it?");
    FUZZ_CHECK(e.ids.size() == e.offsets.size());
    (void)tok.decode(e.ids);
  });
  return 0;
}
