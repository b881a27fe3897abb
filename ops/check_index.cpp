// ops/check_index.cpp — find_bad_index: one kernel call (cpu or cuda), then the offending
// value is read back and its position spelled out as an index into the tensor.
#include "ops/check_index.h"

#include "cuda/index.h"
#include "ops/cpu/index.h"

namespace bertlab {

BadIndex find_bad_index(const Tensor& idx, int64_t bound, std::optional<int64_t> ignore) {
  Tensor ic = idx.contiguous();
  const int64_t n = ic.numel();
  int64_t at = -1;
  switch (ic.device()) {
    case Device::CPU: at = cpu::first_bad_index(ic.data<int64_t>(), n, bound, ignore.has_value(), ignore.value_or(0)); break;
    case Device::CUDA: at = cuda::first_bad_index(ic.data<int64_t>(), n, bound, ignore.has_value(), ignore.value_or(0)); break;
  }
  BadIndex bad;
  if (at < 0) return bad;
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

}  // namespace bertlab
