// bert/cli/main.cpp — the `bertlab` command: parses flags and hands over to a subcommand.
//
// Errors thrown by the library (bertlab::Error and friends) end here: the message goes to
// stderr and the exit code is 1; flag errors print CLI11's usage and exit 106 or so.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "bert/cli/commands.h"

// OpenMP's threads spin while they wait for work by default (OMP_WAIT_POLICY=ACTIVE-ish). On
// a machine whose cores are shared with other jobs that is 3-4x slower: a spinning thread
// holds a core that the thread it waits for needs. Passive waiting costs a few microseconds
// per parallel region, nothing next to a BERT layer. libgomp reads the variable before main()
// runs, so when the user has not chosen, set it and start again.
static void default_passive_openmp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("BERTLAB_NO_REEXEC")) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  setenv("BERTLAB_NO_REEXEC", "1", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then carry on as we are
}

int main(int argc, char** argv) {
  default_passive_openmp(argv);
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
