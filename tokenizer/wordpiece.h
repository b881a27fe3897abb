// tokenizer/wordpiece.h — WordPiece: one word in, its sub-word ids out (greedy longest match
// first, continuation pieces carry the "##" prefix; no match, or over 100 characters, is [UNK]).
//
// Linear time, as in "Fast WordPiece Tokenization" (Song et al., EMNLP 2021, LinMaxMatch): the
// vocabulary becomes a trie of bytes; every trie node v gets a failure link f(v) and failure pops
// F(v), the tokens that greedy matching commits to when the next byte cannot extend s(v). A word
// is then read once, byte by byte: follow the trie while you can, else emit F(v) and jump to f(v).
// The output is exactly HF's MaxMatch (tokenizers/src/models/wordpiece/mod.rs), which
// `tokenize_reference` also implements, for tests and for the one case the trie cannot express
// (a word that itself starts with the "##" prefix).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace bertlab::tokenizer {

// A sub-word of a word: its id and the bytes [start, end) of the word it covers.
struct Piece {
  TokenId id;
  std::uint32_t start, end;
};

class WordPiece {
 public:
  WordPiece() = default;
  // unk_token must be in vocab; throws TokenizerError otherwise.
  WordPiece(const Vocab& vocab, std::string_view unk_token = "[UNK]", std::string_view prefix = "##",
            std::size_t max_input_chars_per_word = 100);

  // Appends the pieces of word (valid UTF-8, non-empty) to out. A word that cannot be covered,
  // or that has more than max_input_chars_per_word code points, gives one [UNK] piece spanning it.
  void tokenize(std::string_view word, std::vector<Piece>& out) const;

  // The same output by plain MaxMatch: longest vocabulary prefix, then "##" + longest prefix of
  // the rest, ... (O(n^2) hash look-ups per word). For tests and "##..." words.
  void tokenize_reference(std::string_view word, std::vector<Piece>& out) const;

  TokenId unk_id() const { return unk_id_; }
  std::size_t num_nodes() const { return nodes_.size(); }

 private:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;
  struct Node {
    std::uint32_t fail = kNone;   // f(v): where matching continues after popping F(v)
    std::uint32_t pops_begin = 0; // F(v) = pops_[pops_begin, pops_begin + pops_len)
    std::uint32_t pops_len = 0;
    TokenId token = -1;           // id of s(v) when s(v) is a vocabulary token
  };

  std::uint32_t child(std::uint32_t node, unsigned char byte) const;
  std::uint32_t add_child(std::uint32_t node, unsigned char byte);
  void insert_edge(std::uint64_t key, std::uint32_t value);
  void build_failure_links();
  bool match(std::string_view word, std::vector<Piece>& out) const;

  const Vocab* vocab_ = nullptr;
  std::string prefix_;
  std::size_t max_chars_ = 100;
  TokenId unk_id_ = -1;

  std::vector<Node> nodes_;
  std::uint32_t root_ = 0, suffix_root_ = 0;  // r and r# (the node of the "##" prefix)
  std::vector<TokenId> pops_;                 // all F(v) lists, back to back
  std::vector<std::uint32_t> token_len_;      // bytes of the word a token covers ("##ab" -> 2)
  // Trie edges in one open-addressing hash table: key (node << 8 | byte) -> child.
  std::vector<std::uint64_t> edge_keys_;
  std::vector<std::uint32_t> edge_values_;
  std::uint64_t edge_mask_ = 0;
  std::vector<std::vector<std::pair<unsigned char, std::uint32_t>>> children_;  // build time only
};

}  // namespace bertlab::tokenizer
