// autograd/openmp_env.h — make OpenMP threads wait passively unless the user chose otherwise.
//
// libgomp's threads spin for a while when they run out of work, waiting for the next
// parallel region. On this project's machines (2 virtual CPUs that are not independent
// cores, often shared with other jobs) a spinning thread slows the one doing the work:
// bert-base forward at 1 x 128 takes 358 ms with spinning and 138 ms without (bench_bert,
// 2 threads, idle machine). libgomp reads OMP_WAIT_POLICY before main() runs, so a program
// that wants the passive default sets it and re-executes itself, once.
//
//   int main(int argc, char** argv) { bertlab::prefer_passive_openmp(argv); ... }
#pragma once

#include <unistd.h>

#include <cstdlib>

namespace bertlab {

inline void prefer_passive_openmp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("BERTLAB_NO_REEXEC")) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  setenv("BERTLAB_NO_REEXEC", "1", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then carry on as we are
}

}  // namespace bertlab
