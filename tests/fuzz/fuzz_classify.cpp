// tests/fuzz/fuzz_classify.cpp — fuzz target for the classification readers (TSV, CSV, JSON
// lines: tasks::parse_classify, bert/tasks/classify.cpp) and what consumes their result: the
// label map and the features. The first byte picks the format (bits 0-1), whether labels are
// required (bit 2) and whether a pair column is looked for (bit 3); the rest is the file.
// Any input is read or throws bertlab::Error.
#include "bert/tasks/classify.h"
#include "tests/fuzz/fuzz_common.h"

using namespace bertlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string text(fuzz::as_text(data + 1, size - 1));
  static const char* const kFormats[] = {"tsv", "csv", "jsonl", "tsv"};
  tasks::ClassifyColumns cols;
  cols.format = kFormats[mode & 3];
  if (mode & 8) cols.pair = "-";
  const bool require_labels = !(mode & 4);
  tasks::ClassifyData d;
  if (!fuzz::accept_errors([&] { d = tasks::parse_classify(text, "data." + cols.format, cols, require_labels); }))
    return 0;
  FUZZ_CHECK(!d.examples.empty());
  for (const auto& ex : d.examples) FUZZ_CHECK(ex.line >= 1);
  if (!d.has_labels) return 0;
  std::vector<std::string> labels;
  for (const auto& ex : d.examples) labels.push_back(ex.label);
  fuzz::accept_errors([&] {
    const tasks::LabelMap map = tasks::LabelMap::build(labels);
    for (const auto& ex : d.examples) {
      const int64_t id = map.id_of(ex.label, "data");
      FUZZ_CHECK(id >= 0 && id < map.size());
    }
    const tasks::ClassifyFeatures f = tasks::classify_features(fuzz::small_tokenizer(), d, &map, 32);
    FUZZ_CHECK(f.encodings.size() == d.examples.size() && f.labels.size() == d.examples.size());
    for (const auto& e : f.encodings) FUZZ_CHECK(e.size() <= 32);
  });
  return 0;
}
