// bench/bench_cuda_bert.cpp — one BERT pretraining step on the GPU: BertForPreTraining
// forward (MLM + NSP losses), backward and AdamW, random init, fp32, batch 32 x 128 by
// default. tools/gpu_bench_e2e.py runs this next to PyTorch + transformers' BertForPreTraining
// on the same shapes and prints sequences per second, the ratio and the model FLOPs
// utilisation.
//
// Flags of its own (the rest go to Google Benchmark):
//   --model=bert-base   a preset of BertConfig::preset (bert-tiny ... bert-large)
//   --batch=32 --seq=128
//   --tf32              TF32 tensor cores for the float32 GEMMs (cuda::set_allow_tf32)
//   --fused_attention   the fused attention kernel instead of the composed ops
//                       (bert::set_fused_attention)
//   --clip=1.0          clip the gradients to this global norm first (0: no clipping), with
//                       the device-side clip_grad_norm_tensor, as a training loop would
//   --sync_index_checks the embedding / cross-entropy index checks wait for their answer (the
//                       library's default); without it they are deferred (cuda/index.h), so the
//                       step has no host-device synchronisation at all, like PyTorch's
//   --masked_only       the step `bertlab pretrain` takes (bert::pretraining_loss): the MLM head
//                       (transform + 30522-way decoder + cross-entropy) on the labelled
//                       positions only (about 15%), the loss and gradients unchanged; without
//                       it, on every position as transformers' BertForPreTraining does
//   --profile_steps=N   no Google Benchmark: after the warm-up, N steps between
//                       cuda::profiler_start/stop (for ncu --profile-from-start off), then
//                       "profile: N steps, X ms/step (wall)" (tools/gpu_profile.py)
// Each iteration ends with cuda::synchronize(), so the wall time per iteration is the step's
// time on the GPU; three untimed steps come first (cuBLAS heuristics, the caching allocator
// filling up). Counters: seq/s, tokens/s, peak device memory in MB.
//
//   ./build-gpu/bench/bench_cuda_bert --tf32 --benchmark_min_time=5 --benchmark_format=json
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "autograd/graph.h"
#include "bert/attention.h"
#include "bert/heads.h"
#include "bert/pretrain.h"
#include "cuda/cuda.h"
#include "cuda/gemm.h"
#include "cuda/index.h"
#include "nn/optim.h"
#include "ops/ops.h"

using namespace bertlab;
using namespace bertlab::bert;

namespace {

struct Options {
  std::string model = "bert-base";
  int64_t batch = 32, seq = 128;
  bool tf32 = false, fused_attention = false, sync_index_checks = false, masked_only = false;
  double clip = 0.0;
  int profile_steps = 0;
};
Options g_opt;

// Random pretraining inputs: token ids, full attention, two segments, 15% of positions with
// an MLM label (the rest -100), a random NSP label.
BertInputs random_batch(int64_t B, int64_t T, int64_t vocab, Generator& g) {
  BertInputs in;
  in.input_ids = randint({B, T}, g, 0, vocab);
  in.attention_mask = ones({B, T}, DType::Int64);
  std::vector<int64_t> types(B * T), labels(B * T, -100);
  std::vector<int64_t> ids = in.input_ids.tolist<int64_t>();
  std::vector<double> u = rand({B * T}, g, 0.0, 1.0, DType::Float64).tolist<double>();
  for (int64_t i = 0; i < B * T; ++i) {
    types[i] = (i % T) >= T / 2 ? 1 : 0;
    if (u[i] < 0.15) labels[i] = ids[i];
  }
  in.token_type_ids = from_vector(types, {B, T});
  in.labels = from_vector(labels, {B, T});
  in.next_sentence_label = randint({B}, g, 0, 2);
  return in;
}

BertInputs to_gpu(const BertInputs& in) {
  BertInputs o;
  o.input_ids = in.input_ids.to(Device::CUDA);
  o.attention_mask = in.attention_mask.to(Device::CUDA);
  o.token_type_ids = in.token_type_ids.to(Device::CUDA);
  o.labels = in.labels.to(Device::CUDA);
  o.next_sentence_label = in.next_sentence_label.to(Device::CUDA);
  return o;
}

void BM_bert_pretrain_step_cuda(benchmark::State& st) {
  const Options& o = g_opt;
  BertConfig c = BertConfig::preset(o.model);
  Generator g(0);
  BertForPreTraining model(c);
  model.init_weights(g);
  model.to(Device::CUDA);
  model.train();
  const BertInputs host = random_batch(o.batch, o.seq, c.vocab_size, g);
  BertInputs in = to_gpu(host);
  // the same batch as bertlab pretrain hands it over: the labelled positions listed on the host
  PretrainBatch pb;
  {
    std::vector<int64_t> labels = host.labels.tolist<int64_t>(), positions, targets;
    for (size_t i = 0; i < labels.size(); ++i)
      if (labels[i] != -100) positions.push_back((int64_t)i), targets.push_back(labels[i]);
    pb.input_ids = in.input_ids, pb.attention_mask = in.attention_mask, pb.token_type_ids = in.token_type_ids;
    pb.labels = in.labels, pb.next_sentence_label = in.next_sentence_label;
    pb.masked = (int64_t)positions.size();
    pb.masked_positions = from_vector(positions, {pb.masked}).to(Device::CUDA);
    pb.masked_labels = from_vector(targets, {pb.masked}).to(Device::CUDA);
  }
  nn::AdamW opt(nn::decay_groups(model, 0.01), 1e-4);
  std::vector<Tensor> params;
  for (auto& [name, p] : model.named_parameters())
    if (p.requires_grad()) params.push_back(p);

  auto step = [&] {
    opt.zero_grad();
    Tensor loss = o.masked_only ? pretraining_loss(model, pb).loss : model.forward(in).loss;
    loss.backward();
    if (o.clip > 0) nn::clip_grad_norm_tensor(params, o.clip);
    opt.step();
    return loss;
  };
  double first_loss = 0;
  for (int i = 0; i < 3; ++i) {
    Tensor l = step();
    if (i == 0) first_loss = l.item();
  }
  cuda::synchronize();
  if (o.profile_steps > 0) {
    cuda::profiler_start();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < o.profile_steps; ++i) step();
    cuda::synchronize();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    cuda::profiler_stop();
    std::printf("profile: %d steps, %.3f ms/step (wall), first loss %.4f\n", o.profile_steps, ms / o.profile_steps,
                first_loss);
    st.SkipWithError("profile run");  // not a benchmark result
    return;
  }
  for (auto _ : st) {
    step();
    cuda::synchronize();
  }
  const double B = (double)o.batch;
  st.counters["seq/s"] = benchmark::Counter(B, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["tokens/s"] = benchmark::Counter(B * (double)o.seq, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["params"] = (double)model.num_parameters();
  st.counters["peak_MB"] = (double)cuda::allocator_stats().peak_allocated * 1e-6;
  st.counters["first_loss"] = first_loss;
  st.SetLabel(o.model + " " + std::to_string(o.batch) + "x" + std::to_string(o.seq) + (o.tf32 ? " tf32" : " fp32") +
              (o.fused_attention ? " fused-attention" : "") + (o.clip > 0 ? " clip" : "") + (o.masked_only ? " masked-only" : "") +
              (o.sync_index_checks ? " sync-index-checks" : ""));
}

// Takes our flags out of argv (Google Benchmark rejects flags it does not know).
void parse_flags(int& argc, char** argv) {
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      const std::string pre = std::string(name) + "=";
      return a.rfind(pre, 0) == 0 ? argv[i] + pre.size() : nullptr;
    };
    if (a == "--tf32") g_opt.tf32 = true;
    else if (a == "--fused_attention") g_opt.fused_attention = true;
    else if (a == "--sync_index_checks") g_opt.sync_index_checks = true;
    else if (a == "--masked_only") g_opt.masked_only = true;
    else if (const char* v = value("--model")) g_opt.model = v;
    else if (const char* v = value("--batch")) g_opt.batch = std::atoll(v);
    else if (const char* v = value("--seq")) g_opt.seq = std::atoll(v);
    else if (const char* v = value("--clip")) g_opt.clip = std::atof(v);
    else if (const char* v = value("--profile_steps")) g_opt.profile_steps = std::atoi(v);
    else argv[out++] = argv[i];
  }
  argc = out;
}

}  // namespace

int main(int argc, char** argv) {
  parse_flags(argc, argv);
  if (!cuda::available()) {
    std::printf("SKIP: no CUDA device\n");
    return 77;
  }
  cuda::set_allow_tf32(g_opt.tf32);
  set_fused_attention(g_opt.fused_attention);
  cuda::set_deferred_index_checks(!g_opt.sync_index_checks);
  benchmark::RegisterBenchmark("BM_bert_pretrain_step_cuda", BM_bert_pretrain_step_cuda)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
