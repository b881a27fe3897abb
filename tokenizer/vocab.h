// tokenizer/vocab.h — a WordPiece vocabulary: token <-> id, loaded from a BERT vocab.txt.
//
// vocab.txt holds one token a line; the id is the line number counted from 0 (Google BERT
// release format, what HF BertTokenizer.load_vocab reads). Lines end in \n, \r\n or \r (Python's
// universal newlines); the line ending is not part of the token, other whitespace is.
// Follows: transformers/models/bert/tokenization_bert.py load_vocab.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bertlab::tokenizer {

using TokenId = std::int32_t;

// Thrown for a vocabulary or config file that cannot be used; the message names the file and,
// where it helps, the line or key.
class TokenizerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Vocab {
 public:
  Vocab() = default;
  // Tokens in id order. Throws TokenizerError on a duplicate token (naming both positions).
  explicit Vocab(std::vector<std::string> tokens, std::string_view source = "<memory>");

  // The id of token, or -1.
  TokenId find(std::string_view token) const;
  // The id of token; throws TokenizerError naming the token when it is missing.
  TokenId at(std::string_view token) const;
  bool contains(std::string_view token) const { return find(token) >= 0; }
  // The token of id; throws std::out_of_range for an id outside [0, size()).
  const std::string& token(TokenId id) const;

  std::size_t size() const { return tokens_.size(); }
  const std::vector<std::string>& tokens() const { return tokens_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, TokenId, Hash, std::equal_to<>> ids_;
};

// Parses vocab.txt text. Errors name `source` and the 1-based line: invalid UTF-8, a duplicate
// token, an empty file.
Vocab parse_vocab(std::string_view text, std::string_view source);

// Reads and parses a vocab.txt file; throws TokenizerError naming the path if unreadable.
Vocab load_vocab(const std::filesystem::path& path);

}  // namespace bertlab::tokenizer
