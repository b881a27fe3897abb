// bert/cli/main.cpp — the `bertlab` command: parses flags and hands over to a subcommand.
//
// Every error goes to stderr as one "bertlab: error: ..." line, and the exit code says
// which kind it was (kExit* in common.h):
//   0    success (also --help and --version)
//   1    a runtime error: a missing or malformed file, a model that does not fit, a full disk
//   2    a usage error: an unknown flag, a missing argument, a value out of its range
//   130  interrupted (Ctrl-C): training saved a checkpoint that --resume continues
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "autograd/openmp_env.h"
#include "bert/train/distributed.h"
#include "bert/cli/commands.h"
#include "bert/cli/common.h"

namespace {

// "bertlab finetune classify": the subcommands that were selected before the error.
std::string command_path(const CLI::App& app) {
  std::string path = app.get_name();
  const CLI::App* a = &app;
  while (!a->get_subcommands().empty()) {
    a = a->get_subcommands().front();
    path += " " + a->get_name();
  }
  return path;
}

// The deepest selected subcommand (where a missing subcommand is looked for).
const CLI::App* selected(const CLI::App& app) {
  const CLI::App* a = &app;
  while (!a->get_subcommands().empty()) a = a->get_subcommands().front();
  return a;
}

// CLI11's message, reworded where it reads badly. Our range validators say "must be ...",
// which CLI11 prefixes with "--flag: "; that becomes "--flag must be ...".
std::string usage_message(const CLI::App& app, const CLI::ParseError& e) {
  std::string m = e.what();
  if (const size_t p = m.find(": must "); p != std::string::npos && m.rfind("-", 0) == 0) m.erase(p, 1);
  if (m == "A subcommand is required") {
    std::string names;
    for (const CLI::App* s : selected(app)->get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); }))
      names += (names.empty() ? "" : ", ") + s->get_name();
    m = "a subcommand is required (" + names + ")";
  }
  return m;
}

}  // namespace

namespace {
int run(int argc, char** argv);
}

// Under mpirun every rank runs the same command (bert/train/distributed.h). A rank that
// fails with an error stops the whole job: the others may be waiting for it in a collective.
// (A usage error and an interrupted run end every rank alike, and just exit.)
int main(int argc, char** argv) {
  bertlab::prefer_passive_openmp(argv);  // see autograd/openmp_env.h
  bertlab::dist::init(&argc, &argv);
  const int code = run(argc, argv);
  if (code == bertlab::cli::kExitError && bertlab::dist::world_size() > 1) bertlab::dist::abort_all(code);
  bertlab::dist::finalize();
  return code;
}

namespace {
int run(int argc, char** argv) {
  namespace cli = bertlab::cli;
  CLI::App app{"bertlab: BERT from scratch in C++ (autograd, CPU and CUDA ops, tokenizer, training)", "bertlab"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "bertlab 0.1.0");
  app.footer(
      "Run 'bertlab COMMAND --help' for a command's flags.\n"
      "Exit codes: 0 success; 1 error (a missing or malformed file, a model that does not fit, ...);\n"
      "2 usage error (an unknown flag, a missing argument, a value out of range); 130 interrupted (Ctrl-C).\n"
      "Errors are printed to stderr as lines starting with 'bertlab: error:'.");
  try {
    cli::add_tokenize_command(app);
    cli::add_demo_command(app);
    cli::add_info_command(app);
    cli::add_init_command(app);
    cli::add_embed_command(app);
    cli::add_pretrain_command(app);
    cli::add_plot_command(app);
    cli::add_predict_command(app);
    cli::add_eval_command(app);
    cli::add_finetune_command(app);
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {  // a training run interrupted by Ctrl-C (it printed why)
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "bertlab: error: %s\nrun '%s --help' for the usage\n", usage_message(app, e).c_str(),
                 command_path(app).c_str());
    return cli::kExitUsage;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    if (bertlab::dist::world_size() > 1)  // which rank failed (each prints its own)
      std::fprintf(stderr, "bertlab: error: rank %d: %s\n", bertlab::dist::rank(), e.what());
    else
      std::fprintf(stderr, "bertlab: error: %s\n", e.what());
    return cli::kExitError;
  }
  return cli::kExitOk;
}
}  // namespace
