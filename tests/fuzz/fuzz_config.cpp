// tests/fuzz/fuzz_config.cpp — fuzz target for config.json (BertConfig::parse, bert/config.cpp).
// Any input parses or throws bertlab::Error; a config that parses survives to_json -> from_json
// unchanged and sizes a model without overflow (parameter count computed in checked arithmetic).
#include "bert/config.h"
#include "tests/fuzz/fuzz_common.h"

using namespace bertlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::accept_errors([&] {
    const bert::BertConfig c = bert::BertConfig::parse(fuzz::as_text(data, size), "config.json");
    const nlohmann::json j = c.to_json();
    const bert::BertConfig back = bert::BertConfig::from_json(j, "round trip");
    FUZZ_CHECK(back.to_json() == j);
    FUZZ_CHECK(c.num_labels() >= 1 && (int64_t)c.label2id().size() <= c.num_labels());
    FUZZ_CHECK(c.head_dim() >= 1);
  });
  return 0;
}
