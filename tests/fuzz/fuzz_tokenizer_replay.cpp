// tests/fuzz/fuzz_tokenizer_replay.cpp — runs the libFuzzer target of fuzz_tokenizer.cpp over
// every file of a corpus folder (default tests/fuzz/corpus_tokenizer), so that the normal gcc
// build replays the seeds and every crash input ever added there (meson test tokenizer_fuzz_replay).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : "tests/fuzz/corpus_tokenizer";
  if (!std::filesystem::is_directory(dir)) {
    std::fprintf(stderr, "%s: not a folder\n", dir.string().c_str());
    return 1;
  }
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    ++n;
  }
  std::printf("replayed %zu inputs from %s\n", n, dir.string().c_str());
  return n > 0 ? 0 : 1;  // an empty corpus would make this test pass vacuously
}
