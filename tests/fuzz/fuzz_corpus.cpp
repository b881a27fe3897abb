// tests/fuzz/fuzz_corpus.cpp — fuzz target for the pre-training corpus reader (CorpusReader,
// bert/pretrain_data.cpp) and the sentence splitter (split_sentences).
//
// The reader streams files with fread/fseeko (a corpus may be larger than memory), so the input
// is written to a temporary file and read back through the real code path. The first byte
// picks the format (lines / raw / auto) and a small line-length limit, so that long lines are
// read in pieces. Invariants: every document has sentences, none empty or with a newline;
// seeking to a document's start position reads the same document again (what --resume relies
// on); every sentence the splitter returns is non-empty, trimmed and a piece of its input.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "bert/pretrain_data.h"
#include "tests/fuzz/fuzz_common.h"

using namespace bertlab;

namespace {

const std::string& temp_path() {
  static const std::string p =
      (std::filesystem::temp_directory_path() / ("bertlab-fuzz-corpus-" + std::to_string(::getpid()) + ".txt")).string();
  return p;
}

void check_sentences(std::string_view text) {
  for (const std::string& s : bert::split_sentences(text)) {
    FUZZ_CHECK(!s.empty());
    FUZZ_CHECK(s.front() != ' ' && s.back() != ' ');
    FUZZ_CHECK(text.find(s) != std::string_view::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view text = fuzz::as_text(data + 1, size - 1);
  check_sentences(text);

  {
    std::FILE* f = std::fopen(temp_path().c_str(), "wb");
    FUZZ_CHECK(f != nullptr);
    FUZZ_CHECK(std::fwrite(text.data(), 1, text.size(), f) == text.size());
    std::fclose(f);
  }
  static const bert::CorpusFormat kFormats[] = {bert::CorpusFormat::Lines, bert::CorpusFormat::Raw,
                                                bert::CorpusFormat::Auto, bert::CorpusFormat::Raw};
  bert::ReaderLimits limits;
  limits.max_line_bytes = 16 + (mode >> 2) * 4;  // 16 .. 268 bytes
  limits.max_doc_bytes = 64 + (mode >> 2) * 16;
  fuzz::accept_errors([&] {
    bert::CorpusReader reader({temp_path()}, kFormats[mode & 3], limits);
    std::vector<bert::Document> docs;
    bert::Document doc;
    // a document holds at least one byte of the file, so there are at most size of them
    while (reader.next(doc)) {
      FUZZ_CHECK(docs.size() <= text.size());
      FUZZ_CHECK(!doc.sentences.empty());
      for (const std::string& s : doc.sentences) FUZZ_CHECK(!s.empty() && s.find('\n') == std::string::npos);
      docs.push_back(doc);
    }
    // Resuming from any document's start reads it again.
    for (size_t i = 0; i < docs.size(); i += 1 + docs.size() / 4) {
      bert::CorpusReader again({temp_path()}, kFormats[mode & 3], limits);
      again.seek(docs[i].start);
      bert::Document d;
      FUZZ_CHECK(again.next(d));
      FUZZ_CHECK(d.sentences == docs[i].sentences);
    }
  });
  return 0;
}
