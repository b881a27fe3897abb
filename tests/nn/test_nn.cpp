// tests/nn/test_nn.cpp — Module registration and state dicts, layers, optimizers, schedules
// and clipping, the last against PyTorch / transformers (tests/data/nn_golden.json).
#include <doctest/doctest.h>

#include "nn/layers.h"
#include "nn/optim.h"
#include "ops/ops.h"
#include "tests/golden.h"
#include "tests/gradcheck.h"

using namespace bertlab;
using namespace bertlab::nn;
using bertlab::testing::allclose;
using bertlab::testing::tensor_from_json;

namespace {
struct Block : Module {
  std::shared_ptr<Linear> query;
  std::shared_ptr<LayerNorm> norm;
  Block() {
    query = register_module("query", std::make_shared<Linear>(4, 4));
    norm = register_module("LayerNorm", std::make_shared<LayerNorm>(4));
  }
};
struct Net : Module {
  std::shared_ptr<Embedding> emb;
  std::shared_ptr<ModuleList<Block>> layer;
  std::shared_ptr<Linear> decoder;
  explicit Net(bool tie) {
    emb = register_module("emb", std::make_shared<Embedding>(10, 4));
    layer = register_module("layer", std::make_shared<ModuleList<Block>>());
    for (int i = 0; i < 2; ++i) layer->push_back(std::make_shared<Block>());
    decoder = register_module("decoder", std::make_shared<Linear>(4, 10));
    if (tie) decoder->weight = decoder->register_parameter("tied", emb->weight);
  }
};
}  // namespace

TEST_CASE("named_parameters gives dotted names in registration order") {
  Net net(false);
  std::vector<std::string> names;
  for (auto& [n, _] : net.named_parameters()) names.push_back(n);
  CHECK(names == std::vector<std::string>{"emb.weight", "layer.0.query.weight", "layer.0.query.bias",
                                          "layer.0.LayerNorm.weight", "layer.0.LayerNorm.bias",
                                          "layer.1.query.weight", "layer.1.query.bias", "layer.1.LayerNorm.weight",
                                          "layer.1.LayerNorm.bias", "decoder.weight", "decoder.bias"});
  CHECK(net.num_parameters() == 40 + 2 * (16 + 4 + 4 + 4) + 40 + 10);
  CHECK(net.find_module("layer.1.query") == net.layer->operator[](1)->query);
  CHECK(net.find_module("layer.7") == nullptr);
}

TEST_CASE("a tied tensor counts once but appears under both names in the state dict") {
  Net net(true);
  int64_t untied = Net(false).num_parameters();
  CHECK(net.num_parameters() == untied);  // the alias "decoder.tied" is the same tensor as emb.weight
  auto sd = net.state_dict();
  int hits = 0;
  for (auto& [n, t] : sd)
    if (t.impl() == net.emb->weight.impl()) ++hits;
  CHECK(hits == 2);
}

TEST_CASE("freeze by prefix and count trainable parameters") {
  Net net(false);
  CHECK(net.freeze("layer.") == 8);
  CHECK(net.num_parameters(true) == 40 + 50);
  CHECK_FALSE(net.layer->operator[](0)->query->weight.requires_grad());
  net.freeze("layer.", false);
  CHECK(net.num_parameters(true) == net.num_parameters());
}

TEST_CASE("train and eval propagate to children") {
  Net net(false);
  net.eval();
  CHECK_FALSE(net.layer->operator[](1)->norm->is_training());
  net.train();
  CHECK(net.layer->operator[](1)->norm->is_training());
}

TEST_CASE("load_state_dict copies values and reports missing, unexpected and mismatched keys") {
  Net a(false), b(false);
  std::map<std::string, Tensor> sd;
  for (auto& [n, t] : a.state_dict()) sd[n] = t;
  b.load_state_dict(sd);
  CHECK(b.decoder->weight.tolist<float>() == a.decoder->weight.tolist<float>());
  sd.erase("decoder.bias");
  sd["extra.weight"] = zeros({1});
  LoadReport r = b.load_state_dict(sd, false);
  CHECK(r.missing == std::vector<std::string>{"decoder.bias"});
  CHECK(r.unexpected == std::vector<std::string>{"extra.weight"});
  CHECK_THROWS_WITH_AS(b.load_state_dict(sd), doctest::Contains("missing keys: decoder.bias"), Error);
  sd.erase("extra.weight");
  sd["decoder.bias"] = zeros({11});
  CHECK_THROWS_WITH_AS(b.load_state_dict(sd), doctest::Contains("'decoder.bias': the checkpoint has [11], the model expects [10]"),
                       Error);
}

TEST_CASE("layers compute what their ops compute") {
  Linear lin(3, 2);
  Tensor x = ones({5, 3});
  CHECK(lin.forward(x).shape() == Shape{5, 2});
  Embedding emb(7, 3);
  CHECK(emb.forward(from_vector(std::vector<int64_t>{1, 6}, {2})).shape() == Shape{2, 3});
  LayerNorm ln(3);
  Tensor y = ln.forward(from_vector(std::vector<float>{1, 2, 3}, {1, 3}));
  CHECK(y.tolist<float>()[0] == doctest::Approx(-1.2247449).epsilon(1e-5));
  Dropout d(0.5);
  d.eval();
  CHECK(d.forward(x).tolist<float>() == x.tolist<float>());
  CHECK_THROWS_WITH_AS(Linear(0, 3), doctest::Contains("Linear: features must be positive"), Error);
  CHECK_THROWS_WITH_AS(Dropout(1.5), doctest::Contains("Dropout: p must be in [0, 1]"), Error);
}

TEST_CASE("decay_groups exempt biases and LayerNorm weights, as Hugging Face scripts do") {
  Net net(false);
  auto groups = decay_groups(net, 0.01);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].weight_decay == 0.01);
  CHECK(groups[0].names == std::vector<std::string>{"emb.weight", "layer.0.query.weight", "layer.1.query.weight", "decoder.weight"});
  CHECK(groups[1].weight_decay == 0.0);
  CHECK(groups[1].names.size() == 7);
}

static void run_golden_optimizer(const std::string& which) {
  auto g = testing::read_json("tests/data/nn_golden.json");
  Tensor w = tensor_from_json(g["w0"]).set_requires_grad(), b = tensor_from_json(g["b0"]).set_requires_grad();
  std::vector<ParamGroup> groups = {{{w}, 0.01, {"w"}}, {{b}, 0.0, {"b"}}};
  std::unique_ptr<Optimizer> opt;
  if (which == "adamw") opt = std::make_unique<AdamW>(groups, 1e-2);
  else opt = std::make_unique<SGD>(groups, 1e-2, 0.9);
  Schedule sched(*opt, 1e-2, linear_warmup_decay(2, 5));
  std::vector<double> lrs;
  for (auto& step : g["grads"]) {
    w.set_grad(tensor_from_json(step["w"]));
    b.set_grad(tensor_from_json(step["b"]));
    lrs.push_back(opt->lr);
    opt->step();
    sched.step();
  }
  auto& ref = g[which];
  CHECK(lrs == ref["lrs"].get<std::vector<double>>());
  auto cw = allclose(w, tensor_from_json(ref["w"]), 1e-12, 1e-10);
  INFO(cw.message);
  CHECK(cw.ok);
  auto cb = allclose(b, tensor_from_json(ref["b"]), 1e-12, 1e-10);
  INFO(cb.message);
  CHECK(cb.ok);
}

TEST_CASE("AdamW with weight-decay groups and the linear schedule matches torch.optim.AdamW") {
  run_golden_optimizer("adamw");
}
TEST_CASE("SGD with momentum and weight decay matches torch.optim.SGD") { run_golden_optimizer("sgd"); }

TEST_CASE("schedules match transformers' get_linear / get_constant schedules with warmup") {
  auto g = testing::read_json("tests/data/nn_golden.json");
  Tensor p = zeros({1}).set_requires_grad();
  SGD opt({{{p}, 0.0, {"p"}}}, 1.0);
  auto check = [&](std::function<double(int64_t)> f, const std::vector<double>& ref) {
    Schedule s(opt, 1.0, f);
    for (size_t i = 0; i < ref.size(); ++i) {
      CHECK(opt.lr == doctest::Approx(ref[i]).epsilon(1e-15));
      s.step();
    }
  };
  check(linear_warmup_decay(3, 10), g["linear_schedule_warmup3_total10"].get<std::vector<double>>());
  check(constant_warmup(4), g["constant_schedule_warmup4"].get<std::vector<double>>());
}

TEST_CASE("clip_grad_norm returns the global norm and scales like torch") {
  auto g = testing::read_json("tests/data/nn_golden.json");
  Tensor w = zeros({3, 4}, DType::Float64).set_requires_grad(), b = zeros({4}, DType::Float64).set_requires_grad();
  w.set_grad(mul(tensor_from_json(g["grads"][0]["w"]), 3.0));
  b.set_grad(mul(tensor_from_json(g["grads"][0]["b"]), 3.0));
  double norm = clip_grad_norm({w, b}, 1.0);
  CHECK(norm == doctest::Approx(g["clip"]["norm"].get<double>()).epsilon(1e-12));
  CHECK(allclose(w.grad(), tensor_from_json(g["clip"]["w"]), 1e-12, 1e-10).ok);
  CHECK(allclose(b.grad(), tensor_from_json(g["clip"]["b"]), 1e-12, 1e-10).ok);
  // below the threshold nothing changes
  Tensor before = w.grad().clone();
  clip_grad_norm({w, b}, 100.0);
  CHECK(w.grad().tolist<double>() == before.tolist<double>());
}

TEST_CASE("module.to(cpu) keeps handles; optimizer state checks shapes") {
  Net net(false);
  Tensor h = net.decoder->weight;
  net.to(Device::CPU);
  CHECK(h.impl() == net.decoder->weight.impl());
  AdamW opt(decay_groups(net, 0.0), 1e-3);
  std::map<std::string, Tensor> st;
  for (auto& [n, t] : opt.state()) st[n] = t;
  st["decoder.weight.exp_avg"] = zeros({3});
  CHECK_THROWS_WITH_AS(opt.load_state(st), doctest::Contains("'decoder.weight.exp_avg' has shape [3]"), Error);
}
