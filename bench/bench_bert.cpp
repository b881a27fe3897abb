// bench/bench_bert.cpp — whole-model timings: bert-base and distilbert-base forward (inference,
// no graph) at batch 1 x 128 and 8 x 128 tokens, and one bert-mini and one bert-base training step
// (forward, backward, AdamW) at 32 x 128, random init; and the encoder's GEMMs alone at bert-base shapes. tools/bench_vs_torch.py runs this and PyTorch on the
// same shapes with the same threads and prints the ratios.
//
//   ./build/bench/bench_bert --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// BERTLAB_BENCH_DTYPE=bfloat16 runs every benchmark under bfloat16 autocast (autograd/autocast.h),
// as `--dtype bfloat16` does; the default is float32.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "autograd/openmp_env.h"

#include "autograd/autocast.h"
#include "autograd/graph.h"
#include "bert/distilbert/model.h"
#include "bert/heads.h"
#include "nn/optim.h"
#include "ops/ops.h"

using namespace bertlab;
using namespace bertlab::bert;

namespace {

DType bench_dtype() {
  const char* v = std::getenv("BERTLAB_BENCH_DTYPE");
  return parse_compute_dtype(v ? v : "float32", "BERTLAB_BENCH_DTYPE");
}

BertInputs random_batch(int64_t B, int64_t T, int64_t vocab, Generator& g) {
  BertInputs in;
  in.input_ids = randint({B, T}, g, 0, vocab);
  in.attention_mask = ones({B, T}, DType::Int64);
  in.token_type_ids = zeros({B, T}, DType::Int64);
  return in;
}

void BM_bert_base_forward(benchmark::State& st) {
  AutocastGuard ac(bench_dtype());
  const int64_t B = st.range(0), T = 128;
  BertConfig c = BertConfig::preset("bert-base");
  Generator g(0);
  BertModel model(c);
  init_bert_weights(model, c.initializer_range, g);
  model.eval();
  BertInputs in = random_batch(B, T, c.vocab_size, g);
  NoGradGuard ng;
  for (auto _ : st) {
    BertOutputs o = model.forward(in.input_ids, in.attention_mask, in.token_type_ids);
    benchmark::DoNotOptimize(o.last_hidden_state.raw_data());
  }
  st.counters["tokens/s"] = benchmark::Counter((double)(B * T), benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(std::to_string(B) + "x" + std::to_string(T));
}

// distilbert-base-uncased forward (6 layers of bert-base's width), the same batch: the ratio to
// BM_bert_base_forward is what DistilBERT's "60% faster" comes to here.
void BM_distilbert_base_forward(benchmark::State& st) {
  AutocastGuard ac(bench_dtype());
  const int64_t B = st.range(0), T = 128;
  const DistilBertConfig c = DistilBertConfig::preset("distilbert-base-uncased");
  Generator g(0);
  DistilBertModel model(c);
  init_distilbert_weights(model, c, g);
  model.eval();
  BertInputs in = random_batch(B, T, c.shared.vocab_size, g);
  NoGradGuard ng;
  for (auto _ : st) {
    BertOutputs o = model.forward(in.input_ids, in.attention_mask);
    benchmark::DoNotOptimize(o.last_hidden_state.raw_data());
  }
  st.counters["tokens/s"] = benchmark::Counter((double)(B * T), benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(std::to_string(B) + "x" + std::to_string(T));
}

// Only the 72 GEMMs of the bert-base encoder (12 layers x query, key, value, attention output,
// FFN in, FFN out), with the model's own weights and bias, at B*128 rows: the share of a forward
// pass that is OpenBLAS's, to set beside the same GEMMs in PyTorch (tools/bench_vs_torch.py).
void BM_bert_base_linears(benchmark::State& st) {
  AutocastGuard ac(bench_dtype());
  const int64_t B = st.range(0), T = 128;
  BertConfig c = BertConfig::preset("bert-base");
  Generator g(0);
  BertModel model(c);
  init_bert_weights(model, c.initializer_range, g);
  std::vector<std::pair<Tensor, Tensor>> layers;  // (weight [out, in], bias [out])
  const auto params = model.named_parameters();
  for (const auto& [name, w] : params) {
    if (name.rfind("encoder.", 0) != 0 || w.dim() != 2) continue;
    const std::string bias_name = name.substr(0, name.size() - 6) + "bias";  // "...weight" -> "...bias"
    for (const auto& [n2, b] : params)
      if (n2 == bias_name) layers.emplace_back(w, b);
  }
  if (layers.size() != 72) {
    st.SkipWithError("expected 72 encoder linears");
    return;
  }
  Tensor x768 = randn({B * T, c.hidden_size}, g), x3072 = randn({B * T, c.intermediate_size}, g);
  NoGradGuard ng;
  for (auto _ : st)
    for (const auto& [w, b] : layers) {
      Tensor y = linear(w.size(1) == c.hidden_size ? x768 : x3072, w, b);
      benchmark::DoNotOptimize(y.raw_data());
    }
  st.SetLabel(std::to_string(B) + "x" + std::to_string(T));
}

// One training step of BertForMaskedLM (forward, backward, AdamW) at 32 x 128, random init.
void train_step(benchmark::State& st, const char* preset) {
  AutocastGuard ac(bench_dtype());
  const int64_t B = 32, T = 128;
  BertConfig c = BertConfig::preset(preset);
  Generator g(0);
  BertForMaskedLM model(c);
  model.init_weights(g);
  model.train();
  BertInputs in = random_batch(B, T, c.vocab_size, g);
  in.labels = randint({B, T}, g, 0, c.vocab_size);
  nn::AdamW opt(nn::decay_groups(model, 0.01), 1e-4);
  for (auto _ : st) {
    opt.zero_grad();
    Tensor loss = model.forward(in).loss;
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss.raw_data());
  }
  st.counters["tokens/s"] = benchmark::Counter((double)(B * T), benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(std::string(preset) + " 32x128");
}
void BM_bert_mini_train_step(benchmark::State& st) { train_step(st, "bert-mini"); }
void BM_bert_base_train_step(benchmark::State& st) { train_step(st, "bert-base"); }

}  // namespace

BENCHMARK(BM_bert_base_forward)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_distilbert_base_forward)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_bert_base_linears)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_bert_mini_train_step)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_bert_base_train_step)->Unit(benchmark::kMillisecond)->UseRealTime();
int main(int argc, char** argv) {
  bertlab::prefer_passive_openmp(argv);  // autograd/openmp_env.h
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
