// tests/cuda/emu/fake/cub/device/device_radix_sort.cuh — CUB's SortPairs as a stable sort on
// the host, on the same key bits.
#pragma once

#include <numeric>

#include "../../cuda_runtime.h"

namespace cub {
struct DeviceRadixSort {
  template <typename K, typename V>
  static cudaError_t SortPairs(void* temp, size_t& temp_bytes, const K* keys_in, K* keys_out, const V* values_in, V* values_out,
                               int n, int begin_bit, int end_bit, cudaStream_t) {
    if (!temp) {
      temp_bytes = 64;
      return cudaSuccess;
    }
    const unsigned long long mask = end_bit >= 64 ? ~0ull : ((1ull << end_bit) - 1);
    auto key = [&](int i) { return ((unsigned long long)keys_in[i] & mask) >> begin_bit; };
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key(a) < key(b); });
    for (int i = 0; i < n; ++i) {
      keys_out[i] = keys_in[order[i]];
      values_out[i] = values_in[order[i]];
    }
    return cudaSuccess;
  }
};
}  // namespace cub
