// ops/check_index.cpp — find_bad_index: one kernel call (cpu or cuda), then the offending
// value is read back and its position spelled out as an index into the tensor.
#include "ops/check_index.h"

#include "cuda/index.h"
#include "ops/cpu/index.h"

namespace bertlab {

// The BadIndex for flat position `at` of the dense ic (reads the value: on CUDA, a wait).
static BadIndex bad_at(const Tensor& ic, int64_t at) {
  BadIndex bad;
  bad.found = true;
  bad.value = make_view(ic, {}, {}, ic.offset() + at).item_int();
  Shape pos(ic.dim());
  int64_t rem = at;
  for (int64_t d = ic.dim() - 1; d >= 0; --d) {
    pos[d] = rem % ic.shape()[d];
    rem /= ic.shape()[d];
  }
  bad.position = shape_str(pos);
  return bad;
}

BadIndex find_bad_index(const Tensor& idx, int64_t bound, std::optional<int64_t> ignore) {
  Tensor ic = idx.contiguous();
  const int64_t n = ic.numel();
  int64_t at = -1;
  switch (ic.device()) {
    case Device::CPU: at = cpu::first_bad_index(ic.data<int64_t>(), n, bound, ignore.has_value(), ignore.value_or(0)); break;
    case Device::CUDA: at = cuda::first_bad_index(ic.data<int64_t>(), n, bound, ignore.has_value(), ignore.value_or(0)); break;
  }
  return at < 0 ? BadIndex() : bad_at(ic, at);
}

void check_index(const Tensor& idx, int64_t bound, std::optional<int64_t> ignore,
                 std::function<std::string(const BadIndex&)> message) {
  if (idx.device() == Device::CUDA && cuda::deferred_index_checks()) {
    Tensor ic = idx.contiguous();  // kept by the report until the check is read
    cuda::check_index_deferred(ic.data<int64_t>(), ic.numel(), bound, ignore.has_value(), ignore.value_or(0),
                               [ic, message](int64_t at) { return message(bad_at(ic, at)); });
    return;
  }
  if (BadIndex bad = find_bad_index(idx, bound, ignore)) fail(message(bad));
}

}  // namespace bertlab
