// placeholder until the MLP demo lands (foundation issue)
#include "bert/cli/commands.h"
#include <stdexcept>
namespace bertlab::cli {
void add_demo_command(CLI::App& app) {
  auto* c = app.add_subcommand("demo", "train a small model and print the loss falling");
  c->callback([] { throw std::runtime_error("demo: not written yet"); });
}
}  // namespace bertlab::cli
