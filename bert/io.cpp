// bert/io.cpp — AtomicFile and friends, on POSIX calls so that errors carry errno.
#include "bert/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "autograd/tensor.h"

namespace bertlab::bert {

static std::string errstr(int e) { return std::strerror(e); }

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  tmp_ = path_ + ".tmp." + std::to_string(::getpid());
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot write " + path_ + ": " + errstr(errno));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("cannot write " + path_ + ": " + errstr(errno));
    }
    p += w;
    n -= (size_t)w;
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) fail("cannot write " + path_ + ": fsync: " + errstr(errno));
  if (::close(fd_) != 0) {
    fd_ = -1;
    fail("cannot write " + path_ + ": close: " + errstr(errno));
  }
  fd_ = -1;
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) fail("cannot write " + path_ + ": rename: " + errstr(errno));
  committed_ = true;
  std::string dir = std::filesystem::path(path_).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);  // make the rename durable; best effort
    ::close(dfd);
  }
}

void write_file_atomic(const std::string& path, std::string_view contents) {
  AtomicFile f(path);
  f.write(contents);
  f.commit();
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot read " + path + ": " + errstr(errno));
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string json_error_text(const std::exception& e) {
  std::string m = e.what();
  if (m.rfind("[json.exception.", 0) == 0) {
    const size_t end = m.find("] ");
    if (end != std::string::npos) m = m.substr(end + 2);
  }
  return m;
}

nlohmann::json read_json_file(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(path + ": invalid JSON: " + json_error_text(e));
  }
}

// A value for messages: short, so that a huge array does not flood the terminal.
static std::string shown(const nlohmann::json& v) {
  std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

const nlohmann::json& json_key(const nlohmann::json& j, const std::string& key, const std::string& where) {
  if (!j.is_object()) fail(where + ": expected a JSON object, got " + shown(j));
  auto it = j.find(key);
  if (it == j.end()) fail(where + ": key \"" + key + "\" is missing");
  return *it;
}

[[noreturn]] static void wrong_type(const std::string& key, const std::string& where, const char* want,
                                    const nlohmann::json& v) {
  fail(where + ": key \"" + key + "\" must be " + want + ", got " + shown(v));
}

int64_t json_int(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const nlohmann::json& v = json_key(j, key, where);
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > (uint64_t)INT64_MAX))
    wrong_type(key, where, "a 64-bit integer", v);
  return v.get<int64_t>();
}
uint64_t json_uint(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const nlohmann::json& v = json_key(j, key, where);
  // a value built in memory is a signed integer, one read back from text an unsigned one
  if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<int64_t>() < 0))
    wrong_type(key, where, "a non-negative integer", v);
  return v.get<uint64_t>();
}
double json_number(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const nlohmann::json& v = json_key(j, key, where);
  if (!v.is_number()) wrong_type(key, where, "a number", v);
  return v.get<double>();
}
bool json_bool(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const nlohmann::json& v = json_key(j, key, where);
  if (!v.is_boolean()) wrong_type(key, where, "true or false", v);
  return v.get<bool>();
}
std::string json_string(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const nlohmann::json& v = json_key(j, key, where);
  if (!v.is_string()) wrong_type(key, where, "a string", v);
  return v.get<std::string>();
}

void make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) fail("cannot create directory " + path + ": " + ec.message());
}

void sync_dir(const std::string& dir) {
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;
  ::fsync(dfd);
  ::close(dfd);
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool dir_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace bertlab::bert
