// bert/cli/cmd_demo.cpp — `bertlab demo`: trains a two-layer MLP with the framework and
// prints the loss falling. The smallest end-to-end use of autograd: parameters are leaf
// tensors, the forward pass is ops, backward() fills .grad, and SGD with momentum updates
// them in place under NoGradGuard.
//
// Task: regress y = sin(3 x1) cos(2 x2) from points drawn uniformly in [-1, 1]^2.
#include <chrono>
#include <cmath>
#include <cstdio>

#include "bert/cli/commands.h"
#include "bert/cli/common.h"
#include "ops/ops.h"

namespace bertlab::cli {

namespace {

struct DemoOptions {
  int steps = 600;
  int hidden = 64;
  int batch = 256;
  double lr = 0.05;
  double momentum = 0.9;
  uint64_t seed = 0;
  int log_every = 50;
};

// A batch of inputs (N,2) and targets (N,1).
std::pair<Tensor, Tensor> make_batch(int n, Generator& g) {
  Tensor x = rand({n, 2}, g, -1.0, 1.0);
  std::vector<float> xs = x.tolist<float>(), ys(n);
  for (int i = 0; i < n; ++i) ys[i] = std::sin(3 * xs[2 * i]) * std::cos(2 * xs[2 * i + 1]);
  return {x, from_vector(ys, {n, 1})};
}

void run_demo(const DemoOptions& o) {
  Generator g(o.seed);
  // parameters: W1 (H,2), b1 (H), W2 (1,H), b2 (1); PyTorch's default Linear init range
  auto param = [&](Shape s, int fan_in) {
    double k = 1.0 / std::sqrt((double)fan_in);
    return rand(s, g, -k, k).set_requires_grad();
  };
  Tensor w1 = param({o.hidden, 2}, 2), b1 = param({o.hidden}, 2);
  Tensor w2 = param({1, o.hidden}, o.hidden), b2 = param({1}, o.hidden);
  std::vector<Tensor> params = {w1, b1, w2, b2}, velocity;
  for (auto& p : params) velocity.push_back(zeros_like(p));

  auto [x_eval, y_eval] = make_batch(2048, g);
  auto forward = [&](const Tensor& x) { return linear(tanh(linear(x, w1, b1)), w2, b2); };
  auto mse = [](const Tensor& a, const Tensor& b) { return mean(pow(a - b, 2.0)); };

  std::printf("bertlab demo: 2-layer MLP (2 -> %d -> 1, tanh), SGD lr %.3g momentum %.2g, batch %d, %d steps\n",
              o.hidden, o.lr, o.momentum, o.batch, o.steps);
  auto t0 = std::chrono::steady_clock::now();
  for (int step = 1; step <= o.steps; ++step) {
    auto [x, y] = make_batch(o.batch, g);
    Tensor loss = mse(forward(x), y);
    for (auto& p : params) p.zero_grad();
    loss.backward();
    {
      NoGradGuard ng;
      for (size_t i = 0; i < params.size(); ++i) {
        mul_(velocity[i], o.momentum);  // v = momentum v + grad;  p -= lr v
        add_(velocity[i], params[i].grad());
        add_(params[i], velocity[i], -o.lr);
      }
    }
    if (step == 1 || step % o.log_every == 0 || step == o.steps) {
      NoGradGuard ng;
      double eval = mse(forward(x_eval), y_eval).item();
      std::printf("step %4d  train loss %.5f  eval loss %.5f\n", step, loss.item(), eval);
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("done in %.2f s\n", secs);
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto opts = std::make_shared<DemoOptions>();
  auto* c = app.add_subcommand("demo", "train a two-layer MLP with bertlab's autograd and print the loss falling");
  c->add_option("--steps", opts->steps, "training steps")->check(at_least<int>(1))->capture_default_str();
  c->add_option("--hidden", opts->hidden, "hidden units")->check(in_range<int>(1, 1 << 16))->capture_default_str();
  c->add_option("--batch", opts->batch, "batch size")->check(in_range<int>(1, 1 << 20))->capture_default_str();
  c->add_option("--lr", opts->lr, "learning rate")->check(greater_than(0))->capture_default_str();
  c->add_option("--momentum", opts->momentum, "SGD momentum")->check(in_range<double>(0, 1))->capture_default_str();
  add_seed_flag(c, opts->seed, "initialisation and data");
  c->add_option("--log-every", opts->log_every, "print every N steps")->check(at_least<int>(1))->capture_default_str();
  auto common = std::make_shared<CommonFlags>();
  add_common_flags(c, *common, kThreads);
  c->callback([opts, common] {
    common->apply();
    run_demo(*opts);
  });
}

}  // namespace bertlab::cli
