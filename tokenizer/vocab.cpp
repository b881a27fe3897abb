// tokenizer/vocab.cpp — vocab.txt parsing with errors that name the file and line.
#include "tokenizer/vocab.h"

#include <fstream>
#include <sstream>

#include "tokenizer/unicode.h"

namespace bertlab::tokenizer {

Vocab::Vocab(std::vector<std::string> tokens, std::string_view source) : tokens_(std::move(tokens)) {
  ids_.reserve(tokens_.size());
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    auto [it, inserted] = ids_.emplace(tokens_[i], static_cast<TokenId>(i));
    if (!inserted) {
      throw TokenizerError(std::string(source) + ":" + std::to_string(i + 1) + ": duplicate token '" +
                           tokens_[i] + "' (first on line " + std::to_string(it->second + 1) + ")");
    }
  }
}

TokenId Vocab::find(std::string_view token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

TokenId Vocab::at(std::string_view token) const {
  const TokenId id = find(token);
  if (id < 0) throw TokenizerError("token '" + std::string(token) + "' is not in the vocabulary");
  return id;
}

const std::string& Vocab::token(TokenId id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= tokens_.size()) {
    throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                            std::to_string(tokens_.size()) + ")");
  }
  return tokens_[static_cast<std::size_t>(id)];
}

Vocab parse_vocab(std::string_view text, std::string_view source) {
  std::vector<std::string> tokens;
  std::size_t line_start = 0;
  const auto add_line = [&](std::size_t end) {
    std::string_view tok = text.substr(line_start, end - line_start);
    if (!is_valid_utf8(tok)) {
      throw TokenizerError(std::string(source) + ":" + std::to_string(tokens.size() + 1) +
                           ": not valid UTF-8");
    }
    tokens.emplace_back(tok);
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' || text[i] == '\r') {
      add_line(i);
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      line_start = i + 1;
    }
  }
  if (line_start < text.size()) add_line(text.size());  // last line without a newline
  if (tokens.empty()) throw TokenizerError(std::string(source) + ": empty vocabulary");
  return Vocab(std::move(tokens), source);
}

Vocab load_vocab(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TokenizerError(path.string() + ": cannot open vocabulary file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw TokenizerError(path.string() + ": read error");
  return parse_vocab(ss.str(), path.string());
}

}  // namespace bertlab::tokenizer
