// bert/io.h — files written all-or-nothing, and small filesystem helpers.
//
// AtomicFile writes to "<path>.tmp.<pid>", and commit() fsyncs it and renames it over the
// target, so a crash, a full disk or an error midway leaves the old file (or none) and never
// a half-written one. Without commit() the temporary file is removed.
#pragma once

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

}  // namespace bertlab::bert
