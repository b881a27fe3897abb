// tests/run_command.h — running commands as a user does, for the tests that drive the bertlab
// executable itself (its path in $BERTLAB_EXE, set by meson).
//
//   Result r = test_cli::run("tokenize --vocab V hello");   bertlab ARGS, output and exit code
//   Result r = test_cli::run("|printf 'x' | " + exe + " ...");  "|": a whole shell command
//   Result r = test_cli::sh("mpirun -np 2 " + exe() + " ...");  any shell command
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace test_cli {

struct Result {
  int status;       // the exit code; -1 when a signal ended the command
  std::string out;  // stdout and stderr together
};

// Runs `cmd` with /bin/sh, stderr joined to stdout.
inline Result sh(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

// The bertlab executable, quoted for the shell.
inline std::string exe() {
  const char* e = std::getenv("BERTLAB_EXE");
  REQUIRE_MESSAGE(e != nullptr, "BERTLAB_EXE is not set (meson sets it)");
  return std::string("'") + e + "'";
}

// `bertlab ARGS`; ARGS starting with "|" is a whole shell command instead.
inline Result run(const std::string& args) { return args.rfind("|", 0) == 0 ? sh(args.substr(1)) : sh(exe() + " " + args); }

}  // namespace test_cli
