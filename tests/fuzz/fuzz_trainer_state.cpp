// tests/fuzz/fuzz_trainer_state.cpp — fuzz target for trainer_state.json (TrainerState::parse,
// bert/train/run.cpp) and the pre-training data position it carries (extra.data, read by
// ExampleStream::restore in bert/pretrain_data.cpp on --resume). A state that parses survives
// to_json -> from_json; its data position either restores a stream over a small corpus (which
// then gives examples) or is refused with bertlab::Error.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "bert/pretrain_data.h"
#include "bert/train/run.h"
#include "tests/fuzz/fuzz_common.h"

using namespace bertlab;

namespace {

// A corpus of a few documents, written once per process.
const std::string& corpus_path() {
  static const std::string p = [] {
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("bertlab-fuzz-state-" + std::to_string(::getpid()) + ".txt")).string();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    FUZZ_CHECK(f != nullptr);
    for (int d = 0; d < 6; ++d) {
      for (int s = 0; s < 4; ++s) std::fprintf(f, "the city of paris is new %d and good %d.\n", d, s);
      std::fputs("\n", f);
    }
    std::fclose(f);
    return path;
  }();
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  train::TrainerState s;
  if (!fuzz::accept_errors([&] { s = train::TrainerState::parse(fuzz::as_text(data, size), "trainer_state.json"); }))
    return 0;
  const nlohmann::json j = s.to_json();
  FUZZ_CHECK(train::TrainerState::from_json(j, "round trip").to_json() == j);
  if (!s.extra.is_object() || !s.extra.contains("data")) return 0;
  static const auto tok = std::make_shared<const tokenizer::BertTokenizer>(fuzz::small_tokenizer());
  bert::PretrainDataOptions o;
  o.max_seq_length = 16;
  o.shuffle_buffer = 4;
  o.window_docs = 4;
  fuzz::accept_errors([&] {
    bert::ExampleStream stream({corpus_path()}, tok, o);
    stream.restore(s.extra["data"]);
    for (const bert::Example& ex : stream.take(3)) FUZZ_CHECK(ex.num_tokens() <= o.max_seq_length);
  });
  return 0;
}
