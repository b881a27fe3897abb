// bert/cli/commands.h — one function per `bertlab` subcommand; each adds its CLI11
// subcommand with its flags and a callback that runs it. main.cpp only calls these.
#pragma once

#include <CLI/CLI.hpp>

namespace bertlab::cli {

void add_tokenize_command(CLI::App& app);  // bert/cli/cmd_tokenize.cpp
void add_demo_command(CLI::App& app);      // bert/cli/cmd_demo.cpp
void add_info_command(CLI::App& app);      // bert/cli/cmd_info.cpp
void add_init_command(CLI::App& app);      // bert/cli/cmd_init.cpp
void add_embed_command(CLI::App& app);     // bert/cli/cmd_embed.cpp
void add_pretrain_command(CLI::App& app);  // bert/cli/cmd_pretrain.cpp
void add_plot_command(CLI::App& app);      // bert/cli/cmd_plot.cpp

// `bertlab predict <pipeline>` (bert/cli/cmd_predict.cpp) and `bertlab eval <task>`
// (bert/cli/cmd_eval.cpp) create the parent subcommand and call one function per pipeline/task:
void add_predict_command(CLI::App& app);       // bert/cli/cmd_predict.cpp
void add_predict_fill_mask(CLI::App& predict); // bert/cli/cmd_fill_mask.cpp
void add_eval_command(CLI::App& app);          // bert/cli/cmd_eval.cpp
void add_eval_pretrain(CLI::App& eval);        // bert/cli/cmd_pretrain.cpp
void add_finetune_command(CLI::App& app);      // bert/cli/cmd_finetune.cpp
void add_eval_tasks(CLI::App& eval);           // bert/cli/cmd_finetune.cpp: eval classify, ner, qa
void add_predict_sentiment(CLI::App& predict); // bert/cli/cmd_pipelines.cpp
void add_predict_ner(CLI::App& predict);       // bert/cli/cmd_pipelines.cpp
void add_predict_qa(CLI::App& predict);        // bert/cli/cmd_pipelines.cpp
void add_predict_zero_shot(CLI::App& predict); // bert/cli/cmd_pipelines.cpp

}  // namespace bertlab::cli
