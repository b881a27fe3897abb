// bert/cli/common.h — small helpers the subcommands share.
#pragma once

#include <string>

#include "bert/config.h"
#include "bert/heads.h"

namespace bertlab::cli {

// A preset name, a path to a config.json, or a model folder (its config.json).
bert::BertConfig resolve_config(const std::string& spec);
// "pretrain", "mlm", "nsp", "classify", "ner", "qa" -> the head
bert::Task task_from_cli(const std::string& name);
// 109482240 -> "109,482,240"
std::string with_commas(int64_t n);

// A file shipped in the repository's data/ folder, looked up in $BERTLAB_DATA, then beside
// the executable (<exe>/../data, <exe>/../../data), then ./data. Throws listing where it looked.
std::string find_data_file(const std::string& relative);
// data/vocab/bert-base-{uncased,cased}-vocab.txt
std::string default_vocab(bool cased = false);

}  // namespace bertlab::cli
