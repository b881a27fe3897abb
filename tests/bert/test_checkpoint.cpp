// tests/bert/test_checkpoint.cpp — from_pretrained / save_pretrained beyond the happy path:
// prefixes, legacy names, tied weights, new heads, mismatches, atomic saves, bad configs.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "bert/checkpoint.h"
#include "bert/io.h"
#include "bert/safetensors.h"
#include "ops/ops.h"
#include "tokenizer/tokenizer_json.h"

using namespace bertlab;
using namespace bertlab::bert;
namespace fs = std::filesystem;

namespace {
const std::string kRoot = "tests/data/bert_parity/";

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("bertlab_ckpt_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

bool same_values(const Tensor& a, const Tensor& b) { return a.tolist<double>() == b.tolist<double>(); }

std::map<std::string, Tensor> params_of(const nn::Module& m) {
  std::map<std::string, Tensor> out;
  for (auto& [n, t] : m.named_parameters()) out[n] = t;
  return out;
}
}  // namespace

TEST_CASE("a BertModel checkpoint loads into a head model: only the new head is initialised") {
  LoadInfo info;
  auto m = bert_from_pretrained(kRoot + "BertModel", Task::SequenceClassification, &info, 4, 0, /*new_head=*/true);
  CHECK(info.newly_initialized == std::vector<std::string>{"classifier.weight", "classifier.bias"});
  CHECK(info.unused.empty());
  safetensors::File f(kRoot + "BertModel/model.safetensors");
  CHECK(same_values(m->bert->embeddings->word_embeddings->weight, f.load("embeddings.word_embeddings.weight")));
  CHECK(params_of(*m).at("classifier.weight").shape() == Shape{4, 32});
}

TEST_CASE("a head checkpoint loads into the bare BertModel: the head's keys are reported unused") {
  LoadInfo info;
  auto m = bert_model_from_pretrained(kRoot + "BertForPreTraining", &info);
  CHECK(info.newly_initialized.empty());
  CHECK(info.unused.size() == 7);  // cls.predictions.{bias, transform.*} and cls.seq_relationship.*
  for (auto& k : info.unused) CHECK(k.rfind("cls.", 0) == 0);
}

TEST_CASE("the tied MLM decoder may be absent from the file and follows the embeddings") {
  safetensors::File f(kRoot + "BertForPreTraining/model.safetensors");
  CHECK_FALSE(f.contains("cls.predictions.decoder.weight"));
  auto m = std::dynamic_pointer_cast<BertForPreTraining>(from_pretrained(kRoot + "BertForPreTraining", Task::PreTraining));
  REQUIRE(m);
  CHECK(m->predictions->weight.impl() == m->bert->embeddings->word_embeddings->weight.impl());
  CHECK(m->predictions->bias.impl() == params_of(*m).at("cls.predictions.bias").impl());
}

TEST_CASE("legacy LayerNorm.gamma / beta names and files without the bert. prefix load") {
  TempDir tmp;
  auto src = from_pretrained(kRoot + "BertForSequenceClassification", Task::SequenceClassification);
  nn::NamedTensors renamed;
  for (auto& [n, t] : src->state_dict()) {
    std::string k = n.rfind("bert.", 0) == 0 ? n.substr(5) : n;  // drop the prefix
    for (auto [from, to] : {std::pair{"LayerNorm.weight", "LayerNorm.gamma"}, std::pair{"LayerNorm.bias", "LayerNorm.beta"}})
      if (k.size() > std::string(from).size() && k.compare(k.size() - std::string(from).size(), std::string::npos, from) == 0)
        k = k.substr(0, k.size() - std::string(from).size()) + to;
    renamed.emplace_back(k, t);
  }
  fs::copy(kRoot + "BertForSequenceClassification/config.json", tmp.path / "config.json");
  safetensors::save((tmp.path / "model.safetensors").string(), renamed, {{"format", "pt"}});
  LoadInfo info;
  auto m = from_pretrained(tmp.path.string(), Task::SequenceClassification, &info);
  CHECK_MESSAGE(info.newly_initialized.empty(), info.summary());
  CHECK_MESSAGE(info.unused.empty(), info.summary());
  auto a = params_of(*src), b = params_of(*m);
  REQUIRE(!a.empty());
  CHECK(a.size() == b.size());
  for (auto& [n, t] : a) CHECK_MESSAGE(same_values(t, b.at(n)), n);
}

TEST_CASE("a shape mismatch names the key and both shapes") {
  // the checkpoint's classifier has 3 labels; asking for 5 gives a (5, 32) classifier
  CHECK_THROWS_WITH_AS(from_pretrained(kRoot + "BertForSequenceClassification", Task::SequenceClassification, nullptr, 5),
                       doctest::Contains("\"classifier.bias\" has shape [3] but the model's classifier.bias is [5]"),
                       Error);
}

TEST_CASE("save_pretrained then from_pretrained gives the same model; the folder appears whole") {
  TempDir tmp;
  auto src = from_pretrained(kRoot + "BertForPreTraining", Task::PreTraining);
  std::string dir = (tmp.path / "saved").string();
  save_pretrained(*src, dir, {"data/vocab/bert-base-uncased-vocab.txt", true, 512});
  for (auto& e : fs::directory_iterator(tmp.path)) CHECK(e.path().filename() == "saved");  // no temporary left
  CHECK(file_exists(dir + "/vocab.txt"));
  CHECK(file_exists(dir + "/tokenizer_config.json"));
  safetensors::File f(dir + "/model.safetensors");
  CHECK(f.metadata().at("format") == "pt");
  CHECK_FALSE(f.contains("cls.predictions.decoder.weight"));  // tied: left out, as transformers does
  CHECK(saved_architecture(dir) == "BertForPreTraining");
  auto back = from_pretrained(dir, Task::PreTraining);
  auto a = params_of(*src), b = params_of(*back);
  REQUIRE(a.size() == b.size());
  REQUIRE(!a.empty());
  CHECK(a.size() == b.size());
  for (auto& [n, t] : a) CHECK_MESSAGE(same_values(t, b.at(n)), n);
  // saving again over an existing folder replaces the files
  save_pretrained(*back, dir);
  CHECK(from_pretrained(dir, Task::PreTraining)->num_parameters() == src->num_parameters());
}

TEST_CASE("save_pretrained writes vocab.txt and tokenizer.json that tokenize alike; either one alone loads") {
  // transformers 4 reads vocab.txt (or tokenizer.json), transformers 5 only tokenizer.json
  TempDir tmp;
  auto src = from_pretrained(kRoot + "BertForPreTraining", Task::PreTraining);
  const fs::path dir = tmp.path / "saved";
  TokenizerFiles tok;
  tok.vocab_file = "data/vocab/bert-base-cased-vocab.txt";
  tok.do_lower_case = false;
  tok.strip_accents = true;  // options other than the defaults must survive both files
  tok.tokenize_chinese_chars = false;
  tok.model_max_length = 128;
  tok.additional_special_tokens = {"[unused1]"};
  save_pretrained(*src, dir.string(), tok);
  REQUIRE(fs::exists(dir / "tokenizer.json"));
  const auto tj = tokenizer::load_tokenizer_json(dir / "tokenizer.json");
  CHECK_FALSE(tj.options.do_lower_case);
  CHECK(tj.options.strip_accents == true);
  CHECK_FALSE(tj.options.tokenize_chinese_chars);
  CHECK(tj.vocab.size() == 28996);
  const std::string text = "Café Crème 中文字 naïve [MASK] résumé x[unused1]y";
  const auto ids = tokenizer::BertTokenizer::from_pretrained(dir).encode(text).ids;

  fs::rename(dir / "tokenizer.json", tmp.path / "tokenizer.json");  // vocab.txt alone
  const auto from_txt = tokenizer::BertTokenizer::from_pretrained(dir);
  CHECK(from_txt.options().strip_accents == true);
  CHECK_FALSE(from_txt.options().tokenize_chinese_chars);
  CHECK(from_txt.options().model_max_length == 128);
  CHECK(from_txt.encode(text).ids == ids);
  CHECK(from_txt.tokenize("x[unused1]y") == std::vector<std::string>{"x", "[unused1]", "y"});

  fs::rename(tmp.path / "tokenizer.json", dir / "tokenizer.json");  // tokenizer.json alone
  fs::remove(dir / "vocab.txt");
  const auto from_json = tokenizer::BertTokenizer::from_pretrained(dir);
  CHECK(from_json.encode(text).ids == ids);
  CHECK(from_json.options().model_max_length == 128);
  CHECK(from_json.tokenize("x[unused1]y") == std::vector<std::string>{"x", "[unused1]", "y"});
  tokenizer::TokenizerOptions plain;  // and the options matter for this text
  plain.do_lower_case = false;
  CHECK(tokenizer::BertTokenizer(from_json.vocab(), plain).encode(text).ids != ids);
}

TEST_CASE("config.json round trip keeps unknown keys; bad configs name the key") {
  BertConfig c = BertConfig::load(kRoot + "BertForPreTraining/config.json");
  CHECK(c.hidden_size == 32);
  CHECK(c.extra.contains("transformers_version"));
  BertConfig back = BertConfig::from_json(c.to_json());
  CHECK(back.to_json() == c.to_json());
  nlohmann::json j = c.to_json();
  j["hidden_size"] = "big";
  CHECK_THROWS_WITH_AS(BertConfig::from_json(j, "x/config.json"), doctest::Contains("x/config.json: key \"hidden_size\" must be an integer"), Error);
  j = c.to_json();
  j["num_attention_heads"] = 5;
  CHECK_THROWS_WITH_AS(BertConfig::from_json(j), doctest::Contains("not a multiple of num_attention_heads 5"), Error);
  j = c.to_json();
  j["id2label"] = {{"0", "neg"}, {"2", "pos"}};
  CHECK_THROWS_WITH_AS(BertConfig::from_json(j), doctest::Contains("id2label"), Error);
  j = c.to_json();
  j["model_type"] = "gpt2";
  CHECK_THROWS_WITH_AS(BertConfig::from_json(j), doctest::Contains("expected \"bert\""), Error);
}

TEST_CASE("config sizes have upper bounds: a vocab_size that overflows the parameter count is refused") {
  nlohmann::json j = {{"vocab_size", 4611686018427387904LL}, {"hidden_size", 4}, {"num_attention_heads", 1}};
  // 2^62 x 4 used to wrap to 0, and the model was reported with 204 parameters
  CHECK_THROWS_WITH_AS(BertConfig::from_json(j, "x/config.json"),
                       doctest::Contains("x/config.json: config: vocab_size is 4611686018427387904, more than the limit 16777216"), Error);
  struct Case {
    const char* key;
    int64_t value;
    const char* limit;
  };
  for (Case k : {Case{"hidden_size", 1 << 20, "65536"}, Case{"num_hidden_layers", 5000, "1024"},
                 Case{"intermediate_size", 1 << 30, "262144"}, Case{"max_position_embeddings", int64_t(1) << 40, "1048576"},
                 Case{"type_vocab_size", 1 << 20, "65536"}, Case{"num_attention_heads", 1024, "768"}}) {
    CAPTURE(k.key);
    nlohmann::json c = BertConfig().to_json();
    c[k.key] = k.value;
    CHECK_THROWS_WITH_AS(BertConfig::from_json(c), doctest::Contains((std::string(k.key) + " is " + std::to_string(k.value) + ", more than the limit " + k.limit).c_str()), Error);
  }
  // each field within its bound, but together too many parameters
  nlohmann::json huge = BertConfig().to_json();
  huge["vocab_size"] = 1 << 24;
  huge["hidden_size"] = 1 << 16;
  huge["num_attention_heads"] = 1;
  CHECK_THROWS_WITH_AS(BertConfig::from_json(huge), doctest::Contains("parameters, more than the limit 1099511627776"), Error);
  // an unsigned above 2^63 - 1 used to wrap to a negative number ("must be positive, got -1")
  nlohmann::json u = BertConfig().to_json();
  u["vocab_size"] = 18446744073709551615ULL;
  CHECK_THROWS_WITH_AS(BertConfig::from_json(u), doctest::Contains("key \"vocab_size\" is 18446744073709551615, too large for a 64-bit integer"), Error);
  BertConfig c;
  CHECK_THROWS_WITH_AS(c.set_num_labels(int64_t(1) << 40), doctest::Contains("num_labels is 1099511627776, more than the limit 1048576"), Error);
  // bert-large is well inside every bound
  CHECK_NOTHROW(BertConfig::preset("bert-large").validate());
}

TEST_CASE("config range checks fail on NaN and infinity, naming the key") {
  const double nan = std::nan(""), inf = HUGE_VAL;
  for (const char* key : {"hidden_dropout_prob", "attention_probs_dropout_prob"})
    for (double v : {nan, 1.0, -0.1}) {
      CAPTURE(key);
      CAPTURE(v);
      nlohmann::json j = BertConfig().to_json();
      j[key] = v;
      CHECK_THROWS_WITH_AS(BertConfig::from_json(j), doctest::Contains((std::string(key) + " is ").c_str()), Error);
    }
  BertConfig c;
  c.classifier_dropout = nan;
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("classifier_dropout is nan, outside [0, 1)"), Error);
  c = BertConfig();
  c.layer_norm_eps = nan;
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("layer_norm_eps is nan"), Error);
  c.layer_norm_eps = inf;
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("layer_norm_eps is inf"), Error);
  c = BertConfig();
  c.initializer_range = nan;
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("initializer_range is nan"), Error);
  c.initializer_range = -1;
  CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("initializer_range is -1"), Error);
}

TEST_CASE("config.json's dtype (transformers 5) and torch_dtype (4.x) are both read") {
  nlohmann::json j = BertConfig().to_json();
  j.erase("dtype");
  CHECK(BertConfig::from_json(j).dtype == "float32");
  j["torch_dtype"] = "bfloat16";
  CHECK(BertConfig::from_json(j).dtype == "bfloat16");
  j.erase("torch_dtype");
  j["dtype"] = "float16";
  BertConfig c = BertConfig::from_json(j);
  CHECK(c.dtype == "float16");
  // written back as "dtype", not kept twice in extra
  CHECK(c.to_json()["dtype"] == "float16");
  CHECK(!c.to_json().contains("torch_dtype"));
  CHECK(!c.extra.contains("dtype"));
  j["dtype"] = nullptr;  // transformers writes null when it was never set
  CHECK(BertConfig::from_json(j).dtype == "float32");
  j["dtype"] = "int8";
  CHECK_THROWS_WITH_AS(BertConfig::from_json(j, "m/config.json"),
                       doctest::Contains("m/config.json: key \"dtype\" is \"int8\", expected \"float32\", \"bfloat16\" or \"float16\""), Error);
  j.erase("dtype");
  j["torch_dtype"] = 32;
  CHECK_THROWS_WITH_AS(BertConfig::from_json(j, "m/config.json"), doctest::Contains("m/config.json: key \"torch_dtype\" must be a string"), Error);
}

TEST_CASE("a config.json that is not JSON names the file without nlohmann's prefix") {
  TempDir tmp;
  const std::string path = (tmp.path / "config.json").string();
  write_file_atomic(path, "{\"vocab_size\": 12,");
  CHECK_THROWS_WITH_AS(BertConfig::load(path), doctest::Contains((path + ": invalid JSON: parse error at line 1").c_str()), Error);
  try {
    BertConfig::load(path);
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("[json.exception") == std::string::npos);
  }
}

TEST_CASE("missing weights and pickle checkpoints get a clear message") {
  TempDir tmp;
  fs::copy(kRoot + "BertModel/config.json", tmp.path / "config.json");
  CHECK_THROWS_WITH_AS(from_pretrained(tmp.path.string(), Task::MaskedLM), doctest::Contains("no model.safetensors"), Error);
  std::ofstream(tmp.path / "pytorch_model.bin") << "not really a pickle";
  CHECK_THROWS_WITH_AS(from_pretrained(tmp.path.string(), Task::MaskedLM), doctest::Contains("never reads"), Error);
  CHECK_THROWS_WITH_AS(from_pretrained("no/such/dir", Task::MaskedLM), doctest::Contains("no/such/dir"), Error);
}

TEST_CASE("parameter counts equal transformers' for bert-base and bert-large") {
  nn::SkipInitGuard no_init;
  CHECK(BertModel(BertConfig::preset("bert-base")).num_parameters() == 109482240);
  CHECK(BertModel(BertConfig::preset("bert-large")).num_parameters() == 335141888);
  BertConfig c = BertConfig::preset("bert-base");
  c.set_num_labels(2);
  BertForSequenceClassification cls(c);
  // transformers 5.24: 109,483,778 total (= 109,482,240 + 768 x 2 + 2); REFERENCE.md's
  // 109,484,546 is 768 more than BertModel + the 1,538-parameter classifier, see the README
  CHECK(cls.num_parameters() == 109483778);
  cls.freeze("bert.");
  CHECK(cls.num_parameters(true) == 1538);
}
