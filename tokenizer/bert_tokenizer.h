// tokenizer/bert_tokenizer.h — the BERT tokenizer: text in, input_ids / token_type_ids /
// attention_mask / special_tokens_mask / offsets / word_ids out, exactly as Hugging Face's
// BertTokenizerFast returns them (and BertTokenizer, the "slow" one, where the two agree; where
// they differ we match the fast one: docs/tokenizer.md lists the differences).
//
// The pipeline for one text (each step as HF's tokenizers/src/...):
//   1. special tokens written in the text ("[MASK]") are cut out first (added_vocabulary.rs)
//   2. BertNormalizer: drop control characters, map whitespace to ' ', put spaces around CJK
//      ideographs, NFD + drop non-spacing marks (strip_accents), lowercase (normalizers/bert.rs)
//   3. BertPreTokenizer: split on whitespace, split off each punctuation character (a "word")
//   4. WordPiece on each word (tokenizer/wordpiece.h)
//   5. truncation, [CLS] A [SEP] (B [SEP]), padding (tokenizer/encoding.h)
// Steps 2-4 run as one pass over the text, character by character, with no allocation per token.
// Follows: Devlin et al. 2019 (BERT) and Google's tokenization.py; transformers
// tokenization_bert.py / tokenization_bert_fast.py; ../shared/REFERENCE.md "Tokenizer".
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/encoding.h"
#include "tokenizer/vocab.h"
#include "tokenizer/wordpiece.h"

namespace bertlab::tokenizer {

// What tokenizer_config.json says (HF names); the defaults are bert-base-uncased's.
struct TokenizerOptions {
  bool do_lower_case = true;
  std::optional<bool> strip_accents;  // unset: strip accents exactly when lowercasing
  bool tokenize_chinese_chars = true;
  bool clean_text = true;
  // Whitespace-separated pieces of text kept whole (no lowercasing, no punctuation split), as
  // BertTokenizer's never_split. BertTokenizerFast ignores never_split; leave it empty for parity.
  std::vector<std::string> never_split;
  std::string unk_token = "[UNK]", sep_token = "[SEP]", pad_token = "[PAD]", cls_token = "[CLS]",
              mask_token = "[MASK]";
  std::vector<std::string> additional_special_tokens;  // also matched in text, skipped by decode
  std::size_t model_max_length = 512;  // used when truncation or padding asks for max_length 0
  std::size_t max_input_chars_per_word = 100;
  std::string continuing_subword_prefix = "##";
  bool clean_up_tokenization_spaces = true;  // decode()'s default
};

// Reads tokenizer_config.json (and special_tokens_map.json if present) of an HF model folder.
// Unknown keys are ignored; a known key of the wrong type throws TokenizerError naming it.
TokenizerOptions load_tokenizer_config(const std::filesystem::path& dir);
// The same from the text of one file (`name` names it in messages), applied on top of `o`:
// load_tokenizer_config reads tokenizer_config.json, then special_tokens_map.json, through these.
void read_tokenizer_config_json(std::string_view text, const std::string& name, TokenizerOptions& o);
void read_special_tokens_map_json(std::string_view text, const std::string& name, TokenizerOptions& o);

// The same over the options read from tokenizer.json (tokenizer/tokenizer_json.h): the normalizer,
// [UNK], [CLS] and [SEP] stay tokenizer.json's, and a key here that disagrees is an error.
TokenizerOptions load_tokenizer_config(const std::filesystem::path& dir, const TokenizerOptions& from_tokenizer_json,
                                       const std::filesystem::path& tokenizer_json_path);

enum class Truncation { kNone, kLongestFirst, kOnlyFirst, kOnlySecond };
enum class Padding { kNone, kLongest, kMaxLength };
enum class OffsetUnit { kCodePoints, kBytes };

// The arguments of HF's __call__ that shape the output.
struct EncodeOptions {
  bool add_special_tokens = true;
  Truncation truncation = Truncation::kNone;
  Padding padding = Padding::kNone;
  std::size_t max_length = 0;        // 0: the tokenizer's model_max_length
  std::size_t stride = 0;            // tokens shared by consecutive overflowing windows
  std::size_t pad_to_multiple_of = 0;
  bool return_overflowing_tokens = false;  // keep the windows past max_length in .overflowing
  OffsetUnit offsets = OffsetUnit::kCodePoints;
};

// One input of a batch: a text, or pre-split words (is_split_into_words), with optional pair.
struct EncodeInput {
  std::string_view text;
  std::optional<std::string_view> pair;
  std::span<const std::string> words;       // used when is_split_into_words
  std::span<const std::string> pair_words;  // used when is_split_into_words and non-empty
  bool is_split_into_words = false;
};

struct DecodeOptions {
  bool skip_special_tokens = false;
  std::optional<bool> clean_up_tokenization_spaces;  // unset: the tokenizer's default
};

class BertTokenizer {
 public:
  // From a vocab.txt and options. Throws TokenizerError (naming file and line) on a bad vocab or
  // a special token that is not in it.
  BertTokenizer(const std::filesystem::path& vocab_file, TokenizerOptions options = {});
  BertTokenizer(Vocab vocab, TokenizerOptions options = {});
  // From an HF model folder: tokenizer.json when there is one (as AutoTokenizer prefers it;
  // transformers 5 writes no vocab.txt), else vocab.txt; + tokenizer_config.json (+
  // special_tokens_map.json). Throws TokenizerError naming the file and key.
  static BertTokenizer from_pretrained(const std::filesystem::path& dir);

  // One text, or a pair (question, context): [CLS] A [SEP] (B [SEP]).
  Encoding encode(std::string_view text, const EncodeOptions& opt = {}) const;
  Encoding encode(std::string_view text, std::string_view pair, const EncodeOptions& opt = {}) const;
  // Pre-split words (is_split_into_words=True): each word is tokenized on its own, word_ids are
  // the word indices and offsets are relative to each word, as in HF.
  Encoding encode_words(std::span<const std::string> words, const EncodeOptions& opt = {}) const;
  Encoding encode_words(std::span<const std::string> words, std::span<const std::string> pair,
                        const EncodeOptions& opt = {}) const;
  Encoding encode(const EncodeInput& input, const EncodeOptions& opt) const;

  // A batch, encoded in parallel (OpenMP, all cores), then padded together for kLongest.
  std::vector<Encoding> encode_batch(std::span<const EncodeInput> inputs, const EncodeOptions& opt = {}) const;
  std::vector<Encoding> encode_batch(std::span<const std::string> texts, const EncodeOptions& opt = {}) const;

  // The tokens of text without special tokens (HF tokenize()).
  std::vector<std::string> tokenize(std::string_view text) const;

  // ids -> text, as BertTokenizerFast.decode: ids outside the vocabulary are skipped; WordPiece
  // pieces are joined ("##" glued on, others after a space); then, if clean_up_tokenization_spaces,
  // " ." " ," " !" " ?" " n't" " 's" ... lose their space.
  std::string decode(std::span<const TokenId> ids, const DecodeOptions& opt = {}) const;
  // tokens -> text with the WordPiece decoder (HF convert_tokens_to_string).
  std::string convert_tokens_to_string(std::span<const std::string> tokens) const;
  // ids -> tokens; throws std::out_of_range for an id outside the vocabulary.
  std::vector<std::string> convert_ids_to_tokens(std::span<const TokenId> ids,
                                                 bool skip_special_tokens = false) const;
  // token -> id, or the [UNK] id when it is not in the vocabulary.
  TokenId convert_token_to_id(std::string_view token) const;
  bool is_special(TokenId id) const;

  const Vocab& vocab() const { return *vocab_; }
  const TokenizerOptions& options() const { return options_; }
  TokenId cls_id() const { return cls_id_; }
  TokenId sep_id() const { return sep_id_; }
  TokenId pad_id() const { return pad_id_; }
  TokenId unk_id() const { return unk_id_; }
  TokenId mask_id() const { return mask_id_; }

 private:
  struct Scratch;
  // Tokens of one sequence (no special tokens) appended to out; word ids start at word_base
  // (or are all fixed_word when >= 0); offsets in bytes of text.
  void encode_sequence(std::string_view text, std::int32_t type_id, std::int32_t seq_id,
                       std::int32_t fixed_word, std::int32_t& next_word, Encoding& out,
                       Scratch& s) const;
  // The normalizer + pre-tokenizer + WordPiece over text[begin, end) (no special tokens inside).
  void encode_span(std::string_view text, std::size_t begin, std::size_t end, std::int32_t type_id,
                   std::int32_t seq_id, std::int32_t fixed_word, std::int32_t& next_word,
                   Encoding& out, Scratch& s) const;
  Encoding encode_one(std::string_view text, std::span<const std::string> words, bool split,
                      std::int32_t type_id, std::int32_t seq_id, OffsetUnit unit, Scratch& s) const;
  Encoding post_process(Encoding a, std::optional<Encoding> b, const EncodeOptions& opt) const;
  std::size_t resolve_max_length(const EncodeOptions& opt) const;
  void pad_batch(std::vector<Encoding>& batch, const EncodeOptions& opt) const;

  std::shared_ptr<const Vocab> vocab_;  // shared: WordPiece points into it, copies stay valid
  TokenizerOptions options_;
  bool lowercase_ = true, strip_accents_ = true;
  WordPiece wordpiece_;
  TokenId cls_id_ = -1, sep_id_ = -1, pad_id_ = -1, unk_id_ = -1, mask_id_ = -1;
  std::vector<std::pair<std::string, TokenId>> specials_;  // matched in text, longest first
  std::vector<bool> is_special_;                           // by id
  bool special_first_byte_[256] = {};
};

}  // namespace bertlab::tokenizer
