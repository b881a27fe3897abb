// bert/cli/common.cpp — see common.h.
#include "bert/cli/common.h"

#include <filesystem>

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

std::string with_commas(int64_t n) {
  std::string s = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace bertlab::cli
