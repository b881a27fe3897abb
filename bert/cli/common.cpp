// bert/cli/common.cpp — see common.h.
#include "bert/cli/common.h"

#include "bert/checkpoint.h"
#include "bert/distilbert/model.h"

#include "autograd/autocast.h"

#include <omp.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <type_traits>
#include <vector>

namespace bertlab::cli {

namespace fs = std::filesystem;

void usage_error(const std::string& message) { throw CLI::ValidationError(message); }

// ---- ranges -------------------------------------------------------------------------------

namespace {

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// What is wrong with `s` as a whole number of type T in [lo, hi], or "" when nothing is.
// `range` words the bounds ("at least 1", "from 1 to 512").
template <class T>
std::string check_integer(const std::string& s, T lo, T hi, const std::string& range) {
  const char* b = s.data() + (s.size() > 1 && s[0] == '+' ? 1 : 0);
  const char* e = s.data() + s.size();
  T v{};
  const auto [end, ec] = std::from_chars(b, e, v);
  const bool negative = b < e && *b == '-';
  if (ec == std::errc::result_out_of_range || (ec == std::errc::invalid_argument && std::is_unsigned_v<T> && negative &&
                                               b + 1 < e && std::isdigit((unsigned char)b[1]))) {
    // too far below or above what the variable can hold: below lo or above hi for sure
    if (negative) return "must be at least " + std::to_string(lo) + ", got " + s;
    return "must be at most " + std::to_string(hi) + ", got " + s;
  }
  if (ec != std::errc() || end != e) return "must be a whole number " + range + ", got '" + s + "'";
  if (v < lo) return "must be at least " + std::to_string(lo) + ", got " + s;
  if (v > hi) return "must be at most " + std::to_string(hi) + ", got " + s;
  return "";
}

std::string check_float(const std::string& s, double lo, double hi, bool lo_open, const std::string& range) {
  char* end = nullptr;
  errno = 0;
  const double v = s.empty() ? 0 : std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) return "must be a number " + range + ", got '" + s + "'";
  if (!std::isfinite(v)) return "must be a finite number " + range + ", got " + s;
  // written so that NaN fails (it already did above; the form is the habit)
  const bool ok = lo_open ? (v > lo && v <= hi) : (v >= lo && v <= hi);
  if (!ok) return "must be " + range + ", got " + s;
  return "";
}

template <class T>
std::string range_words(T lo, T hi) {
  if constexpr (std::is_floating_point_v<T>) {
    if (hi == std::numeric_limits<T>::max()) return "at least " + num(lo);
    return "from " + num(lo) + " to " + num(hi);
  } else {
    if (hi == std::numeric_limits<T>::max()) return "at least " + std::to_string(lo);
    return "from " + std::to_string(lo) + " to " + std::to_string(hi);
  }
}

template <class T>
CLI::Validator range_validator(T lo, T hi) {
  const std::string words = range_words(lo, hi);
  return CLI::Validator(
      [lo, hi, words](std::string& s) -> std::string {
        if constexpr (std::is_floating_point_v<T>) return check_float(s, (double)lo, (double)hi, false, words);
        else return check_integer<T>(s, lo, hi, words);
      },
      words);
}

}  // namespace

template <class T>
CLI::Validator at_least(T lo) {
  return range_validator<T>(lo, std::numeric_limits<T>::max());
}
template <class T>
CLI::Validator in_range(T lo, T hi) {
  return range_validator<T>(lo, hi);
}
template CLI::Validator at_least<int>(int);
template CLI::Validator at_least<long>(long);
template CLI::Validator at_least<unsigned long>(unsigned long);
template CLI::Validator at_least<double>(double);
template CLI::Validator in_range<int>(int, int);
template CLI::Validator in_range<long>(long, long);
template CLI::Validator in_range<unsigned long>(unsigned long, unsigned long);
template CLI::Validator in_range<double>(double, double);

CLI::Validator greater_than(double lo) {
  const std::string words = "greater than " + num(lo);
  return CLI::Validator(
      [lo, words](std::string& s) { return check_float(s, lo, std::numeric_limits<double>::max(), true, words); }, words);
}

CLI::Validator model_folder() {
  return CLI::Validator(
      [](std::string& s) {
        s = model_dir(s);
        return std::string();
      },
      "");
}

CLI::Validator one_of(std::vector<std::string> words) {
  std::string list;
  for (size_t i = 0; i < words.size(); ++i) list += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
  return CLI::Validator(
      [words, list](std::string& s) -> std::string {
        for (const auto& w : words)
          if (s == w) return "";
        return "must be " + list + ", got '" + s + "'";
      },
      list);
}

// ---- common flags ---------------------------------------------------------------------------

Device CommonFlags::apply() const {
  if (threads > 0) omp_set_num_threads(threads);
  const Device d = device == "cuda" ? Device::CUDA : Device::CPU;
  const DType t = parse_compute_dtype(dtype, "--dtype");
  if (t == DType::BFloat16 && d != Device::CPU)
    fail("--dtype bfloat16 runs on the CPU only in this version (bf16 on the GPU is not built yet); "
         "use --device cpu, or --dtype float32 on the GPU");
  set_autocast_dtype(t);
  return d;
}

void add_common_flags(CLI::App* c, CommonFlags& f, unsigned which, const std::string& json_help) {
  if (which & kThreads)
    c->add_option("--threads", f.threads, "CPU threads (0: OpenMP's default)")->check(in_range<int>(0, 4096))->capture_default_str();
  if (which & kDevice) c->add_option("--device", f.device, "cpu or cuda")->check(one_of({"cpu", "cuda"}))->capture_default_str();
  if (which & kNoProgress) c->add_flag("--no-progress", f.no_progress, "no progress bar or progress lines");
  if (which & kJson) c->add_flag("--json", f.json, json_help);
  if (which & kDType)
    c->add_option("--dtype", f.dtype,
                  "float32 or bfloat16: the linear layers' GEMMs in bfloat16 with float32 sums, the rest float32 "
                  "(autocast; CPU only)")
        ->check(one_of({"float32", "bfloat16"}))
        ->capture_default_str();
}

CLI::Option* add_seed_flag(CLI::App* c, uint64_t& seed, const std::string& what) {
  return c->add_option("--seed", seed, "random seed (" + what + ")")->check(at_least<unsigned long>(0))->capture_default_str();
}

// ---- models and configs ---------------------------------------------------------------------

std::string model_dir(const std::string& spec) {
  if (bert::file_exists(spec)) {
    const fs::path parent = fs::path(spec).parent_path();
    return parent.empty() ? "." : parent.string();
  }
  return spec;
}

bert::BertConfig resolve_config(const std::string& spec) { return bert::shared_config_of(spec); }

bert::Task task_from_cli(const std::string& name) {
  if (name == "pretrain") return bert::Task::PreTraining;
  if (name == "mlm") return bert::Task::MaskedLM;
  if (name == "nsp") return bert::Task::NextSentence;
  if (name == "classify") return bert::Task::SequenceClassification;
  if (name == "ner") return bert::Task::TokenClassification;
  if (name == "qa") return bert::Task::QuestionAnswering;
  fail("unknown task '" + name + "' (pretrain, mlm, nsp, classify, ner, qa)");
}

std::string find_data_file(const std::string& relative) {
  std::vector<fs::path> tried;
  if (const char* env = std::getenv("BERTLAB_DATA"); env && *env) tried.push_back(fs::path(env) / relative);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    tried.push_back(exe.parent_path() / ".." / "data" / relative);
    tried.push_back(exe.parent_path() / ".." / ".." / "data" / relative);
  }
  tried.push_back(fs::path("data") / relative);
  for (const fs::path& p : tried)
    if (fs::exists(p)) return p.lexically_normal().string();
  std::string where;
  for (const fs::path& p : tried) where += "\n  " + p.lexically_normal().string();
  fail("data file " + relative + " not found (set BERTLAB_DATA to the repository's data folder); looked in:" + where);
}

std::string default_vocab(bool cased) {
  return find_data_file(cased ? "vocab/bert-base-cased-vocab.txt" : "vocab/bert-base-uncased-vocab.txt");
}

std::string with_commas(int64_t n) {
  std::string s = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return n < 0 ? "-" + out : out;
}

// ---- input and output of batch prediction -------------------------------------------------

LineReader::LineReader(const std::string& path) {
  if (path == "-") {
    in_ = &std::cin;
    name_ = "stdin";
    return;
  }
  if (bert::dir_exists(path)) fail("--input " + path + " is a folder, not a file");
  auto f = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*f) fail("--input " + path + ": cannot read it (" + std::string(std::strerror(errno)) + ")");
  file_ = std::move(f);
  in_ = file_.get();
  name_ = path;
}

std::vector<InputLine> LineReader::next(size_t n) {
  std::vector<InputLine> out;
  std::string s;
  while (out.size() < n && std::getline(*in_, s)) {
    if (!s.empty() && s.back() == '\r') s.pop_back();
    out.push_back({++line_, std::move(s)});
    s.clear();
  }
  if (in_->bad()) fail(name_ + ": read error after line " + std::to_string(line_));
  return out;
}

Output::Output(const std::string& path) {
  if (!path.empty() && path != "-") file_ = std::make_unique<bert::AtomicFile>(path);
}

void Output::write_line(const std::string& s) {
  if (file_) {
    file_->write(s);
    file_->write("\n");
  } else {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fputc('\n', stdout);
  }
}

void Output::flush() {
  if (!file_) std::fflush(stdout);
}

void Output::commit() {
  if (file_) file_->commit();
  else std::fflush(stdout);
}

bool is_blank(const std::string& s) { return s.find_first_not_of(" \t") == std::string::npos; }

int64_t predict_lines(const std::string& input, const std::string& output, int64_t batch_size,
                      const BatchPredictor& predict, const std::string& text_key) {
  LineReader reader(input);
  Output out(output);
  int64_t lines = 0;
  for (std::vector<InputLine> batch; !(batch = reader.next((size_t)batch_size)).empty();) {
    std::vector<InputLine> todo;
    for (const InputLine& l : batch)
      if (!is_blank(l.text)) todo.push_back(l);
    std::vector<nlohmann::json> results = todo.empty() ? std::vector<nlohmann::json>{} : predict(todo);
    if (results.size() != todo.size()) fail("predict: internal error: " + std::to_string(results.size()) + " results for " +
                                            std::to_string(todo.size()) + " lines");
    size_t k = 0;
    for (const InputLine& l : batch) {
      nlohmann::ordered_json rec;
      rec["line"] = l.line;
      if (!text_key.empty() || is_blank(l.text)) rec[text_key.empty() ? "text" : text_key] = l.text;
      if (is_blank(l.text)) {
        rec["empty"] = true;
      } else {
        for (auto& [key, value] : results[k++].items()) rec[key] = value;
      }
      out.write_line(rec.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    lines += (int64_t)batch.size();
    out.flush();  // a reader of stdout sees each batch as soon as it is done
  }
  out.commit();
  return lines;
}

void add_file_flags(CLI::App* c, std::string& input, std::string& output) {
  auto* in = c->add_option("--input", input, "read inputs from this file, one a line ('-': stdin), a batch at a time; "
                                             "writes JSON lines with each line's number");
  c->add_option("--output", output, "with --input: write the JSON lines here (default: stdout)")->needs(in);
}

}  // namespace bertlab::cli
