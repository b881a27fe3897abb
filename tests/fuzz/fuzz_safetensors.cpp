// tests/fuzz/fuzz_safetensors.cpp — fuzz target for the safetensors reader (bert/safetensors.h).
//
// libFuzzer (https://llvm.org/docs/LibFuzzer.html) calls LLVMFuzzerTestOneInput with
// arbitrary bytes; we parse them as a safetensors file (File::from_memory), then load every
// tensor in every target type. The contract under test: any input either opens or throws
// bertlab::Error — never a crash, a sanitizer report, or another exception type (which
// escapes, and libFuzzer reports it as a crash).
//
// Built two ways (tests/fuzz/meson.build):
//   fuzz_safetensors         -Dfuzz=enabled with clang: -fsanitize=fuzzer,address
//   fuzz_safetensors_replay  every build: BERTLAB_FUZZ_REPLAY adds a main() that runs the
//                            target over each file of the directories or files given
//                            (the committed corpus, tests/fuzz/corpus_safetensors/)
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bert/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bertlab;
  try {
    auto f = safetensors::File::from_memory(std::vector<uint8_t>(data, data + size), "fuzz");
    for (const std::string& name : f.names()) {
      const safetensors::TensorInfo& info = f.info(name);
      (void)info;
      for (DType to : {DType::Float32, DType::Float64, DType::Int64}) {
        try {
          Tensor t = f.load(name, to);
          (void)t.numel();
        } catch (const Error&) {
          // unloadable dtype or target: fine, as long as it is a bertlab::Error
        }
      }
    }
    (void)f.metadata();
  } catch (const Error&) {
    // a rejected file: fine
  }
  return 0;
}

#ifdef BERTLAB_FUZZ_REPLAY
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

// Runs the target over each file named, or each file in each directory named. Exits 1
// when no input was found, so that a missing corpus cannot pass for a clean run.
int main(int argc, char** argv) {
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    struct stat st {};
    if (::stat(argv[i], &st) != 0) {
      std::fprintf(stderr, "fuzz_safetensors_replay: cannot stat %s\n", argv[i]);
      return 1;
    }
    if (S_ISDIR(st.st_mode)) {
      if (DIR* d = ::opendir(argv[i])) {
        while (dirent* e = ::readdir(d))
          if (e->d_name[0] != '.') inputs.push_back(std::string(argv[i]) + "/" + e->d_name);
        ::closedir(d);
      }
    } else {
      inputs.push_back(argv[i]);
    }
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) {
    std::fprintf(stderr, "fuzz_safetensors_replay: no inputs (usage: %s DIR_OR_FILE...)\n", argv[0]);
    return 1;
  }
  for (const std::string& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  std::printf("fuzz_safetensors_replay: %zu inputs ran without a crash\n", inputs.size());
  return 0;
}
#endif
