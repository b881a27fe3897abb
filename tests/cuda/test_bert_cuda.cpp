// tests/cuda/test_bert_cuda.cpp — whole BERT training steps on the GPU against the CPU.
//
// The small BertForPreTraining of tests/data/bert_parity (2 layers, hidden 32, 4 heads, vocab
// 128; weights and a padded batch of text pairs with MLM and NSP labels, made by
// tools/make_bert_golden.py) runs forward, backward and AdamW on both devices from the same
// weights, in training mode: dropout draws the same Philox masks on both devices when the
// default generator is reseeded alike, so the two runs compute the same function. TF32 is off.
//   - float32, one step: the loss within 1e-4, every gradient within 1e-4 + 1e-3 |g|;
//   - three AdamW steps: every parameter within 1e-4, in float64 (as tests/bert/test_parity.cpp
//     does against PyTorch) and in float32 at a small learning rate. Adam divides each
//     gradient by its own magnitude, so an analytically zero gradient (the attention key bias:
//     softmax ignores a constant added to a row) whose float32 rounding noise differs between
//     the devices moves its parameter by up to lr per step on either side; at lr 1e-5 three
//     such steps stay inside 1e-4, at 1e-3 they would not;
//   - the fused attention kernel on the GPU against the composed ops on the CPU: the same
//     loss and gradients.
// This executable has its own main(): without a GPU it prints "SKIP: no CUDA device" and
// exits 77, which meson reports as SKIP. Compiled with -DBERTLAB_TEST_DEVICE_CPU it runs the
// CPU against itself (a dry run of the test's own logic, as tests/cuda/cuda_helpers.h explains).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <map>

#include "bert/attention.h"
#include "bert/checkpoint.h"
#include "bert/safetensors.h"
#include "cuda/cuda.h"
#include "cuda/gemm.h"
#include "nn/optim.h"
#include "ops/ops.h"
#include "tests/cuda/cuda_helpers.h"
#include "tests/gradcheck.h"

using namespace bertlab;
using namespace bertlab::bert;
using testing::kGpu;

int main(int argc, char** argv) {
  if (testing::kDryRun) {
    std::printf("DRY RUN: the CPU against itself (built with BERTLAB_TEST_DEVICE_CPU)\n");
  } else if (!cuda::available()) {
    std::string why;
    try {
      cuda::require("test_bert_cuda");
    } catch (const Error& e) {
      why = e.what();
    }
    std::printf("SKIP: no CUDA device (%s)\n", why.c_str());
    return 77;
  } else {
    std::printf("CUDA device: %s\n", cuda::device_name().c_str());
  }
  cuda::set_allow_tf32(false);
  doctest::Context ctx(argc, argv);
  const int res = ctx.run();
  try {
    cuda::synchronize();
  } catch (const Error& e) {
    std::printf("after the tests: %s\n", e.what());
    return 1;
  }
  return res;
}

namespace {

const std::string kDir = "tests/data/bert_parity/BertForPreTraining";

BertInputs batch(Device d) {
  safetensors::File e(kDir + "/expected.safetensors");
  BertInputs in;
  in.input_ids = e.load("input_ids").to(d);
  in.attention_mask = e.load("attention_mask").to(d);
  in.token_type_ids = e.load("token_type_ids").to(d);
  in.labels = e.load("label.labels").to(d);
  in.next_sentence_label = e.load("label.next_sentence_label").to(d);
  return in;
}

std::shared_ptr<BertPreTrainedModel> model_on(Device d, DType t) {
  auto m = bert_from_pretrained(kDir, Task::PreTraining);
  m->to(t);
  m->to(d);
  m->train();  // dropout on: the same masks on both devices
  return m;
}

std::map<std::string, Tensor> params_of(const nn::Module& m) {
  std::map<std::string, Tensor> p;
  for (auto& [n, t] : m.named_parameters()) p[n] = t;
  return p;
}

#define CHECK_NEAR_T(got, ref, atol, rtol, what)                 \
  do {                                                           \
    auto r_ = testing::allclose(got, ref, atol, rtol);           \
    INFO(what << ": " << r_.message);                            \
    CHECK(r_.ok);                                                \
  } while (0)

// Runs `steps` AdamW steps (lr, weight decay 0.01 as decay_groups makes them) on a fresh
// model on device d; returns the losses. The default generator is reseeded first, so the
// dropout masks depend on the step only.
std::vector<double> train(BertPreTrainedModel& m, const BertInputs& in, int steps, double lr) {
  manual_seed(1234);
  nn::AdamW opt(nn::decay_groups(m, 0.01), lr);
  std::vector<double> losses;
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    Tensor loss = m.forward(in).loss;
    loss.backward();
    opt.step();
    losses.push_back(loss.item());
  }
  return losses;
}

}  // namespace

TEST_CASE("one BERT pretraining step on the GPU matches the CPU: loss and every gradient (float32)") {
  auto cpu = model_on(Device::CPU, DType::Float32), gpu = model_on(kGpu, DType::Float32);
  manual_seed(77);
  Tensor lc = cpu->forward(batch(Device::CPU)).loss;
  manual_seed(77);
  Tensor lg = gpu->forward(batch(kGpu)).loss;
  REQUIRE(lg.device() == kGpu);
  INFO("loss: CPU " << lc.item() << ", GPU " << lg.item());
  CHECK(std::fabs(lg.item() - lc.item()) <= 1e-4);
  lc.backward();
  lg.backward();
  auto pc = params_of(*cpu), pg = params_of(*gpu);
  REQUIRE(pc.size() == pg.size());
  int compared = 0;
  for (auto& [name, p] : pc) {
    REQUIRE(p.grad().defined() == pg[name].grad().defined());
    if (!p.grad().defined()) continue;
    CHECK_NEAR_T(pg[name].grad(), p.grad(), 1e-4, 1e-3, "gradient of " << name);
    ++compared;
  }
  CHECK(compared > 30);
}

TEST_CASE("three AdamW steps on the GPU leave the parameters the CPU's within 1e-4") {
  BertInputs in_c = batch(Device::CPU), in_g = batch(kGpu);
  struct Run {
    DType t;
    double lr;
  };
  for (Run r : {Run{DType::Float64, 1e-3}, Run{DType::Float32, 1e-5}}) {
    CAPTURE(dtype_name(r.t));
    auto cpu = model_on(Device::CPU, r.t), gpu = model_on(kGpu, r.t);
    std::vector<double> lc = train(*cpu, in_c, 3, r.lr), lg = train(*gpu, in_g, 3, r.lr);
    for (int s = 0; s < 3; ++s) {
      INFO("step " << s + 1 << ": CPU loss " << lc[s] << ", GPU loss " << lg[s]);
      CHECK(std::fabs(lg[s] - lc[s]) <= 1e-4);
    }
    auto pc = params_of(*cpu), pg = params_of(*gpu);
    for (auto& [name, p] : pc) CHECK_NEAR_T(pg[name], p, 1e-4, 0, "parameter after three steps: " << name);
  }
}

TEST_CASE("the fused attention kernel in a GPU training step matches the composed ops on the CPU") {
  auto cpu = model_on(Device::CPU, DType::Float32), gpu = model_on(kGpu, DType::Float32);
  manual_seed(78);
  Tensor lc = cpu->forward(batch(Device::CPU)).loss;
  set_fused_attention(true);
  manual_seed(78);
  Tensor lg;
  try {
    lg = gpu->forward(batch(kGpu)).loss;
  } catch (...) {
    set_fused_attention(false);
    throw;
  }
  set_fused_attention(false);
  INFO("loss: CPU " << lc.item() << ", GPU fused " << lg.item());
  CHECK(std::fabs(lg.item() - lc.item()) <= 1e-4);
  lc.backward();
  lg.backward();
  auto pc = params_of(*cpu), pg = params_of(*gpu);
  for (auto& [name, p] : pc) {
    if (!p.grad().defined()) continue;
    CHECK_NEAR_T(pg[name].grad(), p.grad(), 1e-4, 1e-3, "gradient of " << name);
  }
}
