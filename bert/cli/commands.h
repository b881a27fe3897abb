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

}  // namespace bertlab::cli
