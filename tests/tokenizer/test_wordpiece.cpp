// tests/tokenizer/test_wordpiece.cpp — tokenizer/wordpiece.h: the LinMaxMatch trie (Song et al.
// 2021) gives exactly greedy longest-match-first (MaxMatch, HF's WordPiece), on hand-made
// vocabularies where greedy must back off or fail, on every token of the BERT vocabularies, and
// on random words.
#include <doctest/doctest.h>

#include <random>

#include "tokenizer/vocab.h"
#include "tokenizer/wordpiece.h"

namespace tk = bertlab::tokenizer;

namespace {

std::vector<std::string> pieces(const tk::Vocab& v, const tk::WordPiece& wp, const std::string& word, bool reference = false) {
  std::vector<tk::Piece> out;
  reference ? wp.tokenize_reference(word, out) : wp.tokenize(word, out);
  std::vector<std::string> s;
  for (const auto& p : out) s.push_back(v.token(p.id) + "@" + std::to_string(p.start) + "-" + std::to_string(p.end));
  return s;
}

tk::Vocab make_vocab(const std::string& lines) { return tk::parse_vocab(lines, "test"); }

}  // namespace

TEST_CASE("greedy longest match first with ## continuations") {
  const tk::Vocab v = make_vocab("[UNK]\nun\nunaff\n##aff\n##able\n##a\n##b\n##l\n##e\na\nb\n");
  const tk::WordPiece wp(v);
  CHECK(pieces(v, wp, "unaffable") == std::vector<std::string>{"unaff@0-5", "##able@5-9"});
  CHECK(pieces(v, wp, "unable") == std::vector<std::string>{"un@0-2", "##able@2-6"});
  CHECK(pieces(v, wp, "ab") == std::vector<std::string>{"a@0-1", "##b@1-2"});
  CHECK(pieces(v, wp, "a") == std::vector<std::string>{"a@0-1"});
  // no piece for "x": the whole word is [UNK]
  CHECK(pieces(v, wp, "unx") == std::vector<std::string>{"[UNK]@0-3"});
  CHECK(pieces(v, wp, "x") == std::vector<std::string>{"[UNK]@0-1"});
}

TEST_CASE("the vocabulary of the paper's Figure 1: failure links and failure pops") {
  // vocab {a, abcdx, ##b, ##c, ##cdy, ##dz} (Song et al. 2021): reading "abcdz" walks the trie to
  // "abcd", then the failure pops give a ##b ##c and matching goes on at ##d; a word that greedy
  // matching cannot finish ("abcd": a ##b ##c, then no ##d) is one [UNK].
  const tk::Vocab v = make_vocab("[UNK]\na\nabcdx\n##b\n##c\n##cdy\n##dz\n");
  const tk::WordPiece wp(v);
  CHECK(pieces(v, wp, "abcdz") == std::vector<std::string>{"a@0-1", "##b@1-2", "##c@2-3", "##dz@3-5"});
  CHECK(pieces(v, wp, "abcdy") == std::vector<std::string>{"a@0-1", "##b@1-2", "##cdy@2-5"});
  CHECK(pieces(v, wp, "abcdx") == std::vector<std::string>{"abcdx@0-5"});
  CHECK(pieces(v, wp, "abcd") == std::vector<std::string>{"[UNK]@0-4"});  // a ##b ##c then no ##d
  for (const char* w : {"abcdz", "abcdy", "abcdx", "abcd", "ab", "abc", "abcdxx", "b"}) {
    CHECK(pieces(v, wp, w) == pieces(v, wp, w, true));
  }
}

TEST_CASE("more than max_input_chars_per_word code points is [UNK]; counting is by code point") {
  const tk::Vocab v = make_vocab("[UNK]\na\n##a\n\xC3\xA9\n##\xC3\xA9\n");
  const tk::WordPiece wp(v, "[UNK]", "##", 3);
  CHECK(pieces(v, wp, "aaa").size() == 3);
  CHECK(pieces(v, wp, "aaaa") == std::vector<std::string>{"[UNK]@0-4"});
  CHECK(pieces(v, wp, "\xC3\xA9\xC3\xA9\xC3\xA9").size() == 3);  // 3 chars, 6 bytes
  CHECK(pieces(v, wp, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9") == std::vector<std::string>{"[UNK]@0-8"});
  const tk::WordPiece wp100(v);
  CHECK(pieces(v, wp100, std::string(100, 'a')).size() == 100);
  CHECK(pieces(v, wp100, std::string(101, 'a')).size() == 1);
  CHECK(pieces(v, wp100, std::string(10000, 'a')) == std::vector<std::string>{"[UNK]@0-10000"});
}

TEST_CASE("a word starting with ## (only via never_split) still matches MaxMatch") {
  const tk::Vocab v = make_vocab("[UNK]\n#\n##a\na\n##\n");
  const tk::WordPiece wp(v);
  for (const char* w : {"##a", "##", "#", "#a", "###"}) CHECK(pieces(v, wp, w) == pieces(v, wp, w, true));
}

TEST_CASE("unknown [UNK] is an error") {
  const tk::Vocab v = make_vocab("a\n");
  CHECK_THROWS_AS(tk::WordPiece{v}, tk::TokenizerError);
}

TEST_CASE("LinMaxMatch equals MaxMatch on the BERT vocabularies and on random words") {
  for (const char* path : {"data/vocab/bert-base-uncased-vocab.txt", "data/vocab/bert-base-cased-vocab.txt"}) {
    const tk::Vocab v = tk::load_vocab(path);
    const tk::WordPiece wp(v);
    std::size_t words = 0, differ = 0;
    std::vector<tk::Piece> a, b;
    const auto check = [&](const std::string& w) {
      a.clear(), b.clear();
      wp.tokenize(w, a);
      wp.tokenize_reference(w, b);
      ++words;
      const bool same = a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](auto& x, auto& y) {
                          return x.id == y.id && x.start == y.start && x.end == y.end;
                        });
      if (!same && ++differ <= 5) FAIL_CHECK("differs on '" << w << "'");
    };
    // every token, every token without its ##, and pairs of tokens glued together
    std::mt19937 rng(1234);
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string t = v.token(static_cast<tk::TokenId>(i));
      if (t.starts_with("##")) t = t.substr(2);
      if (t.empty()) continue;
      check(t);
      std::string u = v.token(static_cast<tk::TokenId>(rng() % v.size()));
      if (u.starts_with("##")) u = u.substr(2);
      check(t + u);
    }
    // random lowercase words of 1..30 letters
    const std::string letters = "abcdefghijklmnopqrstuvwxyzeeeaaoiu";
    for (int i = 0; i < 20000; ++i) {
      std::string w(1 + rng() % 30, 'a');
      for (char& c : w) c = letters[rng() % letters.size()];
      check(w);
    }
    MESSAGE(std::string(path) << ": " << words << " words, trie " << wp.num_nodes() << " nodes, " << differ << " differ");
    CHECK(differ == 0);
  }
}
