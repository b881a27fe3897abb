// ops/check_index.h — the range check every indexing op runs before a kernel reads an index
// (embedding ids, cross-entropy targets, index_select / gather indices).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "autograd/tensor.h"

namespace bertlab {

// The first entry of idx that lies outside [0, bound) (entries equal to *ignore excepted).
struct BadIndex {
  int64_t value = 0;
  std::string position;  // as an index into idx: "[1, 2]"
  bool found = false;
  explicit operator bool() const { return found; }
};

// idx: int64, any shape, any layout, any device.
BadIndex find_bad_index(const Tensor& idx, int64_t bound, std::optional<int64_t> ignore = std::nullopt);

// The check every indexing op runs: throws message(bad) for the first entry of idx outside
// [0, bound) (entries equal to *ignore excepted). On the CPU, and on CUDA by default, at once
// (on CUDA the host waits for the answer). On CUDA with deferred index checks on
// (cuda/index.h), the check is queued without waiting and the same message is thrown at the
// next call that waits for the GPU (item(), a copy to the host, synchronize()).
void check_index(const Tensor& idx, int64_t bound, std::optional<int64_t> ignore,
                 std::function<std::string(const BadIndex&)> message);

}  // namespace bertlab
