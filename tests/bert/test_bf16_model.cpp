// tests/bert/test_bf16_model.cpp — whole BERT models under bfloat16 autocast.
//
// Forward: the small random BERTs of tests/data/bert_parity/ against transformers run under
// torch.autocast("cpu", dtype=torch.bfloat16) on the same weights and inputs
// (autocast_bf16.safetensors, tools/make_bf16_golden.py). The two do not round at the same
// places (PyTorch's autocast returns linear layers' outputs in bfloat16, bertlab keeps them
// float32), so they agree to bfloat16's precision, not bit for bit. Measured (2026-12-03,
// torch 2.15, transformers 5.24): hidden states (unit scale after LayerNorm) differ by at most
// 1.6e-4 from transformers' autocast, and each is about as far (1.2e-4 to 2.1e-4) from its own
// float32 result; the test allows 1e-3. A forward that did not round at all would be within
// that too, so the test also requires bertlab's bf16 result to differ from its float32 one by
// more than 1e-5 after the first layer.
//
// Training: one step's loss and gradients in bfloat16 against float32 (both bertlab): loss
// within 0.1% relative of float32 and of transformers' autocast loss (measured: 4e-6 and 3.5e-5),
// the gradient of the whole model (all parameters as one vector) at cosine >= 0.999 (measured
// 0.999995), each weight matrix's at >= 0.999 (lowest measured 0.99997).
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/autocast.h"
#include "bert/checkpoint.h"
#include "bert/safetensors.h"
#include "ops/ops.h"
#include "tests/gradcheck.h"

using namespace bertlab;
using namespace bertlab::bert;
using bertlab::testing::allclose;

namespace {

const std::string kRoot = "tests/data/bert_parity/";

double max_abs_diff(const Tensor& a, const Tensor& b) {
  std::vector<double> x = a.tolist<double>(), y = b.tolist<double>();
  REQUIRE(x.size() == y.size());
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::fabs(x[i] - y[i]));
  return m;
}

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

}  // namespace

TEST_CASE("BertModel under bfloat16 autocast agrees with transformers under torch.autocast") {
  safetensors::File e(kRoot + "BertModel/expected.safetensors");
  safetensors::File a(kRoot + "BertModel/autocast_bf16.safetensors");
  auto model = bert_model_from_pretrained(kRoot + "BertModel");
  model->eval();
  NoGradGuard ng;
  ForwardOptions opt;
  opt.output_hidden_states = true;
  BertOutputs o32 = model->forward(e.load("input_ids"), e.load("attention_mask"), e.load("token_type_ids"), opt);
  BertOutputs o16;
  {
    AutocastGuard ac(DType::BFloat16);
    o16 = model->forward(e.load("input_ids"), e.load("attention_mask"), e.load("token_type_ids"), opt);
  }
  REQUIRE(o16.hidden_states.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    const std::string k = "hidden_states." + std::to_string(i);
    const double d_hf = max_abs_diff(o16.hidden_states[i], a.load(k, DType::Float32));
    const double d_32 = max_abs_diff(o16.hidden_states[i], o32.hidden_states[i]);
    const double hf_self = max_abs_diff(a.load(k, DType::Float32), e.load(k));
    MESSAGE(k << ": |bertlab bf16 - HF autocast| " << d_hf << ", |bertlab bf16 - bertlab fp32| " << d_32
              << ", |HF autocast - HF fp32| " << hf_self);
    CHECK(d_hf <= 1e-3);
    if (i > 0) CHECK(d_32 > 1e-5);  // the layers' GEMMs really ran in bfloat16 (the embeddings have none)
  }
  CHECK(max_abs_diff(o16.pooler_output, a.load("out.pooler_output", DType::Float32)) <= 1e-3);
  CHECK(max_abs_diff(o16.last_hidden_state, a.load("out.last_hidden_state", DType::Float32)) <= 1e-3);
}

TEST_CASE("a BertForPreTraining step in bfloat16: loss and gradients against float32") {
  safetensors::File e(kRoot + "BertForPreTraining/expected.safetensors");
  safetensors::File a(kRoot + "BertForPreTraining/autocast_bf16.safetensors");
  BertInputs in;
  in.input_ids = e.load("input_ids");
  in.attention_mask = e.load("attention_mask");
  in.token_type_ids = e.load("token_type_ids");
  in.labels = e.load("label.labels");
  in.next_sentence_label = e.load("label.next_sentence_label");
  auto grads = [&](DType t, double& loss) {
    auto model = from_pretrained(kRoot + "BertForPreTraining", Task::PreTraining);
    model->eval();
    AutocastGuard ac(t);
    ModelOutput o = model->forward(in);
    loss = o.loss.item();
    o.loss.backward();
    std::vector<std::pair<std::string, std::vector<double>>> g;
    for (auto& [n, p] : model->named_parameters()) g.push_back({n, p.grad().tolist<double>()});
    return g;
  };
  double l32 = 0, l16 = 0;
  auto g32 = grads(DType::Float32, l32), g16 = grads(DType::BFloat16, l16);
  const double hf16 = a.load("loss", DType::Float64).item();
  MESSAGE("loss: float32 " << l32 << ", bfloat16 " << l16 << ", transformers under autocast " << hf16);
  CHECK(std::fabs(l16 - l32) <= 1e-3 * std::fabs(l32));
  CHECK(std::fabs(l16 - hf16) <= 1e-3 * std::fabs(hf16));
  CHECK(l16 != l32);
  REQUIRE(g32.size() == g16.size());
  std::vector<double> all32, all16;
  double worst = 1;
  std::string worst_name;
  for (size_t i = 0; i < g32.size(); ++i) {
    all32.insert(all32.end(), g32[i].second.begin(), g32[i].second.end());
    all16.insert(all16.end(), g16[i].second.begin(), g16[i].second.end());
    if (g32[i].first.find("weight") == std::string::npos || g32[i].first.find("LayerNorm") != std::string::npos)
      continue;
    const double c = cosine(g32[i].second, g16[i].second);
    if (c < worst) worst = c, worst_name = g32[i].first;
    CHECK_MESSAGE(c >= 0.999, g32[i].first << ": cosine " << c);
  }
  const double c_all = cosine(all32, all16);
  MESSAGE("gradient cosine, whole model: " << c_all << "; lowest weight matrix: " << worst_name << " " << worst);
  CHECK(c_all >= 0.999);
}
