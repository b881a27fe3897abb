// bert/cli/main.cpp — the `bertlab` command: parses flags and hands over to a subcommand.
//
// Errors thrown by the library (bertlab::Error and friends) end here: the message goes to
// stderr and the exit code is 1; flag errors print CLI11's usage and exit 106 or so.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "autograd/openmp_env.h"
#include "bert/cli/commands.h"

int main(int argc, char** argv) {
  bertlab::prefer_passive_openmp(argv);  // see autograd/openmp_env.h
  CLI::App app{"bertlab: BERT from scratch in C++ (autograd, CPU and CUDA ops, tokenizer, training)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "bertlab 0.1.0");
  bertlab::cli::add_tokenize_command(app);
  bertlab::cli::add_demo_command(app);
  bertlab::cli::add_info_command(app);
  bertlab::cli::add_init_command(app);
  bertlab::cli::add_embed_command(app);
  bertlab::cli::add_pretrain_command(app);
  bertlab::cli::add_plot_command(app);
  bertlab::cli::add_predict_command(app);
  bertlab::cli::add_eval_command(app);
  bertlab::cli::add_finetune_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bertlab: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
