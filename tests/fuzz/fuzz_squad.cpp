// tests/fuzz/fuzz_squad.cpp — fuzz target for SQuAD JSON (tasks::parse_squad, bert/tasks/qa.cpp)
// and the question-answering features made from it (windows over the context, answer
// positions). The first byte says whether answers are required (bit 0) and picks the window
// options; the rest is the file. Any input is read or throws bertlab::Error.
#include "bert/tasks/qa.h"
#include "tests/fuzz/fuzz_common.h"

using namespace bertlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view text = fuzz::as_text(data + 1, size - 1);
  std::vector<tasks::SquadExample> ex;
  if (!fuzz::accept_errors([&] { ex = tasks::parse_squad(text, "train.json", mode & 1); })) return 0;
  FUZZ_CHECK(!ex.empty());
  for (const auto& e : ex)
    for (const auto& a : e.answers) {
      FUZZ_CHECK(a.start >= 0 && a.start + tasks::length_cp(a.text) <= tasks::length_cp(e.context));
      (void)tasks::substr_cp(e.context, a.start, a.start + tasks::length_cp(a.text));
    }
  (void)tasks::squad_gold(ex);
  tasks::QaOptions o;
  o.max_seq_length = 24 + (mode >> 1) % 16;
  o.doc_stride = 1 + (mode >> 5);
  o.max_query_length = 8;
  fuzz::accept_errors([&] {
    const bool train = mode & 1;
    const std::vector<tasks::QaFeature> f = tasks::qa_features(fuzz::small_tokenizer(), ex, o, train);
    for (const auto& q : f) {
      FUZZ_CHECK(q.example >= 0 && q.example < (int64_t)ex.size());
      FUZZ_CHECK((int64_t)q.enc.size() <= o.max_seq_length);
      FUZZ_CHECK(q.start_position >= 0 && q.start_position <= q.end_position &&
                 q.end_position < (int64_t)q.enc.size());
    }
  });
  return 0;
}
