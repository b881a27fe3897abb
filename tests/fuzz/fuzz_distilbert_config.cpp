// tests/fuzz/fuzz_distilbert_config.cpp — fuzz target for a DistilBERT config.json
// (DistilBertConfig::parse, bert/distilbert/config.cpp). Any input parses or throws
// bertlab::Error; a config that parses survives to_json -> from_json unchanged, keeps BERT's
// names out of what it writes, and sizes a model whose heads divide its width.
#include "bert/distilbert/config.h"
#include "tests/fuzz/fuzz_common.h"

using namespace bertlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::accept_errors([&] {
    const bert::DistilBertConfig c = bert::DistilBertConfig::parse(fuzz::as_text(data, size), "config.json");
    const nlohmann::json j = c.to_json();
    const bert::DistilBertConfig back = bert::DistilBertConfig::from_json(j, "round trip");
    FUZZ_CHECK(back.to_json() == j);
    FUZZ_CHECK(j["model_type"] == "distilbert" && !j.contains("hidden_size") && !j.contains("type_vocab_size"));
    FUZZ_CHECK(c.shared.head_dim() >= 1 && c.shared.hidden_size % c.shared.num_attention_heads == 0);
    FUZZ_CHECK(c.qa_dropout >= 0 && c.qa_dropout < 1 && c.seq_classif_dropout >= 0 && c.seq_classif_dropout < 1);
  });
  return 0;
}
