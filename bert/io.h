// bert/io.h — files written all-or-nothing, and small filesystem helpers.
//
// AtomicFile writes to "<path>.tmp.<pid>", and commit() fsyncs it and renames it over the
// target, so a crash, a full disk or an error midway leaves the old file (or none) and never
// a half-written one. Without commit() the temporary file is removed.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace bertlab::bert {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();  // removes the temporary file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const void* data, size_t n);  // throws naming the path (e.g. "No space left on device")
  void write(std::string_view s) { write(s.data(), s.size()); }
  void commit();
  const std::string& path() const { return path_; }

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

void write_file_atomic(const std::string& path, std::string_view contents);
std::string read_file(const std::string& path);  // throws naming the path
// Creates a directory and its parents (no error when it exists); throws naming the path.
void make_dirs(const std::string& path);
bool file_exists(const std::string& path);
// fsyncs a directory, so that a rename or a new file in it survives a power cut (best effort:
// some filesystems refuse; a crash of the process alone never needs it).
void sync_dir(const std::string& dir);
bool dir_exists(const std::string& path);

// JSON read back from our own files (trainer_state.json, the data position, metrics) and
// from others' (config.json). nlohmann's own messages ("[json.exception.type_error.302]
// type must be number, but is string") name neither the file nor the key, so these do:
//   "run/checkpoint-10/trainer_state.json: key \"step\" must be an integer, got \"ten\"".
// `where` names the file (and, for nested objects, the path to it: "FILE: extra.data").
std::string json_error_text(const std::exception& e);  // e.what() without "[json.exception...] "
nlohmann::json read_json_file(const std::string& path);  // "path: invalid JSON: ..." on error
const nlohmann::json& json_key(const nlohmann::json& j, const std::string& key, const std::string& where);
int64_t json_int(const nlohmann::json& j, const std::string& key, const std::string& where);
uint64_t json_uint(const nlohmann::json& j, const std::string& key, const std::string& where);
double json_number(const nlohmann::json& j, const std::string& key, const std::string& where);
bool json_bool(const nlohmann::json& j, const std::string& key, const std::string& where);
std::string json_string(const nlohmann::json& j, const std::string& key, const std::string& where);

}  // namespace bertlab::bert
