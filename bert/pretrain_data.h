// bert/pretrain_data.h — pre-training data: a streaming corpus reader and the MLM + NSP
// example generator of BERT (Devlin et al. 2019, section 3.1 and appendix A.1), ported from
// Google's create_pretraining_data.py (create_instances_from_document, truncate_seq_pair,
// create_masked_lm_predictions), but streaming instead of loading the whole corpus.
//
// Corpus formats (per file; --corpus-format, "auto" decides per file, see detect_corpus_format):
//   lines  one sentence per line, a blank (whitespace-only) line between documents: the input
//          of create_pretraining_data.py.
//   raw    one paragraph per line (WikiText's layout), split into sentences by split_sentences.
//          A WikiText level-1 heading ` = Title = ` starts a new document; sub-headings
//          (` = = Section = = `) and blank lines are dropped.
// Both: CR LF and LF endings; every file ends a document; a line longer than max_line_bytes is
// read in pieces (cut at the last space, else at a UTF-8 boundary), each piece a line of its
// own; a document longer than max_doc_bytes of text is cut into several at a line. Memory is
// bounded by these limits and by the document window below, never by the corpus size.
//
// Examples (create_instances_from_document), per document, with max_num_tokens = max_seq_length - 3:
//   - a target length: max_num_tokens, or with probability short_seq_prob uniform in
//     [2, max_num_tokens] (drawn per sequence, as the paper says; the script draws once per document);
//   - sentences are gathered into a chunk until it reaches the target; A = the chunk's first
//     a_end sentences (a_end uniform in [1, len-1]);
//   - B, with probability 1/2 (always when the chunk has one sentence): a random segment from
//     ANOTHER document of the window, starting at a random sentence (NotNext, label 1), and
//     the unused sentences of the chunk are put back; otherwise the rest of the chunk (IsNext,
//     label 0; HF's next_sentence_label convention);
//   - truncate_seq_pair: drop a token from the front or back (coin flip) of the longer side
//     until |A| + |B| <= max_num_tokens; then [CLS] A [SEP] B [SEP], token types 0...0 1...1.
//   Sentences longer than max_num_tokens tokens are cut into pieces of that size first.
// NSP negatives come from a bounded window of tokenized documents around the current one:
// up to window_docs / 2 documents already used (history) and up to window_docs / 2 read ahead
// (look-ahead), each side also capped at window_tokens / 2 tokens. The random document is
// uniform over the window without the current one (the script draws from all documents);
// a corpus of one document falls back to that document.
//
// Masking (create_masked_lm_predictions): n = min(max_predictions_per_seq,
// max(1, round(masked_lm_prob * number of non-special tokens))) positions are chosen by
// shuffling the candidates (every token but [CLS]/[SEP]; with whole-word masking a word = a
// token and the "##" pieces after it, all masked together); each chosen token becomes [MASK]
// with probability 0.8, a random token with 0.1 (uniform over the vocabulary without the
// special tokens), and stays with 0.1. labels = the original id there, -100 elsewhere.
// (The script counts [CLS]/[SEP] in n; this counts only the tokens that may be masked.)
//
// Determinism: every random choice for document d in pass (epoch) e comes from a
// std::mt19937_64 seeded with splitmix64(seed, e, d), and the block shuffle from one seeded
// with (seed, block index); integers and reals are derived from its 64-bit words by our own
// code (not std::uniform_*_distribution, which differ between standard libraries). So the
// examples depend only on the corpus, the options and the seed, and a stream can be restored
// from a small JSON position (state()/restore()): the corpus offset of the window's oldest
// document, the window size, the current document, the example index within it, and the
// shuffle block. Each later pass over the corpus (epoch) draws new pairs and masks, like the
// script's dupe_factor.
//
// Shuffling: examples are gathered in blocks of shuffle_buffer, each block shuffled
// (Fisher-Yates), so that a batch mixes documents.
//
// Held-out split: with holdout_every = N > 0, every N-th document (ordinal % N == N - 1) is
// held out: the Train split skips it (also as a negative), the HeldOut split reads only those.
#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/tensor.h"
#include "tokenizer/bert_tokenizer.h"

namespace bertlab::bert {

// ---------------------------------------------------------------------------------------
// Random numbers for the data pipeline.

// A std::mt19937_64 with our own, portable ways to draw from it.
class DataRng {
 public:
  explicit DataRng(uint64_t seed) : e_(seed) {}
  uint64_t next() { return e_(); }
  double uniform();                        // [0, 1), 53 bits
  int64_t randint(int64_t lo, int64_t hi);  // uniform in [lo, hi], inclusive (Python's randint)
  template <typename T>
  void shuffle(std::vector<T>& v) {  // Fisher-Yates, as Python's random.shuffle
    for (int64_t i = (int64_t)v.size() - 1; i > 0; --i) std::swap(v[i], v[randint(0, i)]);
  }

 private:
  std::mt19937_64 e_;
};
// splitmix64 over the words: a seed that changes with every word.
uint64_t mix_seed(std::initializer_list<uint64_t> words);

// ---------------------------------------------------------------------------------------
// Reading the corpus.

enum class CorpusFormat { Auto, Lines, Raw };
CorpusFormat parse_corpus_format(const std::string& s);  // "auto", "lines", "raw"; throws otherwise
const char* corpus_format_name(CorpusFormat f);
// Auto for one file: Raw when the name ends in ".raw" or a WikiText heading ` = ... = ` is among
// its first 100 non-blank lines; Lines otherwise. Throws naming the file if it cannot be read.
CorpusFormat detect_corpus_format(const std::string& path);

// The rule-based sentence splitter for raw paragraphs. A sentence ends after '.', '!' or '?'
// (and any closing quotes or brackets after it) that is followed by a space and then by
// something that is not a lower-case letter, except after a known abbreviation ("Mr.", "e.g.",
// "St.", ...) or a single capital letter (an initial: "J. R. R. Tolkien"). WikiText's " @.@ "
// (a decimal point) never ends a sentence since no space follows the '.'. Sentences are
// trimmed; empty ones dropped.
std::vector<std::string> split_sentences(std::string_view paragraph);

// Is this (trimmed) line a WikiText heading? Returns its level (1 for " = Title = ") or 0.
int wikitext_heading_level(std::string_view line);

struct ReaderLimits {
  size_t max_line_bytes = size_t(1) << 20;  // longer lines are read in pieces
  size_t max_doc_bytes = size_t(8) << 20;   // longer documents are cut
};

// Where a document starts: a file of the list, a byte offset in it, and the ordinal of that
// document in the corpus (0, 1, ... over all files).
struct CorpusPosition {
  int64_t file = 0;
  uint64_t offset = 0;
  int64_t ordinal = 0;
  nlohmann::json to_json() const { return {file, offset, ordinal}; }
  // Throws "where: invalid corpus position ..." unless j is [file, offset, ordinal].
  static CorpusPosition from_json(const nlohmann::json& j, const std::string& where = "the saved data position");
};

struct Document {
  std::vector<std::string> sentences;
  int64_t ordinal = 0;
  CorpusPosition start;
};

// Reads documents one at a time from a list of files (each with its format), never holding more
// than a line piece and a document. Throws naming the file for a file that cannot be opened or read.
class CorpusReader {
 public:
  CorpusReader(std::vector<std::string> files, std::vector<CorpusFormat> formats, ReaderLimits limits = {});
  CorpusReader(std::vector<std::string> files, CorpusFormat format = CorpusFormat::Auto, ReaderLimits limits = {});
  ~CorpusReader();
  CorpusReader(const CorpusReader&) = delete;
  CorpusReader& operator=(const CorpusReader&) = delete;

  // The next non-empty document, or false at the end of the last file.
  bool next(Document& doc);
  CorpusPosition position() const { return pos_; }  // where the next document starts
  void seek(const CorpusPosition& p);
  const std::vector<std::string>& files() const { return files_; }
  const std::vector<CorpusFormat>& formats() const { return formats_; }

 private:
  // One line (or piece of a long line) of the current file without its line ending; its start
  // offset in `start`; `tail` when it continues a line cut into pieces. False at the end of the file.
  bool read_line(std::string& line, uint64_t& start, bool& tail);
  bool open_file(int64_t i, uint64_t offset);
  void close_file();

  std::vector<std::string> files_;
  std::vector<CorpusFormat> formats_;
  ReaderLimits limits_;
  CorpusPosition pos_;
  std::FILE* f_ = nullptr;
  int64_t open_index_ = -1;
  std::string buf_;       // bytes of the file from offset file_pos_ - (buf_.size() - head_) on
  size_t head_ = 0;
  uint64_t file_pos_ = 0; // absolute offset of the next unread byte of buf_ (buf_[head_])
  bool file_eof_ = false;
  bool last_cut_ = false;  // the last piece read was cut from a long line
};

// ---------------------------------------------------------------------------------------
// Examples.

struct PretrainDataOptions {
  int64_t max_seq_length = 128;
  int64_t max_predictions_per_seq = 0;  // 0: ceil(masked_lm_prob * max_seq_length) (20 for 128)
  double masked_lm_prob = 0.15;
  double short_seq_prob = 0.1;
  bool whole_word_masking = false;
  uint64_t seed = 12345;
  enum class Split { All, Train, HeldOut } split = Split::All;
  int64_t holdout_every = 0;            // with Train / HeldOut: every N-th document is held out
  int64_t window_docs = 1000;           // documents kept for NSP negatives (history + look-ahead)
  int64_t window_tokens = int64_t(16) << 20;
  int64_t shuffle_buffer = 1000;        // examples per shuffled block (1: corpus order)
  bool loop = true;                     // start a new pass at the end of the corpus (else stop)
  CorpusFormat format = CorpusFormat::Auto;
  ReaderLimits limits;

  int64_t max_predictions() const;      // max_predictions_per_seq, resolved
  nlohmann::json to_json() const;       // what decides the examples (checked on --resume)
};

// One training example: [CLS] A [SEP] B [SEP] with some tokens masked.
struct Example {
  std::vector<int32_t> input_ids;       // (T) after masking
  std::vector<int8_t> token_type_ids;   // (T) 0 for [CLS] A [SEP], 1 for B [SEP]
  std::vector<int32_t> labels;          // (T) original id where a token was selected, -100 elsewhere
  int32_t next_sentence_label = 0;      // 0: B follows A (IsNext), 1: B is random (NotNext)
  // Where it came from (tests, debugging): the documents and sentence ranges [first, last]
  // of A and B (sentence indices after long sentences are cut).
  int64_t epoch = 0, doc = 0, b_doc = 0;
  int32_t a_first = 0, a_last = 0, b_first = 0, b_last = 0;
  int64_t num_tokens() const { return (int64_t)input_ids.size(); }
};

// A stream of examples over a corpus, forever (loop) or for one pass.
class ExampleStream {
 public:
  ExampleStream(std::vector<std::string> files, std::shared_ptr<const tokenizer::BertTokenizer> tok,
                PretrainDataOptions opt);
  ~ExampleStream();
  // The next example; false only when !loop and the pass is over. Throws a clear error when a
  // whole pass over the corpus produced no example (an empty corpus).
  bool next(Example& ex);
  // Up to n examples (fewer at the end of a pass when !loop).
  std::vector<Example> take(int64_t n);

  // The data position: restore(state()) on a stream built with the same files, tokenizer and
  // options continues with exactly the examples this one would give next.
  nlohmann::json state() const;
  // A missing key or wrong type throws naming `where` (the file and key it came from) and
  // the key.
  void restore(const nlohmann::json& s, const std::string& where = "trainer_state.json: extra.data");

  int64_t epoch() const;           // the pass (0, 1, ...) of the last example given out
  int64_t documents_read() const;  // by the generator, in its current pass (it reads ahead)
  const PretrainDataOptions& options() const { return opt_; }

 private:
  class Generator;
  bool refill();
  std::unique_ptr<Generator> gen_;
  PretrainDataOptions opt_;
  std::vector<Example> block_;
  size_t block_i_ = 0;
  int64_t block_index_ = 0;   // blocks started so far
  int64_t served_epoch_ = 0;
  nlohmann::json block_start_;  // the generator's state when the current block began
};

// A padded batch: dynamic padding to the longest example.
struct PretrainBatch {
  Tensor input_ids;            // (B,T) int64
  Tensor attention_mask;       // (B,T) int64, 1 = token
  Tensor token_type_ids;       // (B,T) int64
  Tensor labels;               // (B,T) int64, -100 = not predicted
  Tensor next_sentence_label;  // (B) int64
  Tensor masked_positions;     // (M) int64: flat indices b * T + t of the predicted tokens
  Tensor masked_labels;        // (M) int64: their labels
  int64_t tokens = 0;          // real (non-padding) tokens
  int64_t masked = 0;          // predicted positions
};
PretrainBatch collate(const std::vector<Example>& examples, int64_t pad_id);
// The same batch on another device.
PretrainBatch to_device(const PretrainBatch& b, Device d);

}  // namespace bertlab::bert
