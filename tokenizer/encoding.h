// tokenizer/encoding.h — the result of encoding one text or text pair, and the three operations
// Hugging Face applies to it after WordPiece: truncate (with stride and overflowing windows),
// merge (sequence A + special tokens + sequence B), pad.
//
// These are ports of tokenizers/src/tokenizer/encoding.rs (Encoding::truncate, merge_with, pad)
// and tokenizers/src/utils/truncation.rs, because what BertTokenizerFast returns for overflowing
// pairs (the order of the windows, which side keeps its stride) falls out of exactly these steps.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "tokenizer/vocab.h"

namespace bertlab::tokenizer {

// [start, end) of a token in its input text; (0, 0) for special and padding tokens.
// Units: code points by default (as `return_offsets_mapping` in Python), or bytes.
using Offsets = std::pair<std::uint32_t, std::uint32_t>;

struct Encoding {
  std::vector<TokenId> ids;                  // (T) input_ids
  std::vector<std::int32_t> type_ids;        // (T) token_type_ids: 0 for A (with [CLS] and its [SEP]), 1 for B
  std::vector<Offsets> offsets;              // (T) offset_mapping into the text the token came from
  std::vector<std::int32_t> word_ids;        // (T) word index within its sequence; -1 for special/pad
  std::vector<std::int32_t> sequence_ids;    // (T) 0 for A, 1 for B, -1 for special/pad
  std::vector<std::int8_t> special_tokens_mask;  // (T) 1 for [CLS]/[SEP]/[PAD]
  std::vector<std::int8_t> attention_mask;   // (T) 1 for real tokens, 0 for padding
  std::vector<Encoding> overflowing;         // further windows (return_overflowing_tokens)

  std::size_t size() const { return ids.size(); }
  void reserve(std::size_t n);
  // Appends one token.
  void push(TokenId id, std::int32_t type_id, Offsets off, std::int32_t word, std::int32_t seq,
            std::int8_t special, std::int8_t attention = 1);
};

// Encoding::truncate: keeps the first max_len tokens; with stride s, the rest become overflowing
// windows of max_len tokens starting every (max_len - s) tokens. max_len 0 moves everything into
// one overflowing encoding. Throws std::invalid_argument when stride >= max_len > 0 (HF panics).
void truncate(Encoding& e, std::size_t max_len, std::size_t stride);

// Encoding::merge_with: appends b to a; overflowing windows combine as in HF (each window of a
// with b and with each window of b, then a with each window of b).
void merge(Encoding& a, const Encoding& b);

// Encoding::pad: pads e and its overflowing windows on the right to target_len.
void pad(Encoding& e, std::size_t target_len, TokenId pad_id, std::int32_t pad_type_id = 0);

enum class TruncationStrategy { kLongestFirst, kOnlyFirst, kOnlySecond };

// truncate_encodings: makes len(a) + len(b) <= max_len by the strategy (b may be null).
// Throws std::invalid_argument where HF raises (only_second without b, target too short).
void truncate_pair(Encoding& a, Encoding* b, std::size_t max_len, std::size_t stride,
                   TruncationStrategy strategy);

}  // namespace bertlab::tokenizer
