// bert/cli/cmd_eval.cpp — `bertlab eval <task>`: evaluation of a model, one subcommand per
// task. This file only creates `eval`; each task registers itself with a function declared in
// bert/cli/commands.h (add_eval_pretrain in cmd_pretrain.cpp, ...).
// To add a task: write add_eval_<task>(CLI::App& eval) and call it below.
#include "bert/cli/commands.h"

namespace bertlab::cli {

void add_eval_command(CLI::App& app) {
  auto* eval = app.add_subcommand("eval", "evaluate a model: pretrain, classify, ner, qa");
  eval->require_subcommand(1);
  add_eval_pretrain(*eval);
  add_eval_tasks(*eval);
}

}  // namespace bertlab::cli
