// tests/ops/helpers.h — the assertions op tests share.
#pragma once

#include <doctest/doctest.h>

#include "ops/ops.h"
#include "tests/gradcheck.h"

// Runs a float64 gradcheck and fails with the worst element when it does not hold.
#define CHECK_GRADCHECK(fn, ...)                                                        \
  do {                                                                                  \
    auto gc_res_ = bertlab::testing::gradcheck(fn, __VA_ARGS__);                        \
    INFO("gradcheck: " << gc_res_.message);                                             \
    CHECK(gc_res_.ok);                                                                  \
  } while (0)

#define CHECK_CLOSE(got, ref, atol, rtol)                                               \
  do {                                                                                  \
    auto cl_res_ = bertlab::testing::allclose(got, ref, atol, rtol);                    \
    INFO("allclose: " << cl_res_.message);                                              \
    CHECK(cl_res_.ok);                                                                  \
  } while (0)

inline bertlab::Tensor f64(std::vector<double> v, bertlab::Shape s) {
  return bertlab::from_vector(v, s);
}
inline bertlab::Tensor f32(std::vector<float> v, bertlab::Shape s) {
  return bertlab::from_vector(v, s);
}
