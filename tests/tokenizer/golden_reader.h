// tests/tokenizer/golden_reader.h — reads the tokenizer golden files (gzip'd JSON lines made by
// tools/make_tokenizer_golden.py) and the data files the hashed golden sets were made from.
// Header-only; used by test_parity.cpp and test_unicode.cpp.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bertlab::tokenizer::testing {

// Whole file, gunzipped when it ends in .gz. Throws naming the path.
inline std::string read_file(const std::filesystem::path& path) {
  if (path.extension() == ".gz") {
    gzFile f = gzopen(path.string().c_str(), "rb");
    if (!f) throw std::runtime_error(path.string() + ": cannot open");
    std::string out;
    char buf[1 << 16];
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    const bool bad = n < 0;
    gzclose(f);
    if (bad) throw std::runtime_error(path.string() + ": gzip read error");
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A golden JSON-lines file: header (line 1) and records.
struct Golden {
  nlohmann::json header;
  std::vector<nlohmann::json> records;
};

inline Golden read_golden(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  Golden g;
  std::size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos) {
      auto j = nlohmann::json::parse(text.begin() + static_cast<std::ptrdiff_t>(pos),
                                     text.begin() + static_cast<std::ptrdiff_t>(end));
      if (first) {
        g.header = std::move(j);
        first = false;
      } else {
        g.records.push_back(std::move(j));
      }
    }
    pos = end + 1;
  }
  if (first) throw std::runtime_error(path.string() + ": empty golden file");
  return g;
}

// FNV-1a 64, continuing from h (as tools/make_tokenizer_golden.py fnv1a64).
inline std::uint64_t fnv1a64(std::string_view data, std::uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char b : data) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

inline std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Where the shared data folder is (tests run with the repository root as working directory).
inline std::filesystem::path shared_data() { return std::filesystem::path("..") / "shared" / "data"; }

}  // namespace bertlab::tokenizer::testing
