// tokenizer/tokenizer_json.h — reads and writes tokenizer.json, the file of Hugging Face's
// `tokenizers` library (what transformers 5 saves instead of vocab.txt), for BERT tokenizers.
//
// What a BERT tokenizer.json holds, and what we take from it:
//   model           {"type": "WordPiece", "vocab": {token: id}, "unk_token",
//                    "continuing_subword_prefix", "max_input_chars_per_word"}
//   normalizer      {"type": "BertNormalizer", "clean_text", "handle_chinese_chars",
//                    "strip_accents", "lowercase"} (or a "Sequence" holding just that one)
//   pre_tokenizer   {"type": "BertPreTokenizer"} (or a "Sequence" holding just that one)
//   post_processor  "TemplateProcessing" with BERT's template ([CLS] $A [SEP] / [CLS] $A [SEP]
//                   $B:1 [SEP]:1), or the older "BertProcessing"; it names [CLS] and [SEP]
//   added_tokens    the special tokens, each at its vocabulary id (or appended after it)
//   decoder         {"type": "WordPiece", "prefix", "cleanup"} or null
//   truncation, padding   null, or the defaults the file was saved with (read and checked; as in
//                   transformers they apply only when a call asks for truncation / padding)
// Anything else (another model, normalizer or template, ids that disagree with the vocabulary,
// a duplicate key, a value of the wrong JSON type) is a TokenizerError naming the file and the
// JSON key path ("tokenizer.json: model.vocab["hello"]: ..."). Never a crash: the parse is
// fuzzed (tests/fuzz/fuzz_tokenizer_json.cpp).
// Follows: tokenizers/src/tokenizer/serialization.rs, models/wordpiece/serialization.rs,
// normalizers/bert.rs, processors/template.rs, processors/bert.rs, utils/truncation.rs,
// utils/padding.rs; transformers 5 models/bert/tokenization_bert.py.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "tokenizer/bert_tokenizer.h"
#include "tokenizer/vocab.h"

namespace bertlab::tokenizer {

// What one tokenizer.json says.
struct TokenizerJson {
  Vocab vocab;  // model.vocab, plus special added_tokens appended after it
  // The normalizer's options, the WordPiece parameters, [UNK] / [CLS] / [SEP] and the other
  // special added tokens. pad_token and mask_token keep their defaults unless `padding` names
  // the pad token: tokenizer.json does not say which tokens they are (tokenizer_config.json does).
  TokenizerOptions options;
  // truncation / padding as saved (unset where the file has null).
  struct SavedTruncation {
    Truncation strategy = Truncation::kLongestFirst;
    std::size_t max_length = 0, stride = 0;
  };
  struct SavedPadding {
    Padding strategy = Padding::kLongest;
    std::size_t length = 0;  // for kMaxLength ("Fixed")
    std::size_t pad_to_multiple_of = 0;
  };
  std::optional<SavedTruncation> truncation;
  std::optional<SavedPadding> padding;
};

// Parses tokenizer.json text; errors name `source` and the key path.
TokenizerJson parse_tokenizer_json(std::string_view text, std::string_view source = "tokenizer.json");
// Reads a tokenizer.json file (at most 256 MiB); throws TokenizerError naming the path.
TokenizerJson load_tokenizer_json(const std::filesystem::path& path);

// The tokenizer.json that transformers 5's BertTokenizer would save for this vocabulary and
// these options (same layout and key order), so that transformers 4 and 5 read it.
std::string to_tokenizer_json(const Vocab& vocab, const TokenizerOptions& options);
// The vocab.txt text: one token a line, in id order. Throws TokenizerError for a token that
// holds a line break (vocab.txt cannot represent it).
std::string to_vocab_txt(const Vocab& vocab);

}  // namespace bertlab::tokenizer
