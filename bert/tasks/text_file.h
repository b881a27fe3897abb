// bert/tasks/text_file.h — line splitting shared by the data readers (header-only, internal).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bertlab::tasks {

// The lines of a text file as views into `text`: "\n" or "\r\n" ends a line, the "\r" is
// dropped, a UTF-8 byte-order mark at the start is skipped, and a final line without "\n"
// counts. Line i of the result is line i+1 of the file.
inline std::vector<std::string_view> split_lines(const std::string& text) {
  std::vector<std::string_view> lines;
  std::string_view s(text);
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    size_t end = nl == std::string_view::npos ? s.size() : nl;
    std::string_view l = s.substr(start, end - start);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    lines.push_back(l);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return lines;
}

}  // namespace bertlab::tasks
