// tests/fuzz/fuzz_conll.cpp — fuzz target for CoNLL files (tasks::parse_conll, bert/tasks/ner.cpp)
// and the NER features made from them. The first byte picks the language-prefix mode; the rest is
// the file. Any input is read or throws bertlab::Error.
#include "bert/tasks/ner.h"
#include "tests/fuzz/fuzz_common.h"

using namespace bertlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const tasks::LangPrefix kModes[] = {tasks::LangPrefix::Auto, tasks::LangPrefix::Keep,
                                             tasks::LangPrefix::Strip};
  const tasks::LangPrefix prefix = kModes[data[0] % 3];
  const std::string text(fuzz::as_text(data + 1, size - 1));
  tasks::NerData d;
  if (!fuzz::accept_errors([&] { d = tasks::parse_conll(text, "train.conll", prefix); })) return 0;
  FUZZ_CHECK(!d.sentences.empty());
  for (const auto& s : d.sentences) FUZZ_CHECK(!s.words.empty() && s.words.size() == s.tags.size());
  fuzz::accept_errors([&] {
    const std::vector<std::string> labels = tasks::ner_label_list(d);
    const tasks::NerFeatures f = tasks::ner_features(fuzz::small_tokenizer(), d, labels, 24);
    FUZZ_CHECK(f.encodings.size() == d.sentences.size() && f.labels.size() == d.sentences.size());
    for (size_t i = 0; i < f.encodings.size(); ++i) {
      FUZZ_CHECK(f.labels[i].size() == f.encodings[i].size());
      for (int64_t l : f.labels[i]) FUZZ_CHECK(l == -100 || (l >= 0 && l < (int64_t)labels.size()));
    }
  });
  return 0;
}
