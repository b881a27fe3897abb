// bench/bench_tokenizer.cpp — single-thread tokenizer throughput (MB/s of UTF-8 in, tokens/s
// out) on SST-2 train and WikiText-2, plus batch encoding on all cores; full encodings (ids,
// types, masks, offsets in code points, word ids) as BertTokenizerFast returns them.
//
//   build-tok/bench/bench_tokenizer                      (from the repository root)
//   build-tok/bench/bench_tokenizer --encode-file=F [--cased] [--ids-out=G] [--repeat=N]
//       encodes each line of F one by one on one thread, prints {"seconds":..., "bytes":...,
//       "tokens":...} for the best of N runs and writes the ids, one line per input, to G:
//       bench/tokenizer_vs_hf.py uses this mode to compare with HF tokenizers in one run.
// Before timing, each benchmark checks the REFERENCE.md example and a batch against one-by-one.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tokenizer/bert_tokenizer.h"

namespace tk = bertlab::tokenizer;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open (run from the repository root)");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split(const std::string& text, const std::string& sep) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(sep, pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos) out.push_back(text.substr(pos, end - pos));
    pos = end + sep.size();
  }
  return out;
}

const std::vector<std::string>& sst2_train() {
  static const std::vector<std::string> s = [] {
    std::vector<std::string> out;
    const auto rows = split(read_file("data/sst2/train.tsv"), "\n");
    for (std::size_t i = 1; i < rows.size(); ++i) out.push_back(rows[i].substr(0, rows[i].find('\t')));
    return out;
  }();
  return s;
}

const std::vector<std::string>& wikitext() {
  static const std::vector<std::string> s = split(read_file("data/wikitext2/wiki.test.raw"), "\r\n");
  return s;
}

const tk::BertTokenizer& uncased() {
  static const tk::BertTokenizer t("data/vocab/bert-base-uncased-vocab.txt");
  return t;
}

void check_tokenizer(benchmark::State& state) {
  const tk::Encoding e = uncased().encode("The cat sat on the mat.");
  if (e.ids != std::vector<tk::TokenId>{101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102}) {
    state.SkipWithError("tokenizer gives wrong ids for the REFERENCE.md sentence");
  }
}

void encode_all(benchmark::State& state, const std::vector<std::string>& lines) {
  check_tokenizer(state);
  std::size_t bytes = 0, tokens = 0;
  for (const auto& l : lines) bytes += l.size();
  for (auto _ : state) {
    tokens = 0;
    for (const auto& l : lines) {
      const tk::Encoding e = uncased().encode(l);
      tokens += e.size();
      benchmark::DoNotOptimize(e.ids.data());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["lines"] = static_cast<double>(lines.size());
}

void BM_encode_sst2_train(benchmark::State& state) { encode_all(state, sst2_train()); }
void BM_encode_wikitext2(benchmark::State& state) { encode_all(state, wikitext()); }

void BM_encode_batch_sst2_train_all_cores(benchmark::State& state) {
  check_tokenizer(state);
  const auto& lines = sst2_train();
  const auto batch = uncased().encode_batch(lines);
  for (std::size_t i = 0; i < lines.size(); i += 997) {
    if (batch[i].ids != uncased().encode(lines[i]).ids) state.SkipWithError("batch differs from one-by-one");
  }
  std::size_t bytes = 0, tokens = 0;
  for (const auto& l : lines) bytes += l.size();
  for (const auto& e : batch) tokens += e.size();
  for (auto _ : state) {
    auto out = uncased().encode_batch(lines);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_encode_sst2_train)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_encode_wikitext2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_encode_batch_sst2_train_all_cores)->Unit(benchmark::kMillisecond)->UseRealTime();

// --encode-file mode (see the header).
int encode_file(const std::string& path, bool cased, const std::string& ids_out, int repeat) {
  tk::TokenizerOptions o;
  o.do_lower_case = !cased;
  const tk::BertTokenizer tok(cased ? "data/vocab/bert-base-cased-vocab.txt" : "data/vocab/bert-base-uncased-vocab.txt", o);
  std::vector<std::string> lines;
  {
    const std::string text = read_file(path);
    std::size_t pos = 0;
    while (pos < text.size()) {  // one input per line, like Python's str.split("\n")
      std::size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      lines.push_back(text.substr(pos, end - pos));
      pos = end + 1;
    }
  }
  std::size_t bytes = 0;
  for (const auto& l : lines) bytes += l.size();
  std::vector<tk::Encoding> out(lines.size());
  double best = 1e30;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < lines.size(); ++i) out[i] = tok.encode(lines[i]);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::size_t tokens = 0;
  for (const auto& e : out) tokens += e.size();
  if (!ids_out.empty()) {
    std::ofstream f(ids_out);
    for (const auto& e : out) {
      for (std::size_t k = 0; k < e.ids.size(); ++k) f << (k ? " " : "") << e.ids[k];
      f << '\n';
    }
  }
  std::printf("{\"seconds\": %.6f, \"bytes\": %zu, \"tokens\": %zu, \"lines\": %zu}\n", best, bytes, tokens, lines.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string file, ids_out;
  bool cased = false;
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.starts_with("--encode-file=")) file = a.substr(14);
    if (a.starts_with("--ids-out=")) ids_out = a.substr(10);
    if (a.starts_with("--repeat=")) repeat = std::stoi(a.substr(9));
    if (a == "--cased") cased = true;
  }
  if (!file.empty()) return encode_file(file, cased, ids_out, repeat);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
