// bert/cli/cmd_tokenize.cpp — `bertlab tokenize`: WordPiece-tokenize text as BERT sees it.
//
//   bertlab tokenize [--vocab FILE [--cased] | --model DIR] [--pair TEXT] [--max-length N] [--json] TEXT
//   bertlab tokenize ... -        (one input per line of standard input; also with no TEXT)
//
// Prints tokens, ids, token types and attention mask (with --json: one JSON object per input,
// keys tokens, input_ids, token_type_ids, attention_mask, offsets). Without --vocab/--model the
// bert-base-uncased vocabulary shipped in data/vocab is found next to the executable
// (<exe>/../data, <exe>/../../data), in ./data, or under $BERTLAB_DATA.
// The tokenizer itself is tokenizer/bert_tokenizer.h; this file only parses flags and prints.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bert/cli/commands.h"
#include "bert/cli/common.h"
#include "tokenizer/bert_tokenizer.h"

namespace bertlab::cli {

namespace {

namespace fs = std::filesystem;
namespace tk = bertlab::tokenizer;

struct TokenizeArgs {
  std::string vocab, model, pair, text;
  bool has_pair = false;
  bool json = false;
  bool cased = false;
  std::size_t max_length = 0;
};

// The default vocabulary: the first data/vocab/bert-base-uncased-vocab.txt found.
fs::path find_default_vocab() {
  const fs::path rel = fs::path("vocab") / "bert-base-uncased-vocab.txt";
  std::vector<fs::path> tried;
  if (const char* env = std::getenv("BERTLAB_DATA"); env && *env) tried.push_back(fs::path(env) / rel);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    tried.push_back(exe.parent_path() / ".." / "data" / rel);
    tried.push_back(exe.parent_path() / ".." / ".." / "data" / rel);
  }
  tried.push_back(fs::path("data") / rel);
  for (const fs::path& p : tried) {
    if (fs::exists(p)) return p.lexically_normal();
  }
  std::string where;
  for (const fs::path& p : tried) where += "\n  " + p.lexically_normal().string();
  throw std::runtime_error("tokenize: no vocabulary given and none found; pass --vocab FILE or --model DIR, "
                           "or set BERTLAB_DATA. Looked in:" + where);
}

tk::BertTokenizer make_tokenizer(const TokenizeArgs& a) {
  if (!a.model.empty()) return tk::BertTokenizer::from_pretrained(a.model);
  tk::TokenizerOptions o;
  o.do_lower_case = !a.cased;
  return tk::BertTokenizer(a.vocab.empty() ? find_default_vocab() : fs::path(a.vocab), o);
}

void print(const tk::BertTokenizer& tok, const tk::Encoding& e, bool as_json) {
  const std::vector<std::string> tokens = tok.convert_ids_to_tokens(e.ids);
  if (as_json) {
    nlohmann::json j;
    j["tokens"] = tokens;
    j["input_ids"] = e.ids;
    j["token_type_ids"] = e.type_ids;
    j["attention_mask"] = std::vector<int>(e.attention_mask.begin(), e.attention_mask.end());
    j["offsets"] = nlohmann::json::array();
    for (auto [s, t] : e.offsets) j["offsets"].push_back({s, t});
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  const auto line = [&](const char* name, const auto& values) {
    std::cout << name;
    for (const auto& v : values) std::cout << ' ' << v;
    std::cout << '\n';
  };
  line("tokens:        ", tokens);
  line("input_ids:     ", e.ids);
  line("token_type_ids:", e.type_ids);
  line("attention_mask:", std::vector<int>(e.attention_mask.begin(), e.attention_mask.end()));
}

void run(const TokenizeArgs& a) {
  const tk::BertTokenizer tok = make_tokenizer(a);
  tk::EncodeOptions opt;
  if (a.max_length > 0) {
    opt.truncation = tk::Truncation::kLongestFirst;
    opt.max_length = a.max_length;
  }
  const auto encode = [&](const std::string& text) {
    return a.has_pair ? tok.encode(text, a.pair, opt) : tok.encode(text, opt);
  };
  if (a.text != "-") {
    print(tok, encode(a.text), a.json);
    return;
  }
  std::string line;
  bool first = true;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!a.json && !first) std::cout << '\n';
    print(tok, encode(line), a.json);
    first = false;
  }
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  auto* c = app.add_subcommand("tokenize", "tokenize text with BERT's WordPiece tokenizer (HF BertTokenizerFast parity)");
  auto* vocab = c->add_option("--vocab", args->vocab, "vocab.txt (default: data/vocab/bert-base-uncased-vocab.txt)")
                    ->check(CLI::ExistingFile);
  auto* model = c->add_option("--model", args->model, "Hugging Face model folder (vocab.txt + tokenizer_config.json)")
                    ->transform(model_folder())
                    ->check(CLI::ExistingDirectory);
  vocab->excludes(model);
  c->add_flag("--cased", args->cased, "keep case and accents (for a cased --vocab)")->excludes(model);
  c->add_option("--pair", args->pair, "second text of a pair: [CLS] TEXT [SEP] PAIR [SEP]");
  c->add_option("--max-length", args->max_length, "truncate (longest_first) to N tokens")
      ->check(in_range<unsigned long>(1, 1 << 20));
  auto common = std::make_shared<CommonFlags>();
  add_common_flags(c, *common, kJson, "print one JSON object per input");
  c->add_option("text", args->text, "the text; - or none reads one input per line from standard input");
  c->callback([args, c, common] {
    args->has_pair = c->count("--pair") > 0;
    args->json = common->json;
    if (args->text.empty() && c->count("text") == 0) args->text = "-";
    run(*args);
  });
}

}  // namespace bertlab::cli
