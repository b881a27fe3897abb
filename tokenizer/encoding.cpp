// tokenizer/encoding.cpp — truncate / merge / pad, as tokenizers/src/tokenizer/encoding.rs.
#include "tokenizer/encoding.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace bertlab::tokenizer {

void Encoding::reserve(std::size_t n) {
  ids.reserve(n);
  type_ids.reserve(n);
  offsets.reserve(n);
  word_ids.reserve(n);
  sequence_ids.reserve(n);
  special_tokens_mask.reserve(n);
  attention_mask.reserve(n);
}

void Encoding::push(TokenId id, std::int32_t type_id, Offsets off, std::int32_t word,
                    std::int32_t seq, std::int8_t special, std::int8_t attention) {
  ids.push_back(id);
  type_ids.push_back(type_id);
  offsets.push_back(off);
  word_ids.push_back(word);
  sequence_ids.push_back(seq);
  special_tokens_mask.push_back(special);
  attention_mask.push_back(attention);
}

namespace {

// Tokens [start, stop) of e, without its overflowing windows.
Encoding slice(const Encoding& e, std::size_t start, std::size_t stop) {
  const auto cut = [&](const auto& v) {
    using V = std::decay_t<decltype(v)>;
    return V(v.begin() + static_cast<std::ptrdiff_t>(start), v.begin() + static_cast<std::ptrdiff_t>(stop));
  };
  Encoding s;
  s.ids = cut(e.ids);
  s.type_ids = cut(e.type_ids);
  s.offsets = cut(e.offsets);
  s.word_ids = cut(e.word_ids);
  s.sequence_ids = cut(e.sequence_ids);
  s.special_tokens_mask = cut(e.special_tokens_mask);
  s.attention_mask = cut(e.attention_mask);
  return s;
}

template <class V>
void append(V& a, const V& b) {
  a.insert(a.end(), b.begin(), b.end());
}

// a += b for the token fields only.
void append_tokens(Encoding& a, const Encoding& b) {
  append(a.ids, b.ids);
  append(a.type_ids, b.type_ids);
  append(a.offsets, b.offsets);
  append(a.word_ids, b.word_ids);
  append(a.sequence_ids, b.sequence_ids);
  append(a.special_tokens_mask, b.special_tokens_mask);
  append(a.attention_mask, b.attention_mask);
}

}  // namespace

void truncate(Encoding& e, std::size_t max_len, std::size_t stride) {
  const std::size_t n = e.size();
  if (max_len >= n) return;
  if (max_len == 0) {
    Encoding moved = std::move(e);
    e = Encoding{};
    e.overflowing.push_back(std::move(moved));
    return;
  }
  if (stride >= max_len) {
    throw std::invalid_argument("truncation: stride " + std::to_string(stride) +
                                " must be smaller than the length left for the sequence (" +
                                std::to_string(max_len) + ")");
  }
  // windows [start, min(start + max_len, n)) for start = 0, step, 2 step, ... until one reaches n
  const std::size_t step = max_len - stride;
  Encoding head = slice(e, 0, max_len);
  for (std::size_t start = step; start < n; start += step) {
    const std::size_t stop = std::min(start + max_len, n);
    head.overflowing.push_back(slice(e, start, stop));
    if (stop == n) break;
  }
  e = std::move(head);
}

void merge(Encoding& a, const Encoding& b) {
  std::vector<Encoding> overflowing;
  for (const Encoding& ao : a.overflowing) {
    Encoding x = ao;  // each window of a with b ...
    merge(x, b);
    overflowing.push_back(std::move(x));
    for (const Encoding& bo : b.overflowing) {  // ... and with each window of b
      Encoding y = ao;
      merge(y, bo);
      overflowing.push_back(std::move(y));
    }
  }
  for (const Encoding& bo : b.overflowing) {  // a itself with each window of b
    Encoding z = a;
    z.overflowing.clear();
    merge(z, bo);
    overflowing.push_back(std::move(z));
  }
  append_tokens(a, b);
  a.overflowing = std::move(overflowing);
}

void pad(Encoding& e, std::size_t target_len, TokenId pad_id, std::int32_t pad_type_id) {
  for (Encoding& o : e.overflowing) pad(o, target_len, pad_id, pad_type_id);
  if (e.size() >= target_len) return;
  const std::size_t n = target_len - e.size();
  e.ids.insert(e.ids.end(), n, pad_id);
  e.type_ids.insert(e.type_ids.end(), n, pad_type_id);
  e.offsets.insert(e.offsets.end(), n, Offsets{0, 0});
  e.word_ids.insert(e.word_ids.end(), n, -1);
  e.sequence_ids.insert(e.sequence_ids.end(), n, -1);
  e.special_tokens_mask.insert(e.special_tokens_mask.end(), n, 1);
  e.attention_mask.insert(e.attention_mask.end(), n, 0);
}

void truncate_pair(Encoding& a, Encoding* b, std::size_t max_len, std::size_t stride,
                   TruncationStrategy strategy) {
  if (max_len == 0) {
    truncate(a, 0, stride);
    if (b) truncate(*b, 0, stride);
    return;
  }
  const std::size_t total = a.size() + (b ? b->size() : 0);
  if (total <= max_len) return;
  const std::size_t to_remove = total - max_len;
  switch (strategy) {
    case TruncationStrategy::kLongestFirst: {
      if (!b) {
        truncate(a, total - to_remove, stride);
        return;
      }
      // n1 the shorter: keep it whole if the longer can take the cut, else split max_len in half
      std::size_t n1 = a.size(), n2 = b->size();
      const bool swap = n1 > n2;
      if (swap) std::swap(n1, n2);
      n2 = n1 > max_len ? n1 : std::max(n1, max_len - n1);
      if (n1 + n2 > max_len) {
        n1 = max_len / 2;
        n2 = n1 + max_len % 2;
      }
      if (swap) std::swap(n1, n2);
      truncate(a, n1, stride);
      truncate(*b, n2, stride);
      return;
    }
    case TruncationStrategy::kOnlyFirst:
    case TruncationStrategy::kOnlySecond: {
      Encoding* target = strategy == TruncationStrategy::kOnlyFirst ? &a : b;
      if (!target) throw std::invalid_argument("truncation only_second: no second sequence given");
      if (target->size() <= to_remove) {
        throw std::invalid_argument(
            std::string("truncation ") + (strategy == TruncationStrategy::kOnlyFirst ? "only_first" : "only_second") +
            ": the sequence to truncate has " + std::to_string(target->size()) + " tokens but " +
            std::to_string(to_remove) + " must go to fit max_length");
      }
      truncate(*target, target->size() - to_remove, stride);
      return;
    }
  }
}

}  // namespace bertlab::tokenizer
