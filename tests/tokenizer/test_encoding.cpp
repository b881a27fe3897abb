// tests/tokenizer/test_encoding.cpp — tokenizer/encoding.h: truncate with stride windows, merge
// of overflowing windows, padding and the longest_first split, checked on the cases of HF's own
// unit tests (tokenizers/src/tokenizer/encoding.rs, utils/truncation.rs).
#include <doctest/doctest.h>

#include "tokenizer/encoding.h"

namespace tk = bertlab::tokenizer;

namespace {

// An encoding of ids first, first+1, ... (word i for token i).
tk::Encoding make(int first, int n) {
  tk::Encoding e;
  for (int i = 0; i < n; ++i) {
    e.push(first + i, 0, {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + 1)}, i, 0, 0);
  }
  return e;
}

}  // namespace

TEST_CASE("truncate with stride: windows of max_len every max_len - stride tokens") {
  tk::Encoding e = make(1, 5);
  tk::truncate(e, 4, 2);
  CHECK(e.ids == std::vector<tk::TokenId>{1, 2, 3, 4});
  REQUIRE(e.overflowing.size() == 1);
  CHECK(e.overflowing[0].ids == std::vector<tk::TokenId>{3, 4, 5});
  CHECK(e.overflowing[0].word_ids == std::vector<int>{2, 3, 4});
  tk::Encoding f = make(1, 10);
  tk::truncate(f, 4, 1);  // [1..4] [4..7] [7..10]
  REQUIRE(f.overflowing.size() == 2);
  CHECK(f.overflowing[0].ids == std::vector<tk::TokenId>{4, 5, 6, 7});
  CHECK(f.overflowing[1].ids == std::vector<tk::TokenId>{7, 8, 9, 10});
  tk::Encoding g = make(1, 3);
  tk::truncate(g, 3, 0);  // long enough: untouched
  CHECK(g.ids.size() == 3);
  CHECK(g.overflowing.empty());
}

TEST_CASE("truncate to 0 moves everything into one overflowing encoding") {
  tk::Encoding e = make(1, 3);
  tk::truncate(e, 0, 0);
  CHECK(e.size() == 0);
  REQUIRE(e.overflowing.size() == 1);
  CHECK(e.overflowing[0].ids == std::vector<tk::TokenId>{1, 2, 3});
}

TEST_CASE("stride >= max_len is an error (HF panics)") {
  tk::Encoding e = make(1, 5);
  CHECK_THROWS_AS(tk::truncate(e, 2, 2), std::invalid_argument);
}

TEST_CASE("longest_first splits max_length as HF's truncation tests say") {
  // (n1, n2) -> lengths after truncating to 7, from truncate_encodings_longest_first
  const int cases[][4] = {{0, 0, 0, 0}, {0, 2, 0, 2}, {0, 4, 0, 4}, {0, 8, 0, 7}, {2, 0, 2, 0}, {2, 2, 2, 2},
                          {2, 4, 2, 4}, {2, 8, 2, 5}, {4, 0, 4, 0}, {4, 2, 4, 2}, {4, 4, 3, 4}, {4, 8, 3, 4},
                          {8, 0, 7, 0}, {8, 2, 5, 2}, {8, 4, 4, 3}, {8, 8, 3, 4}};
  for (const auto& c : cases) {
    tk::Encoding a = make(1, c[0]), b = make(100, c[1]);
    tk::truncate_pair(a, &b, 7, 0, tk::TruncationStrategy::kLongestFirst);
    CHECK_MESSAGE(a.size() == static_cast<std::size_t>(c[2]), c[0] << "," << c[1]);
    CHECK_MESSAGE(b.size() == static_cast<std::size_t>(c[3]), c[0] << "," << c[1]);
  }
}

TEST_CASE("only_first / only_second cut one side, and refuse when it is too short") {
  tk::Encoding a = make(1, 3), b = make(100, 6);
  tk::truncate_pair(a, &b, 7, 0, tk::TruncationStrategy::kOnlySecond);
  CHECK(a.size() == 3);
  CHECK(b.size() == 4);
  tk::Encoding c = make(1, 5), d = make(100, 2);
  CHECK_THROWS_AS(tk::truncate_pair(c, &d, 4, 0, tk::TruncationStrategy::kOnlySecond), std::invalid_argument);
  tk::Encoding e = make(1, 9);
  CHECK_THROWS_AS(tk::truncate_pair(e, nullptr, 4, 0, tk::TruncationStrategy::kOnlySecond), std::invalid_argument);
  tk::truncate_pair(e, nullptr, 4, 0, tk::TruncationStrategy::kOnlyFirst);
  CHECK(e.size() == 4);
}

TEST_CASE("merge combines overflowing windows in HF's order") {
  tk::Encoding a = make(1, 4), b = make(100, 4);
  tk::truncate(a, 2, 0);  // a: [1 2], windows [3 4]
  tk::truncate(b, 2, 0);  // b: [100 101], windows [102 103]
  tk::merge(a, b);
  CHECK(a.ids == std::vector<tk::TokenId>{1, 2, 100, 101});
  REQUIRE(a.overflowing.size() == 3);
  CHECK(a.overflowing[0].ids == std::vector<tk::TokenId>{3, 4, 100, 101});  // a window + b
  CHECK(a.overflowing[1].ids == std::vector<tk::TokenId>{3, 4, 102, 103});  // a window + b window
  CHECK(a.overflowing[2].ids == std::vector<tk::TokenId>{1, 2, 102, 103});  // a + b window
}

TEST_CASE("pad on the right: pad id, type 0, mask 0, special 1, no word, (0,0)") {
  tk::Encoding e = make(5, 2);
  tk::truncate(e, 1, 0);
  tk::pad(e, 3, 0);
  CHECK(e.ids == std::vector<tk::TokenId>{5, 0, 0});
  CHECK(e.attention_mask == std::vector<std::int8_t>{1, 0, 0});
  CHECK(e.special_tokens_mask == std::vector<std::int8_t>{0, 1, 1});
  CHECK(e.word_ids == std::vector<int>{0, -1, -1});
  CHECK(e.offsets[2] == tk::Offsets{0, 0});
  CHECK(e.overflowing[0].ids == std::vector<tk::TokenId>{6, 0, 0});  // windows are padded too
  tk::pad(e, 2, 0);  // shorter target: nothing changes
  CHECK(e.size() == 3);
}
