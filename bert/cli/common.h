// bert/cli/common.h — small helpers the subcommands share: flag ranges with readable
// messages, the flags every model-running subcommand has, model folders, and line input.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <istream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "bert/config.h"
#include "bert/checkpoint.h"
#include "bert/heads.h"
#include "bert/io.h"

namespace bertlab::cli {

// ---- exit codes (main.cpp; documented in `bertlab --help`) --------------------------------
constexpr int kExitOk = 0, kExitError = 1, kExitUsage = 2, kExitInterrupted = 130;

// A problem with the flags or arguments found after parsing (two flags that do not fit
// together, say): exit code 2 and a pointer to --help, like CLI11's own usage errors.
[[noreturn]] void usage_error(const std::string& message);

// ---- ranges of numeric flags ------------------------------------------------------------
// CLI11 validators with messages like "--batch-size must be at least 1, got -4". T is the
// type of the flag's variable: a value that does not fit it (99999999999999999999 for an
// int64_t) fails with the same kind of message instead of CLI11's conversion error. Floating
// bounds are checked as !(lo <= x && x <= hi), so NaN fails, and inf fails too.
//   c->add_option("--batch-size", o.batch_size)->check(at_least<int64_t>(1));
//   c->add_option("--warmup-ratio", o.warmup_ratio)->check(in_range<double>(0, 1));
template <class T> CLI::Validator at_least(T lo);
template <class T> CLI::Validator in_range(T lo, T hi);
CLI::Validator greater_than(double lo);  // a float flag above lo (a learning rate > 0)
// One of a fixed set of words: "--device must be cpu or cuda, got 'gpu'".
CLI::Validator one_of(std::vector<std::string> words);

// For --model: DIR/config.json (or any file in the folder) becomes DIR. Use with ->transform().
CLI::Validator model_folder();

// ---- the flags shared by the subcommands that run a model ---------------------------------
// Defined once here so that they mean the same everywhere:
//   --threads N     CPU threads (0: OpenMP's default)
//   --device D      cpu or cuda
//   --seed N        random seed (only where something is random; its own default per command)
//   --no-progress   no progress bar or progress lines (only where there is progress)
//   --json          print data as JSON (only where the output is data)
//   --dtype D       float32 or bfloat16: bfloat16 runs the linear layers' GEMMs with bfloat16
//                   operands and float32 sums (autocast, autograd/autocast.h; CPU only)
struct CommonFlags {
  int threads = 0;
  std::string device = "cpu";
  std::string dtype = "float32";
  bool no_progress = false;
  bool json = false;
  // Sets the OpenMP thread count (when --threads was given) and this thread's autocast dtype
  // (--dtype), and returns the device.
  Device apply() const;
};
enum CommonFlag : unsigned { kThreads = 1, kDevice = 2, kNoProgress = 4, kJson = 8, kDType = 16 };
// Adds the chosen flags (kThreads | kDevice | ...) to c, bound to f; json_help says what
// --json prints on this subcommand.
void add_common_flags(CLI::App* c, CommonFlags& f, unsigned which, const std::string& json_help = "print JSON");
// --seed, bound to the command's own variable (the defaults differ); `what` says what it seeds.
CLI::Option* add_seed_flag(CLI::App* c, uint64_t& seed, const std::string& what);

// ---- models and configs -----------------------------------------------------------------
// --model takes a model folder; DIR/config.json (or any file in it) means DIR.
std::string model_dir(const std::string& spec);
// A preset name, a path to a config.json, or a model folder (its config.json).
bert::BertConfig resolve_config(const std::string& spec);
using bert::new_model;           // bert/checkpoint.h
using bert::is_distilbert_spec;
// "pretrain", "mlm", "nsp", "classify", "ner", "qa" -> the head
bert::Task task_from_cli(const std::string& name);
// 109482240 -> "109,482,240"
std::string with_commas(int64_t n);

// A file shipped in the repository's data/ folder, looked up in $BERTLAB_DATA, then beside
// the executable (<exe>/../data, <exe>/../../data), then ./data. Throws listing where it looked.
std::string find_data_file(const std::string& relative);
// data/vocab/bert-base-{uncased,cased}-vocab.txt
std::string default_vocab(bool cased = false);

// ---- batch prediction from files (--input / --output) -----------------------------------
// One line of input: its 1-based line number and its text (without "\n" or "\r").
struct InputLine {
  int64_t line = 0;
  std::string text;
};
// Reads a file ("-": standard input) one batch of lines at a time, so memory stays bounded by
// the batch however long the file is.
class LineReader {
 public:
  explicit LineReader(const std::string& path);
  // The next up to n lines; empty at the end of the input.
  std::vector<InputLine> next(size_t n);
  const std::string& name() const { return name_; }  // "stdin" or the path, for messages

 private:
  std::unique_ptr<std::istream> file_;
  std::istream* in_;
  std::string name_;
  int64_t line_ = 0;
};
// Where results go: standard output ("" or "-"), or a file written to a temporary name and
// renamed over the target only once every record is written (bert::AtomicFile).
class Output {
 public:
  explicit Output(const std::string& path);
  void write_line(const std::string& s);  // s + "\n"
  void flush();                           // stdout: what is written so far goes out now
  void commit();                          // the file appears (stdout: flushed)

 private:
  std::unique_ptr<bert::AtomicFile> file_;
};
// True when a line holds nothing but spaces and tabs.
bool is_blank(const std::string& s);

// Batch prediction: reads `input` ("-": stdin) `batch_size` lines at a time, calls `predict`
// with the batch's non-blank lines, and writes one JSON line per input line to `output` ("" or
// "-": stdout; a file appears only when all of it is written):
//   {"line": 3, "text": "a gorgeous film", ...the object predict returned for it}
//   {"line": 4, "text": "", "empty": true}          (a blank line: no prediction)
// so that record i is line i of the input. `text_key` names the field holding the line ("" for
// none: predict writes its own, as qa does). Returns the number of lines read.
using BatchPredictor = std::function<std::vector<nlohmann::json>(const std::vector<InputLine>& lines)>;
int64_t predict_lines(const std::string& input, const std::string& output, int64_t batch_size,
                      const BatchPredictor& predict, const std::string& text_key = "text");
// Adds --input and --output to a predict/embed subcommand.
void add_file_flags(CLI::App* c, std::string& input, std::string& output);

}  // namespace bertlab::cli
