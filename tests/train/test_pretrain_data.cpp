// tests/train/test_pretrain_data.cpp — bert/pretrain_data.h: the corpus readers (both formats,
// CR LF, empty documents, a huge line, seeking), the sentence splitter, and the examples: masking
// statistics on a large sample (15% / 80-10-10), NSP 50/50 with IsNext pairs really consecutive,
// whole-word masking, determinism for a seed, and restoring a saved data position.
#include <cmath>
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "bert/pretrain_data.h"
#include "bert/train/run.h"
#include "helpers.h"

using namespace bertlab;
using namespace bertlab::bert;
using test_train::TempDir;
using test_train::write_file;

namespace {

std::vector<Document> read_all(CorpusReader& r) {
  std::vector<Document> out;
  Document d;
  while (r.next(d)) out.push_back(d);
  return out;
}

std::vector<Example> take(const std::vector<std::string>& files, PretrainDataOptions o, int64_t n) {
  ExampleStream s(files, test_train::tokenizer(), o);
  return s.take(n);
}

bool same(const Example& a, const Example& b) {
  return a.input_ids == b.input_ids && a.token_type_ids == b.token_type_ids && a.labels == b.labels &&
         a.next_sentence_label == b.next_sentence_label && a.doc == b.doc && a.b_doc == b.b_doc &&
         a.a_first == b.a_first && a.b_first == b.b_first && a.epoch == b.epoch;
}

}  // namespace

TEST_CASE("split_sentences splits after . ! ? followed by a space and not a lower-case word") {
  CHECK(split_sentences("He left. She stayed! Did they? Yes.") ==
        std::vector<std::string>{"He left.", "She stayed!", "Did they?", "Yes."});
  SUBCASE("abbreviations, initials and decimals do not end a sentence") {
    CHECK(split_sentences("Mr. Smith met Dr. Jones at St. Paul. Then J. R. R. Tolkien came.") ==
          std::vector<std::string>{"Mr. Smith met Dr. Jones at St. Paul.", "Then J. R. R. Tolkien came."});
    CHECK(split_sentences("It cost 1 @.@ 5 million . The U.S. Army agreed .") ==
          std::vector<std::string>{"It cost 1 @.@ 5 million .", "The U.S. Army agreed ."});
    CHECK(split_sentences("See e.g. the list. No. 5 won.").size() == 2);
  }
  SUBCASE("closing quotes stay with their sentence; lower case continues it") {
    CHECK(split_sentences("He said \"stop.\" Then he left.") ==
          std::vector<std::string>{"He said \"stop.\"", "Then he left."});
    CHECK(split_sentences("The value is approx. five units.").size() == 1);
  }
  SUBCASE("WikiText's spaced punctuation") {
    CHECK(split_sentences(" Robert Boulter is an English film , television and theatre actor . He had a guest "
                          "@-@ starring role . ") ==
          std::vector<std::string>{"Robert Boulter is an English film , television and theatre actor .",
                                   "He had a guest @-@ starring role ."});
  }
  CHECK(split_sentences("   ").empty());
  CHECK(split_sentences("no final stop") == std::vector<std::string>{"no final stop"});
}

TEST_CASE("wikitext_heading_level tells titles from sections and text") {
  CHECK(wikitext_heading_level(" = Robert Boulter = ") == 1);
  CHECK(wikitext_heading_level(" = = Career = = ") == 2);
  CHECK(wikitext_heading_level(" = = = 2000 – 2005 = = = ") == 3);
  CHECK(wikitext_heading_level("a = b = c") == 0);
  CHECK(wikitext_heading_level(" = = ") == 0);
  CHECK(wikitext_heading_level("x = 1 =") == 0);
}

TEST_CASE("the lines format: a sentence a line, blank lines between documents, CR LF, empty documents") {
  TempDir t("lines");
  write_file(t / "a.txt",
             "First doc one.\r\nFirst doc two.\r\n\r\n\r\n \t \r\nSecond doc one.\n\n\n"
             "Third doc, no final newline.");
  write_file(t / "b.txt", "\n\nFourth doc.\nStill fourth.\n");
  CorpusReader r({t / "a.txt", t / "b.txt"}, CorpusFormat::Lines);
  auto docs = read_all(r);
  REQUIRE(docs.size() == 4);
  CHECK(docs[0].sentences == std::vector<std::string>{"First doc one.", "First doc two."});
  CHECK(docs[1].sentences == std::vector<std::string>{"Second doc one."});
  CHECK(docs[2].sentences == std::vector<std::string>{"Third doc, no final newline."});
  CHECK(docs[3].sentences == std::vector<std::string>{"Fourth doc.", "Still fourth."});
  for (int i = 0; i < 4; ++i) CHECK(docs[i].ordinal == i);
  CHECK(docs[3].start.file == 1);

  SUBCASE("seeking to a document's start reads it again, and what follows") {
    r.seek(docs[1].start);
    auto again = read_all(r);
    REQUIRE(again.size() == 3);
    CHECK(again[0].sentences == docs[1].sentences);
    CHECK(again[0].ordinal == 1);
    CHECK(again[2].sentences == docs[3].sentences);
  }
  SUBCASE("auto-detection picks lines here") { CHECK(detect_corpus_format(t / "a.txt") == CorpusFormat::Lines); }
}

TEST_CASE("the raw format: WikiText-2 articles become documents, headings and CR LF are dropped") {
  CHECK(detect_corpus_format(test_train::wikitext_path()) == CorpusFormat::Raw);
  CorpusReader r({test_train::wikitext_path()});
  auto docs = read_all(r);
  // One document per level-1 heading ` = Title = ` (counted independently here).
  std::ifstream f(test_train::wikitext_path(), std::ios::binary);
  int titles = 0;
  for (std::string line; std::getline(f, line);) titles += wikitext_heading_level(line) == 1;
  CHECK(titles > 50);
  CHECK((int)docs.size() == titles);
  size_t sentences = 0;
  for (const auto& d : docs) {
    CHECK(!d.sentences.empty());
    for (const auto& s : d.sentences) {
      CHECK(s.find('\r') == std::string::npos);
      CHECK(wikitext_heading_level(s) == 0);
      CHECK(!s.empty());
    }
    sentences += d.sentences.size();
  }
  CHECK(sentences > 8000);
  CHECK(docs[0].sentences[0] == "Robert Boulter is an English film , television and theatre actor .");

  SUBCASE("a seek to the middle of the file gives the same documents") {
    r.seek(docs[30].start);
    Document d;
    REQUIRE(r.next(d));
    CHECK(d.sentences == docs[30].sentences);
    CHECK(d.ordinal == 30);
  }
}

TEST_CASE("a huge line is read in bounded pieces (at spaces, else at UTF-8 boundaries)") {
  TempDir t("huge");
  std::string words;
  while (words.size() < (3u << 20)) words += "lorem ipsum dolor sit amet ";
  std::string nospace;
  while (nospace.size() < (1u << 20)) nospace += "é";  // two bytes each
  write_file(t / "c.txt", "Short one.\n" + words + "\n" + nospace + "\nLast one.\n\nNext doc.\n");
  ReaderLimits lim;
  lim.max_line_bytes = 1 << 16;
  CorpusReader r({t / "c.txt"}, {CorpusFormat::Lines}, lim);
  auto docs = read_all(r);
  REQUIRE(docs.size() == 2);  // the pieces are no blank lines
  size_t bytes = 0;
  for (const auto& s : docs[0].sentences) {
    CHECK(s.size() <= lim.max_line_bytes);
    bytes += s.size();
    // no piece starts inside a UTF-8 character
    CHECK(((unsigned char)s[0] & 0xC0) != 0x80);
  }
  CHECK(docs[0].sentences.front() == "Short one.");
  CHECK(docs[0].sentences.back() == "Last one.");
  CHECK(docs[0].sentences.size() > 60);
  CHECK(bytes + 200 > words.size() + nospace.size());  // nothing lost but the trimmed spaces
  CHECK(docs[1].sentences == std::vector<std::string>{"Next doc."});

  SUBCASE("and a document over max_doc_bytes is cut into several") {
    lim.max_doc_bytes = 1 << 20;
    CorpusReader r2({t / "c.txt"}, {CorpusFormat::Lines}, lim);
    auto d2 = read_all(r2);
    CHECK(d2.size() >= 4);
  }
}

TEST_CASE("missing, unreadable and empty corpora give clear errors") {
  TempDir t("bad");
  CHECK_THROWS_WITH_AS(CorpusReader({t / "nope.txt"}), doctest::Contains("nope.txt"), Error);
  CHECK_THROWS_WITH_AS(CorpusReader({t.path.string()}), doctest::Contains("is a directory"), Error);
  write_file(t / "empty.txt", "\n \n\r\n");
  PretrainDataOptions o;
  Example ex;
  ExampleStream s({t / "empty.txt"}, test_train::tokenizer(), o);
  CHECK_THROWS_WITH_AS(s.next(ex), doctest::Contains("no usable text"), Error);
  CHECK_THROWS_WITH_AS(parse_corpus_format("csv"), doctest::Contains("unknown corpus format"), Error);
}

TEST_CASE("masking statistics on a large sample: 15% of non-special tokens, then 80% [MASK], 10% random, 10% kept") {
  PretrainDataOptions o;
  o.seed = 7;
  const auto tok = test_train::tokenizer();
  const auto ex = take({test_train::wikitext_path()}, o, 2000);
  REQUIRE(ex.size() == 2000);
  int64_t candidates = 0, selected = 0, as_mask = 0, kept = 0, random = 0, nsp_random = 0;
  for (const auto& e : ex) {
    const size_t T = e.input_ids.size();
    REQUIRE(T <= 128);
    REQUIRE(e.labels.size() == T);
    REQUIRE(e.token_type_ids.size() == T);
    // [CLS] A [SEP] B [SEP], specials never selected
    CHECK(e.input_ids[0] == tok->cls_id());
    CHECK(e.input_ids[T - 1] == tok->sep_id());
    int seps = 0;
    int64_t sel_here = 0;
    for (size_t i = 0; i < T; ++i) {
      const int32_t id = e.input_ids[i];
      if (id == tok->cls_id() || id == tok->sep_id()) {
        CHECK(e.labels[i] == -100);
        seps += id == tok->sep_id();
        continue;
      }
      ++candidates;
      if (e.labels[i] == -100) {
        CHECK(id != tok->mask_id());  // unselected tokens are the text's
        continue;
      }
      ++selected, ++sel_here;
      CHECK((e.labels[i] != tok->cls_id() && e.labels[i] != tok->sep_id() && e.labels[i] != tok->mask_id() && e.labels[i] != tok->pad_id()));
      if (id == tok->mask_id()) ++as_mask;
      else if (id == e.labels[i]) ++kept;
      else ++random;
    }
    CHECK(seps == 2);
    CHECK(sel_here >= 1);
    CHECK(sel_here <= o.max_predictions());
    nsp_random += e.next_sentence_label;
  }
  const double rate = (double)selected / (double)candidates;
  INFO("selected " << selected << " of " << candidates << " candidates; [MASK] " << as_mask << ", kept " << kept
                   << ", random " << random);
  CHECK(rate > 0.145);
  CHECK(rate < 0.155);
  // Each selected token is [MASK] / kept / random independently, so each count is binomial:
  // the share p^ of n draws has standard deviation sqrt(p (1 - p) / n). Bound |p^ - p| by 5 of
  // them (a false failure about once in 1.7 million runs; the seed is fixed anyway). With the
  // n of this sample (36,459 selected tokens) that is +-0.0105 for 80% and +-0.0079 for 10%,
  // so a wrong split fails: 80/0/20 is off by 0.1 (13 sd) on "kept" and "random", 70/15/15 by
  // 0.1 on [MASK] (10 sd) and 0.05 on the others (6 sd). (doctest's Approx(0.1).epsilon(0.1)
  // allowed 0.1 +- 0.11, which passed both.) A random token may happen to be the original, so
  // "kept" is really 0.1 + 0.1 / |random ids|: under 1e-4 with this vocabulary.
  REQUIRE(selected >= 30000);  // the bounds above assume a sample this large
  auto near = [&](int64_t k, double p) {
    const double got = (double)k / (double)selected, sd = std::sqrt(p * (1 - p) / (double)selected);
    INFO("share " << got << ", expected " << p << " +- " << 5 * sd << " (5 sd)");
    CHECK(std::fabs(got - p) <= 5 * sd);
  };
  near(as_mask, 0.8);
  near(kept, 0.1);
  near(random, 0.1);
  // NSP: half random (a little more: one-sentence chunks always take a random B)
  const double nsp = (double)nsp_random / (double)ex.size();
  INFO("NotNext share " << nsp);
  CHECK(nsp > 0.45);
  CHECK(nsp < 0.56);
}

TEST_CASE("IsNext pairs are consecutive text of one document, NotNext pairs come from another document") {
  // Tokenize the corpus the same way to check the tokens themselves.
  const auto tok = test_train::tokenizer();
  CorpusReader r({test_train::wikitext_path()});
  std::map<int64_t, std::vector<std::vector<int32_t>>> docs;
  for (const auto& d : read_all(r)) {
    tokenizer::EncodeOptions eo;
    eo.add_special_tokens = false;
    for (const auto& e : tok->encode_batch(d.sentences, eo))
      for (size_t b = 0; b < e.ids.size(); b += 125)
        docs[d.ordinal].emplace_back(e.ids.begin() + b, e.ids.begin() + std::min(e.ids.size(), b + 125));
  }
  auto span = [&](int64_t doc, int first, int last) {
    std::vector<int32_t> v;
    for (int s = first; s <= last; ++s) v.insert(v.end(), docs[doc][s].begin(), docs[doc][s].end());
    return v;
  };
  auto contains = [](const std::vector<int32_t>& hay, const std::vector<int32_t>& needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
  };
  PretrainDataOptions o;
  o.masked_lm_prob = 0.01;  // (labels restore the masked tokens anyway)
  const auto ex = take({test_train::wikitext_path()}, o, 600);
  int is_next = 0, not_next = 0;
  for (const auto& e : ex) {
    // unmask
    std::vector<int32_t> ids = e.input_ids;
    for (size_t i = 0; i < ids.size(); ++i)
      if (e.labels[i] != -100) ids[i] = e.labels[i];
    const size_t sep = std::find(ids.begin() + 1, ids.end(), tok->sep_id()) - ids.begin();
    const std::vector<int32_t> a(ids.begin() + 1, ids.begin() + sep), b(ids.begin() + sep + 1, ids.end() - 1);
    REQUIRE(!a.empty());
    REQUIRE(!b.empty());
    for (size_t i = 0; i < ids.size(); ++i) CHECK(e.token_type_ids[i] == (i <= sep ? 0 : 1));
    CHECK(contains(span(e.doc, e.a_first, e.a_last), a));
    CHECK(contains(span(e.b_doc, e.b_first, e.b_last), b));
    if (e.next_sentence_label == 0) {
      ++is_next;
      CHECK(e.b_doc == e.doc);
      CHECK(e.b_first == e.a_last + 1);  // B starts with the sentence after A's last
    } else {
      ++not_next;
      CHECK(e.b_doc != e.doc);
    }
  }
  CHECK(is_next > 200);
  CHECK(not_next > 200);
}

TEST_CASE("whole-word masking selects every piece of a word together") {
  PretrainDataOptions o;
  o.whole_word_masking = true;
  const auto tok = test_train::tokenizer();
  const auto ex = take({test_train::wikitext_path()}, o, 800);
  int64_t pieces = 0;
  for (const auto& e : ex) {
    std::vector<int32_t> ids = e.input_ids;
    for (size_t i = 0; i < ids.size(); ++i)
      if (e.labels[i] != -100) ids[i] = e.labels[i];
    for (size_t i = 1; i + 1 < ids.size(); ++i) {
      const bool cont = tok->vocab().token(ids[i]).rfind("##", 0) == 0;
      if (!cont || ids[i - 1] == tok->sep_id() || ids[i - 1] == tok->cls_id()) continue;
      // a "##" piece is selected exactly when the piece before it (same word) is
      CHECK((e.labels[i] != -100) == (e.labels[i - 1] != -100));
      pieces += e.labels[i] != -100;
    }
  }
  CHECK(pieces > 100);  // the check above really ran on selected words
}

TEST_CASE("the same seed gives the same examples; another seed other ones") {
  TempDir t("det");
  write_file(t / "w.raw", test_train::wikitext_head(60000));
  PretrainDataOptions o;
  o.seed = 3;
  o.max_seq_length = 64;
  const auto a = take({t / "w.raw"}, o, 300), b = take({t / "w.raw"}, o, 300);
  REQUIRE(a.size() == 300);
  for (size_t i = 0; i < a.size(); ++i) CHECK(same(a[i], b[i]));
  o.seed = 4;
  const auto c = take({t / "w.raw"}, o, 300);
  int differ = 0;
  for (size_t i = 0; i < a.size(); ++i) differ += !same(a[i], c[i]);
  CHECK(differ > 250);
}

TEST_CASE("a restored data position continues with exactly the examples an uninterrupted stream gives") {
  TempDir t("restore");
  write_file(t / "w.raw", test_train::wikitext_head(60000));
  write_file(t / "s.txt", "One a.\nOne b.\nOne c.\n\nTwo a.\nTwo b.\n\nThree a.\nThree b.\nThree c.\nThree d.\n");
  PretrainDataOptions o;
  o.max_seq_length = 48;
  o.shuffle_buffer = 50;
  o.window_docs = 4;  // a small window, so that documents leave it
  SUBCASE("mid-pass, with a held-out split") {
    o.split = PretrainDataOptions::Split::Train;
    o.holdout_every = 3;
  }
  SUBCASE("across passes over a tiny corpus") { o.seed = 99; }
  const std::string file = o.split == PretrainDataOptions::Split::Train ? t / "w.raw" : t / "s.txt";
  ExampleStream s({file}, test_train::tokenizer(), o);
  s.take(237);
  const nlohmann::json pos = s.state();
  const auto rest = s.take(400);
  ExampleStream s2({file}, test_train::tokenizer(), o);
  s2.restore(nlohmann::json::parse(pos.dump()));  // through text, as in a checkpoint
  const auto again = s2.take(400);
  REQUIRE(again.size() == rest.size());
  for (size_t i = 0; i < rest.size(); ++i) CHECK(same(rest[i], again[i]));
  if (o.split != PretrainDataOptions::Split::Train) CHECK(again.back().epoch > 0);
}

TEST_CASE("a bad saved data position names the file and the key, never nlohmann's own text") {
  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    } catch (const std::exception& e) {
      return std::string("not a bertlab::Error: ") + e.what();
    }
    return "no error";
  };
  using nlohmann::json;
  CHECK(CorpusPosition::from_json(json::array({1, 20, 3}), "f").offset == 20);
  // a string where a number belongs used to throw nlohmann's "[json.exception.type_error.302]"
  CHECK(message([] { CorpusPosition::from_json(json::array({0, "x", 3}), "ckpt/trainer_state.json: extra.data.start"); }) ==
        "ckpt/trainer_state.json: extra.data.start: invalid corpus position [0,\"x\",3] (expected [file, offset, "
        "ordinal], three non-negative integers)");
  // a negative byte offset used to wrap to 2^64 - 1
  CHECK(message([] { CorpusPosition::from_json(json::array({0, -5, 3})); }).find("the saved data position: invalid corpus position [0,-5,3]") == 0);

  TempDir t("badpos");
  write_file(t / "s.txt", "One a.\nOne b.\n\nTwo a.\nTwo b.\n\nThree a.\nThree b.\n");
  PretrainDataOptions o;
  o.max_seq_length = 32;
  ExampleStream s({t / "s.txt"}, test_train::tokenizer(), o);
  s.take(3);
  const json good = s.state();
  json bad = good;
  bad.erase("block");
  CHECK(message([&] { ExampleStream(std::vector<std::string>{t / "s.txt"}, test_train::tokenizer(), o).restore(bad, "c/trainer_state.json: extra.data"); }) ==
        "c/trainer_state.json: extra.data: key \"block\" is missing");
  bad = good;
  bad["block_start"]["epoch"] = "zero";
  CHECK(message([&] { ExampleStream(std::vector<std::string>{t / "s.txt"}, test_train::tokenizer(), o).restore(bad, "c/t.json: extra.data"); }) ==
        "c/t.json: extra.data.block_start: key \"epoch\" must be a 64-bit integer, got \"zero\"");
  bad = good;
  bad["served"] = -1;  // get<size_t> used to wrap this to 2^64 - 1
  CHECK(message([&] { ExampleStream(std::vector<std::string>{t / "s.txt"}, test_train::tokenizer(), o).restore(bad, "c/t.json: extra.data"); }) ==
        "c/t.json: extra.data: key \"served\" must be a non-negative integer, got -1");
}

TEST_CASE("a bad trainer_state.json names the file and the key") {
  auto message = [](const nlohmann::json& j) -> std::string {
    try {
      train::TrainerState::from_json(j, "run/checkpoint-4/trainer_state.json");
    } catch (const Error& e) {
      return e.what();
    } catch (const std::exception& e) {
      return std::string("not a bertlab::Error: ") + e.what();
    }
    return "no error";
  };
  train::TrainerState st;
  st.step = 4;
  st.best_checkpoint = "run/checkpoint-2";
  const nlohmann::json good = st.to_json();
  CHECK(train::TrainerState::from_json(good, "x").best_checkpoint == "run/checkpoint-2");
  nlohmann::json j = good;
  j.erase("rng_seed");
  CHECK(message(j) == "run/checkpoint-4/trainer_state.json: key \"rng_seed\" is missing");
  j = good;
  j["step"] = "four";
  CHECK(message(j) == "run/checkpoint-4/trainer_state.json: key \"step\" must be a 64-bit integer, got \"four\"");
  j = good;
  j["best_checkpoint"] = 7;
  CHECK(message(j) == "run/checkpoint-4/trainer_state.json: key \"best_checkpoint\" must be a string, got 7");
  j = good;
  j["schedule_step"] = -2;
  CHECK(message(j) == "run/checkpoint-4/trainer_state.json: key \"schedule_step\" is -2, expected >= 0");
  j = good;
  j["best_metric"] = nullptr;  // what nlohmann writes for a NaN
  CHECK(message(j) == "no error");
}

// Found by the fuzzer (tests/fuzz/corpus_trainer_state/crash-cur-negative): a data position with
// "cur" below -1 indexed before the start of the document buffer (a segfault on --resume).
TEST_CASE("a damaged data position is refused with a message, not a crash") {
  TempDir t("restore_bad");
  write_file(t / "s.txt", "One a.\nOne b.\n\nTwo a.\nTwo b.\n\nThree a.\nThree b.\n");
  PretrainDataOptions o;
  o.max_seq_length = 16;
  o.shuffle_buffer = 4;
  ExampleStream s({t / "s.txt"}, test_train::tokenizer(), o);
  s.take(3);
  nlohmann::json pos = s.state();
  pos["block_start"]["cur"] = -3;
  ExampleStream s2({t / "s.txt"}, test_train::tokenizer(), o);
  CHECK_THROWS_WITH_AS(s2.restore(pos), doctest::Contains("saved data position is inconsistent (cur -3)"), Error);
}

TEST_CASE("the held-out split reads every N-th document, the training split never touches it") {
  PretrainDataOptions o;
  o.holdout_every = 5;
  o.split = PretrainDataOptions::Split::Train;
  o.loop = false;
  std::set<int64_t> train_docs;
  for (const auto& e : take({test_train::wikitext_path()}, o, 100000)) {
    CHECK(e.doc % 5 != 4);
    CHECK(e.b_doc % 5 != 4);
    train_docs.insert(e.doc);
  }
  o.split = PretrainDataOptions::Split::HeldOut;
  std::set<int64_t> held;
  for (const auto& e : take({test_train::wikitext_path()}, o, 100000)) {
    CHECK(e.doc % 5 == 4);
    CHECK(e.b_doc % 5 == 4);
    held.insert(e.doc);
  }
  CHECK(held.size() >= 10);
  CHECK(train_docs.size() >= 40);
}

TEST_CASE("collate pads to the longest example and lists the masked positions") {
  Example a, b;
  a.input_ids = {101, 5, 103, 102, 7, 102};
  a.token_type_ids = {0, 0, 0, 0, 1, 1};
  a.labels = {-100, -100, 42, -100, -100, -100};
  a.next_sentence_label = 1;
  b.input_ids = {101, 5, 102, 7};
  b.token_type_ids = {0, 0, 0, 1};
  b.labels = {-100, 9, -100, -100};
  PretrainBatch p = collate({a, b}, 0);
  CHECK(p.input_ids.shape() == Shape{2, 6});
  CHECK(p.input_ids.tolist<int64_t>() == std::vector<int64_t>{101, 5, 103, 102, 7, 102, 101, 5, 102, 7, 0, 0});
  CHECK(p.attention_mask.tolist<int64_t>() == std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0});
  CHECK(p.labels.tolist<int64_t>()[10] == -100);
  CHECK(p.masked_positions.tolist<int64_t>() == std::vector<int64_t>{2, 7});
  CHECK(p.masked_labels.tolist<int64_t>() == std::vector<int64_t>{42, 9});
  CHECK(p.next_sentence_label.tolist<int64_t>() == std::vector<int64_t>{1, 0});
  CHECK(p.tokens == 10);
  CHECK(p.masked == 2);
}
