// bert/cli/common.cpp — see common.h.
#include "bert/cli/common.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "bert/io.h"

namespace bertlab::cli {

bert::BertConfig resolve_config(const std::string& spec) {
  namespace fs = std::filesystem;
  if (bert::dir_exists(spec)) return bert::BertConfig::load((fs::path(spec) / "config.json").string());
  if (bert::file_exists(spec)) return bert::BertConfig::load(spec);
  return bert::BertConfig::preset(spec);
}

bert::Task task_from_cli(const std::string& name) {
  if (name == "pretrain") return bert::Task::PreTraining;
  if (name == "mlm") return bert::Task::MaskedLM;
  if (name == "nsp") return bert::Task::NextSentence;
  if (name == "classify") return bert::Task::SequenceClassification;
  if (name == "ner") return bert::Task::TokenClassification;
  if (name == "qa") return bert::Task::QuestionAnswering;
  fail("unknown task '" + name + "' (pretrain, mlm, nsp, classify, ner, qa)");
}

std::string find_data_file(const std::string& relative) {
  namespace fs = std::filesystem;
  std::vector<fs::path> tried;
  if (const char* env = std::getenv("BERTLAB_DATA"); env && *env) tried.push_back(fs::path(env) / relative);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    tried.push_back(exe.parent_path() / ".." / "data" / relative);
    tried.push_back(exe.parent_path() / ".." / ".." / "data" / relative);
  }
  tried.push_back(fs::path("data") / relative);
  for (const fs::path& p : tried)
    if (fs::exists(p)) return p.lexically_normal().string();
  std::string where;
  for (const fs::path& p : tried) where += "\n  " + p.lexically_normal().string();
  fail("data file " + relative + " not found (set BERTLAB_DATA to the repository's data folder); looked in:" + where);
}

std::string default_vocab(bool cased) {
  return find_data_file(cased ? "vocab/bert-base-cased-vocab.txt" : "vocab/bert-base-uncased-vocab.txt");
}

std::string with_commas(int64_t n) {
  std::string s = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace bertlab::cli
