// bert/cli/cmd_predict.cpp — `bertlab predict <pipeline>`: the prediction pipelines, one
// subcommand each. This file only creates `predict`; each pipeline registers itself with a
// function declared in bert/cli/commands.h (add_predict_fill_mask in cmd_fill_mask.cpp, ...).
// To add a pipeline: write add_predict_<name>(CLI::App& predict) and call it below.
#include "bert/cli/commands.h"

namespace bertlab::cli {

void add_predict_command(CLI::App& app) {
  auto* predict = app.add_subcommand("predict", "run a model on text: fill-mask, sentiment, ner, qa, zero-shot");
  predict->require_subcommand(1);
  add_predict_fill_mask(*predict);
  add_predict_sentiment(*predict);
  add_predict_ner(*predict);
  add_predict_qa(*predict);
  add_predict_zero_shot(*predict);
}

}  // namespace bertlab::cli
