// tests/fuzz/fuzz_optimizer_state.cpp — fuzz target for optimizer.safetensors as --resume reads
// it (train::load_optimizer_state, bert/train/run.cpp): the file's tensors are loaded into the
// moments of an AdamW over two named parameters, its metadata gives the step count. Any input
// loads or throws bertlab::Error; a loaded state has the parameters' shapes, and a step runs.
#include "bert/safetensors.h"
#include "bert/train/run.h"
#include "tests/fuzz/fuzz_common.h"

using namespace bertlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nn::ParamGroup g;
  g.params = {zeros({2, 3}), zeros({3})};
  g.names = {"dense.weight", "dense.bias"};
  for (Tensor& p : g.params) p.set_requires_grad(true);
  nn::AdamW opt({g}, 1e-3);
  fuzz::accept_errors([&] {
    const auto f = safetensors::File::from_memory(std::vector<uint8_t>(data, data + size), "optimizer.safetensors");
    train::load_optimizer_state(f, opt);
    FUZZ_CHECK(opt.steps_taken >= 0);
    for (const auto& [name, t] : opt.state()) (void)t.numel();
  });
  return 0;
}
