// tests/tasks/test_readers.cpp — the data readers of bert/tasks: classification files (TSV,
// CSV with RFC 4180 quoting, JSON lines), label maps, CoNLL column files (IOB1/IOB2,
// whitespace-only lines, -DOCSTART-, WikiANN prefixes) and SQuAD v1.1 JSON, with their bad inputs.
#include <doctest/doctest.h>

#include "bert/tasks/classify.h"
#include "bert/tasks/ner.h"
#include "bert/tasks/qa.h"
#include "tests/tasks/tiny.h"

using namespace bertlab;
using namespace bertlab::tasks;
using testing::TempDir;
using testing::write_text;

TEST_CASE("SST-2 TSV reads as is: header sentence/label, 48 examples") {
  ClassifyData d = read_classify("tests/data/tasks/sst2_train.tsv");
  CHECK(d.examples.size() == 48);
  CHECK(d.text_column == "sentence");
  CHECK(d.examples[0].text == "hide new secretions from the parental units ");
  CHECK(d.examples[0].label == "0");
  CHECK(d.examples[0].line == 2);
  CHECK_FALSE(d.examples[0].pair.has_value());
}

TEST_CASE("TSV without a header: text first, label last, pair in the middle") {
  TempDir t("tsv");
  write_text(t / "a.tsv", "good film\t1\nbad film\t0\r\n\n");
  ClassifyData d = read_classify(t / "a.tsv");
  REQUIRE(d.examples.size() == 2);
  CHECK(d.examples[1].text == "bad film");
  CHECK(d.examples[1].label == "0");
  write_text(t / "b.tsv", "a man sleeps\ta person rests\tentailment\n");
  ClassifyData p = read_classify(t / "b.tsv");
  CHECK(p.examples[0].pair.value() == "a person rests");
  CHECK(p.examples[0].label == "entailment");
}

TEST_CASE("CSV with RFC 4180 quoting: commas, doubled quotes and newlines inside quotes") {
  TempDir t("csv");
  write_text(t / "a.csv",
             "id,text,label\r\n"
             "1,\"Hello, world\",pos\r\n"
             "2,\"She said \"\"no\"\"\",neg\r\n"
             "3,\"two\nlines\",pos\r\n"
             "4,plain,neg");
  ClassifyData d = read_classify(t / "a.csv");
  REQUIRE(d.examples.size() == 4);
  CHECK(d.examples[0].text == "Hello, world");
  CHECK(d.examples[1].text == "She said \"no\"");
  CHECK(d.examples[2].text == "two\nlines");
  CHECK(d.examples[3].text == "plain");
  CHECK(d.examples[3].line == 6);  // the quoted newline counts
  ClassifyColumns cols;
  cols.text = "1";
  CHECK(read_classify(t / "a.csv", cols).examples[0].text == "Hello, world");
}

TEST_CASE("malformed CSV names file and line") {
  TempDir t("badcsv");
  write_text(t / "open.csv", "text,label\n\"never closed,1\n");
  CHECK_THROWS_WITH_AS(read_classify(t / "open.csv"), doctest::Contains("open.csv:2: malformed CSV: a quoted field is never closed"), Error);
  write_text(t / "after.csv", "text,label\n\"quoted\"x,1\n");
  CHECK_THROWS_WITH_AS(read_classify(t / "after.csv"), doctest::Contains("after.csv:2: malformed CSV: text after a closing quote"), Error);
  write_text(t / "cols.csv", "text,label\nfine,1\ntoo,many,fields\n");
  CHECK_THROWS_WITH_AS(read_classify(t / "cols.csv"), doctest::Contains("cols.csv:3: expected 2 columns, found 3"), Error);
}

TEST_CASE("JSON lines: named fields, integer labels, pairs; bad lines name file:line") {
  TempDir t("jsonl");
  write_text(t / "a.jsonl",
             "{\"premise\": \"A dog runs.\", \"hypothesis\": \"An animal moves.\", \"label\": 0}\n"
             "\n"
             "{\"premise\": \"A cat sleeps.\", \"hypothesis\": \"A cat runs.\", \"label\": \"contradiction\"}\n");
  ClassifyData d = read_classify(t / "a.jsonl");
  REQUIRE(d.examples.size() == 2);
  CHECK(d.examples[0].text == "A dog runs.");
  CHECK(d.examples[0].pair.value() == "An animal moves.");
  CHECK(d.examples[0].label == "0");
  CHECK(d.examples[1].label == "contradiction");
  CHECK(d.examples[1].line == 3);
  write_text(t / "bad.jsonl", "{\"text\": \"ok\", \"label\": 1}\n{\"text\": \"broken\", \n");
  CHECK_THROWS_WITH_AS(read_classify(t / "bad.jsonl"), doctest::Contains("bad.jsonl:2: invalid JSON"), Error);
  write_text(t / "nolabel.jsonl", "{\"text\": \"ok\"}\n");
  CHECK_THROWS_WITH_AS(read_classify(t / "nolabel.jsonl"), doctest::Contains("no 'label' field"), Error);
  CHECK(read_classify(t / "nolabel.jsonl", {}, /*require_labels=*/false).examples.size() == 1);
}

TEST_CASE("missing, empty and header-only files are clear errors") {
  TempDir t("empty");
  CHECK_THROWS_WITH_AS(read_classify(t / "nope.tsv"), doctest::Contains("nope.tsv"), Error);
  write_text(t / "empty.tsv", "");
  CHECK_THROWS_WITH_AS(read_classify(t / "empty.tsv"), doctest::Contains("empty.tsv: no examples"), Error);
  write_text(t / "header.tsv", "sentence\tlabel\n");
  CHECK_THROWS_WITH_AS(read_classify(t / "header.tsv"), doctest::Contains("header.tsv: no examples"), Error);
  write_text(t / "empty.conll", "\n\t\n");
  CHECK_THROWS_WITH_AS(read_conll(t / "empty.conll"), doctest::Contains("empty.conll: no sentences"), Error);
  CHECK_THROWS_WITH_AS(read_squad(t / "missing.json"), doctest::Contains("missing.json"), Error);
}

TEST_CASE("label maps: sorted numerically, renamed, and an unknown label names file:line") {
  LabelMap m = LabelMap::build({"10", "2", "1", "2"});
  CHECK(m.names == std::vector<std::string>{"1", "2", "10"});
  LabelMap s = LabelMap::build({"pos", "neg", "neutral"});
  CHECK(s.names == std::vector<std::string>{"neg", "neutral", "pos"});
  LabelMap r = LabelMap::build({"1", "0", "1"}, {"negative", "positive"});
  CHECK(r.names == std::vector<std::string>{"negative", "positive"});
  CHECK(r.id_of("positive", "x") == 1);
  CHECK(r.id_of("1", "x") == 1);  // an integer id against named labels
  CHECK_THROWS_WITH_AS(r.id_of("2", "dev.tsv:7"), doctest::Contains("dev.tsv:7: label '2' is not in the label map (known: negative, positive)"), Error);
  CHECK_THROWS_WITH_AS(s.id_of("mixed", "f:3"), doctest::Contains("f:3: label 'mixed' is not in the label map"), Error);
  CHECK_THROWS_WITH_AS(LabelMap::build({"pos", "neg"}, {"a", "b"}), doctest::Contains("renames integer labels"), Error);
  CHECK_THROWS_WITH_AS(LabelMap::build({"0", "1", "2"}, {"a", "b"}), doctest::Contains("data has label 2"), Error);
}

TEST_CASE("label maps: negative and long integer labels, a mix of integers and names, and the map described") {
  // as run_glue: the sorted labels get ids 0..n-1, so -1, 0 become 0, 1; describe() says so
  LabelMap neg = LabelMap::build({"0", "-1", "0", "-2"});
  CHECK(neg.names == std::vector<std::string>{"-2", "-1", "0"});
  CHECK(neg.describe() == "-2 -> 0, -1 -> 1, 0 -> 2");
  CHECK(!neg.is_identity());
  CHECK(LabelMap::build({"1", "0"}).is_identity());
  // "1" is no label of {-1, 0}; it used to be taken as id 1 (label 0)
  CHECK_THROWS_WITH_AS(LabelMap::build({"-1", "0"}).id_of("1", "dev.tsv:2"), doctest::Contains("dev.tsv:2: label '1' is not in the label map (known: -1, 0)"), Error);
  // a digit string past int64 used to throw a bare std::out_of_range
  const std::string huge = "123456789012345678901234567890";
  LabelMap big = LabelMap::build({huge, "7"});
  CHECK(big.names == std::vector<std::string>{"7", huge});
  CHECK_THROWS_WITH_AS(LabelMap::build({huge, "0"}, {"a", "b"}), doctest::Contains(("but the data has label " + huge).c_str()), Error);
  CHECK_THROWS_WITH_AS(LabelMap::from_names({"a", "b"}).id_of(huge, "d.tsv:3"), doctest::Contains(("d.tsv:3: label '" + huge + "' is not in the label map").c_str()), Error);
  // 0, 1, positive used to become three classes
  TempDir t("labels");
  write_text(t / "mixed.tsv", "sentence\tlabel\ngood\t1\nbad\t0\nfine\tpositive\nok\t1\n");
  CHECK_THROWS_WITH_AS(LabelMap::build(read_classify(t / "mixed.tsv")),
                       doctest::Contains(("mixed.tsv:4: label 'positive' is a name, but label '1' (" + (t / "mixed.tsv") +
                                          ":2) is an integer: the labels must be all integers or all names").c_str()),
                       Error);
  CHECK_THROWS_WITH_AS(LabelMap::build({"neg", "pos", "2"}), doctest::Contains("label '2' is an integer, but label 'neg' is a name"), Error);
  // a JSON label above 2^63 - 1 used to wrap to a negative number
  write_text(t / "big.jsonl", "{\"text\": \"a\", \"label\": 18446744073709551615}\n");
  CHECK(read_classify(t / "big.jsonl").examples[0].label == "18446744073709551615");
  // a column number past int used to throw a bare std::out_of_range from std::stoi
  ClassifyColumns cols;
  cols.text = "99999999999";
  CHECK_THROWS_WITH_AS(read_classify(t / "mixed.tsv", cols), doctest::Contains("text column 99999999999 does not exist"), Error);
}

TEST_CASE("CoNLL: IOB1 becomes IOB2, -DOCSTART- skipped, whitespace-only lines end sentences") {
  TempDir t("conll");
  write_text(t / "iob1.txt",
             "-DOCSTART- -X- -X- O\n\n"
             "John NNP I-NP I-PER\n"
             "Smith NNP I-NP I-PER\n"
             "visited VBD I-VP O\n"
             "Paris NNP I-NP I-LOC\n"
             "and CC O O\n"
             "Berlin NNP I-NP I-LOC\n"
             "Lyon NNP I-NP B-LOC\n"
             " \t \n"
             "Acme NNP I-NP I-ORG\n");
  NerData d = read_conll(t / "iob1.txt");
  REQUIRE(d.sentences.size() == 2);
  CHECK(d.sentences[0].words == std::vector<std::string>{"John", "Smith", "visited", "Paris", "and", "Berlin", "Lyon"});
  CHECK(d.sentences[0].tags == std::vector<std::string>{"B-PER", "I-PER", "O", "B-LOC", "O", "B-LOC", "B-LOC"});
  CHECK(d.sentences[0].line == 3);
  CHECK(d.sentences[1].tags == std::vector<std::string>{"B-ORG"});
  CHECK(d.iob1_fixed == 4);
  // IOB2 stays as it is
  std::vector<std::string> iob2 = {"B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC"};
  auto copy = iob2;
  CHECK(iob1_to_iob2(copy) == 0);
  CHECK(copy == iob2);
}

TEST_CASE("WNUT-17 snippet: tab-only separator lines and dashed types") {
  NerData d = read_conll("tests/data/tasks/wnut_train.conll");
  CHECK(d.sentences.size() == 30);
  CHECK(d.iob1_fixed == 0);
  std::vector<std::string> labels = ner_label_list(d);
  CHECK(std::find(labels.begin(), labels.end(), "B-creative-work") != labels.end());
  CHECK(std::is_sorted(labels.begin(), labels.end()));
}

TEST_CASE("WikiANN prefixes: stripped when every token has one, kept on request") {
  TempDir t("wikiann");
  write_text(t / "train", "en:R.H.\tB-ORG\nen:Saunders\tI-ORG\nen:(\tO\n\nen:Paris\tB-LOC\nen::\tO\n");
  NerData d = read_conll(t / "train");
  CHECK(d.stripped_prefix == "en:");
  CHECK(d.sentences[0].words == std::vector<std::string>{"R.H.", "Saunders", "("});
  CHECK(d.sentences[1].words[1] == ":");
  CHECK(read_conll(t / "train", LangPrefix::Keep).sentences[0].words[0] == "en:R.H.");
  write_text(t / "mixed", "en:Paris\tB-LOC\nfoo:bar\tO\nRome\tB-LOC\n");
  CHECK(read_conll(t / "mixed").sentences[0].words[0] == "en:Paris");  // not every token: kept
  CHECK(read_conll(t / "mixed", LangPrefix::Strip).sentences[0].words == std::vector<std::string>{"Paris", "bar", "Rome"});
}

TEST_CASE("malformed CoNLL lines name file:line") {
  TempDir t("badconll");
  write_text(t / "one.conll", "John B-PER\nSmith\n");
  CHECK_THROWS_WITH_AS(read_conll(t / "one.conll"), doctest::Contains("one.conll:2: expected a token and a tag"), Error);
  write_text(t / "tag.conll", "John B-PER\nSmith PER\n");
  CHECK_THROWS_WITH_AS(read_conll(t / "tag.conll"), doctest::Contains("tag.conll:2: tag 'PER' is not O, B-TYPE or I-TYPE"), Error);
}

TEST_CASE("SQuAD v1.1: examples, answers in code points, and bad files") {
  std::vector<SquadExample> ex = read_squad("tests/data/tasks/squad_tiny.json");
  REQUIRE(ex.size() == 6);
  CHECK(ex[0].id == "56be4db0acb8001400a502ec");
  CHECK(ex[0].title == "Super_Bowl_50");
  CHECK(ex[0].answers.size() == 3);
  for (auto& e : ex)
    for (auto& a : e.answers) CHECK(substr_cp(e.context, a.start, a.start + length_cp(a.text)) == a.text);
  CHECK(squad_gold(ex).at("56be4db0acb8001400a502ee").size() == 3);

  TempDir t("squad");
  write_text(t / "notjson.json", "{\"data\": [");
  CHECK_THROWS_WITH_AS(read_squad(t / "notjson.json"), doctest::Contains("notjson.json: invalid JSON"), Error);
  write_text(t / "nodata.json", "{\"version\": \"1.1\"}");
  CHECK_THROWS_WITH_AS(read_squad(t / "nodata.json"), doctest::Contains("expected an object with a \"data\" array"), Error);
  write_text(t / "noq.json", R"({"data": [{"paragraphs": [{"context": "abc", "qas": [{"id": "x", "answers": []}]}]}]})");
  CHECK_THROWS_WITH_AS(read_squad(t / "noq.json"), doctest::Contains("question x: missing or non-string \"question\""), Error);
  write_text(t / "far.json",
             R"({"data": [{"paragraphs": [{"context": "café", "qas": [{"id": "y", "question": "q", "answers": [{"text": "fé!", "answer_start": 2}]}]}]}]})");
  CHECK_THROWS_WITH_AS(read_squad(t / "far.json"), doctest::Contains("question y: answer_start 2 + 3 characters lies outside its context (4 characters)"), Error);
  write_text(t / "empty.json", R"({"data": []})");
  CHECK_THROWS_WITH_AS(read_squad(t / "empty.json"), doctest::Contains("empty.json: no questions"), Error);
  // answer_start + length used to overflow and wrap below the context's length
  write_text(t / "huge.json",
             R"({"data": [{"paragraphs": [{"context": "abc", "qas": [{"id": "z", "question": "q", "answers": [{"text": "ab", "answer_start": 9223372036854775807}]}]}]}]})");
  CHECK_THROWS_WITH_AS(read_squad(t / "huge.json"), doctest::Contains("huge.json: question z: answer_start 9223372036854775807 + 2 characters lies outside its context (3 characters)"), Error);
  // above 2^63 - 1: used to be reported as answer_start -1
  write_text(t / "wrap.json",
             R"({"data": [{"paragraphs": [{"context": "abc", "qas": [{"id": "w", "question": "q", "answers": [{"text": "ab", "answer_start": 18446744073709551615}]}]}]}]})");
  CHECK_THROWS_WITH_AS(read_squad(t / "wrap.json"), doctest::Contains("question w: answer_start 18446744073709551615 + 2"), Error);
  write_text(t / "neg.json",
             R"({"data": [{"paragraphs": [{"context": "abc", "qas": [{"id": "n", "question": "q", "answers": [{"text": "ab", "answer_start": -1}]}]}]}]})");
  CHECK_THROWS_WITH_AS(read_squad(t / "neg.json"), doctest::Contains("question n: answer_start -1 + 2"), Error);
  // and the JSON error without nlohmann's "[json.exception.parse_error.101]"
  try {
    read_squad(t / "notjson.json");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("[json.exception") == std::string::npos);
  }
}
