// tokenizer/wordpiece.cpp — LinMaxMatch (Song et al. 2021, Algorithms 1 and 2) and the plain
// MaxMatch it must agree with.
#include "tokenizer/wordpiece.h"

#include <bit>
#include <deque>

namespace bertlab::tokenizer {

namespace {

constexpr std::uint64_t kEmptyKey = ~std::uint64_t{0};

std::uint64_t edge_key(std::uint32_t node, unsigned char byte) {
  return (static_cast<std::uint64_t>(node) << 8) | byte;
}

std::uint64_t mix(std::uint64_t k) {  // a cheap multiplicative hash (Fibonacci hashing)
  return (k * 0x9E3779B97F4A7C15ull) >> 20;
}

std::size_t count_chars(std::string_view s) {  // s is valid UTF-8: count non-continuation bytes
  std::size_t n = 0;
  for (unsigned char b : s) n += (b & 0xC0) != 0x80;
  return n;
}

}  // namespace

WordPiece::WordPiece(const Vocab& vocab, std::string_view unk_token, std::string_view prefix,
                     std::size_t max_input_chars_per_word)
    : vocab_(&vocab), prefix_(prefix), max_chars_(max_input_chars_per_word) {
  unk_id_ = vocab.find(unk_token);
  if (unk_id_ < 0) {
    throw TokenizerError("WordPiece: the unknown token '" + std::string(unk_token) +
                         "' is not in the vocabulary");
  }
  // 1. The trie: root r, the "##" node r#, one path per vocabulary token.
  nodes_.emplace_back();
  children_.emplace_back();
  root_ = 0;
  std::uint32_t v = root_;
  for (unsigned char b : prefix_) v = add_child(v, b);
  suffix_root_ = v;
  token_len_.resize(vocab.size());
  for (std::size_t id = 0; id < vocab.size(); ++id) {
    const std::string& tok = vocab.tokens()[id];
    const bool is_suffix = !prefix_.empty() && tok.size() > prefix_.size() && tok.starts_with(prefix_);
    token_len_[id] = static_cast<std::uint32_t>(tok.size() - (is_suffix ? prefix_.size() : 0));
    if (tok.empty() || (!prefix_.empty() && tok == prefix_)) continue;  // never matched by MaxMatch
    std::uint32_t u = root_;
    for (unsigned char b : tok) u = add_child(u, b);
    if (nodes_[u].token < 0) nodes_[u].token = static_cast<TokenId>(id);
  }
  // 2. Edges into a hash table (open addressing, load <= 1/2).
  std::size_t n_edges = 0;
  for (const auto& c : children_) n_edges += c.size();
  const std::size_t cap = std::bit_ceil(std::max<std::size_t>(16, 2 * n_edges));
  edge_keys_.assign(cap, kEmptyKey);
  edge_values_.assign(cap, kNone);
  edge_mask_ = cap - 1;
  for (std::uint32_t u = 0; u < children_.size(); ++u) {
    for (auto [b, w] : children_[u]) insert_edge(edge_key(u, b), w);
  }
  // 3. f(v) and F(v).
  build_failure_links();
  children_.clear();
  children_.shrink_to_fit();
}

std::uint32_t WordPiece::add_child(std::uint32_t node, unsigned char byte) {
  for (auto [b, w] : children_[node]) {
    if (b == byte) return w;
  }
  const auto w = static_cast<std::uint32_t>(nodes_.size());
  nodes_.emplace_back();
  children_.emplace_back();
  children_[node].emplace_back(byte, w);
  return w;
}

void WordPiece::insert_edge(std::uint64_t key, std::uint32_t value) {
  for (std::uint64_t i = mix(key) & edge_mask_;; i = (i + 1) & edge_mask_) {
    if (edge_keys_[i] == kEmptyKey) {
      edge_keys_[i] = key;
      edge_values_[i] = value;
      return;
    }
  }
}

inline std::uint32_t WordPiece::child(std::uint32_t node, unsigned char byte) const {
  const std::uint64_t key = edge_key(node, byte);
  for (std::uint64_t i = mix(key) & edge_mask_;; i = (i + 1) & edge_mask_) {
    const std::uint64_t k = edge_keys_[i];
    if (k == key) return edge_values_[i];
    if (k == kEmptyKey) return kNone;
  }
}

// Algorithm 2 of the paper, breadth first so that f(u) and F(u) are known before u's children.
//   s(v) a token:  f(v) = r#, F(v) = [s(v)]        (commit to the longest match, go on with "##")
//   otherwise:     from z = f(parent) pop F(z) and follow f(z) until z has an edge for the byte;
//                  f(v) = that child, F(v) = F(parent) + the pops on the way (f(v) = none if no z).
void WordPiece::build_failure_links() {
  std::deque<std::uint32_t> queue = {root_};
  if (suffix_root_ != root_) queue.push_back(suffix_root_);
  std::vector<TokenId> pops;
  while (!queue.empty()) {
    const std::uint32_t u = queue.front();
    queue.pop_front();
    for (auto [byte, v] : children_[u]) {
      if (v == suffix_root_) continue;  // r# starts fresh: f = none, F = []
      Node& node = nodes_[v];
      if (node.token >= 0) {
        node.fail = suffix_root_;
        node.pops_begin = static_cast<std::uint32_t>(pops_.size());
        node.pops_len = 1;
        pops_.push_back(node.token);
      } else {
        pops.assign(pops_.begin() + nodes_[u].pops_begin,
                    pops_.begin() + nodes_[u].pops_begin + nodes_[u].pops_len);
        std::uint32_t z = nodes_[u].fail;
        while (z != kNone && child(z, byte) == kNone) {
          pops.insert(pops.end(), pops_.begin() + nodes_[z].pops_begin,
                      pops_.begin() + nodes_[z].pops_begin + nodes_[z].pops_len);
          z = nodes_[z].fail;
        }
        if (z != kNone) {
          nodes_[v].fail = child(z, byte);
          nodes_[v].pops_begin = static_cast<std::uint32_t>(pops_.size());
          nodes_[v].pops_len = static_cast<std::uint32_t>(pops.size());
          pops_.insert(pops_.end(), pops.begin(), pops.end());
        }
      }
      queue.push_back(v);
    }
  }
}

// Algorithm 1 (MatchLoop) plus the end-of-word flush. Returns false where MaxMatch would fail.
bool WordPiece::match(std::string_view word, std::vector<Piece>& out) const {
  const std::size_t first = out.size();
  std::uint32_t pos = 0;  // byte of the word where the next popped token starts
  const auto emit = [&](const Node& n) {
    for (std::uint32_t k = 0; k < n.pops_len; ++k) {
      const TokenId id = pops_[n.pops_begin + k];
      const std::uint32_t len = token_len_[static_cast<std::size_t>(id)];
      out.push_back({id, pos, pos + len});
      pos += len;
    }
  };
  std::uint32_t u = root_;
  for (unsigned char b : word) {
    std::uint32_t next;
    while ((next = child(u, b)) == kNone) {
      const Node& n = nodes_[u];
      if (n.fail == kNone) {
        out.resize(first);
        return false;
      }
      emit(n);
      u = n.fail;
    }
    u = next;
  }
  while (u != suffix_root_) {
    const Node& n = nodes_[u];
    if (n.fail == kNone) {
      out.resize(first);
      return false;
    }
    emit(n);
    u = n.fail;
  }
  return true;
}

void WordPiece::tokenize(std::string_view word, std::vector<Piece>& out) const {
  const auto unk = [&] { out.push_back({unk_id_, 0, static_cast<std::uint32_t>(word.size())}); };
  if (word.empty()) return;
  if (count_chars(word) > max_chars_) return unk();
  // A word that starts with "##" would walk from r into r#, where the trie cannot tell the
  // word's own "##" from the continuation prefix: use MaxMatch (only reachable via never_split,
  // since the pre-tokenizer splits '#' off as punctuation).
  if (!prefix_.empty() && word.starts_with(prefix_)) return tokenize_reference(word, out);
  if (!match(word, out)) unk();
}

void WordPiece::tokenize_reference(std::string_view word, std::vector<Piece>& out) const {
  const std::size_t first = out.size();
  if (word.empty()) return;
  if (count_chars(word) > max_chars_) {
    out.push_back({unk_id_, 0, static_cast<std::uint32_t>(word.size())});
    return;
  }
  std::string candidate;
  std::size_t start = 0;
  while (start < word.size()) {
    std::size_t end = word.size();
    TokenId found = -1;
    while (start < end) {
      candidate.assign(start > 0 ? prefix_ : std::string());
      candidate.append(word.substr(start, end - start));
      found = vocab_->find(candidate);
      if (found >= 0) break;
      do {
        --end;  // back up one code point
      } while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
    }
    if (found < 0) {
      out.resize(first);
      out.push_back({unk_id_, 0, static_cast<std::uint32_t>(word.size())});
      return;
    }
    out.push_back({found, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(end)});
    start = end;
  }
}

}  // namespace bertlab::tokenizer
